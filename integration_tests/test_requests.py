"""Fewest requests: count=100 everywhere, /users/me once, nothing requested twice, nothing outside the window."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    INCREMENTAL,
    catalog,
    history_walk_requests,
    minimum_requests,
    run_connector,
)


def requests_made(sandbox: Sandbox) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(e.path, tuple(sorted((k, str(v)) for k, v in e.query.items()))) for e in sandbox.request_log]


def test_a_full_sync_makes_the_minimum_requests_and_repeats_none(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    run = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS))
    assert run.returncode == 0
    made = requests_made(sandbox)
    repeated = [r for r, n in Counter(made).items() if n > 1]
    assert repeated == []
    assert [p for p, _ in made].count("/users/me") == 1
    assert all(dict(q).get("count") == "100" for p, q in made if p != "/users/me")
    assert len(made) == minimum_requests(sandbox, sandbox.tokens.admin) + 1  # + the token's own membership (role)


def test_an_incremental_sync_with_no_changes_costs_what_can_have_changed_and_emits_nothing(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    admin = sandbox.tokens.admin
    first = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS))
    previous = first
    for budget in (0, 200):
        sandbox.clear_request_log()
        config = sandbox_config(sandbox, history_requests=budget)
        run = run_connector("read", config, catalog(ALL_STREAMS), previous.state_messages())
        assert run.returncode == 0, run.stderr[-2000:]
        window_start = _utc(_dt(previous.states()["scheduled_events"]["last_sync_started_at"]) - timedelta(days=7))
        started = _dt(run.states()["event_invitees"]["last_sync_started_at"])
        made = requests_made(sandbox)
        assert [r for r, n in Counter(made).items() if n > 1] == []
        # Invitees only of the events that started since the window start: no upcoming event changed.
        started_events = functools.partial(_started_by, started)
        expected = minimum_requests(sandbox, admin, window_start, started_events) + 1
        walk = history_walk_requests(sandbox, admin, window_start, budget) if budget else 0
        assert walk > 0 or budget == 0
        assert len(made) == expected + walk, budget
        for stream in INCREMENTAL:
            assert run.records(stream) == [], (budget, stream)
        # The state holds one fingerprint per active group event of the next sync's window, nothing else.
        next_window = started - timedelta(days=7)
        groups = {
            e["uri"].rsplit("/", 1)[1][-12:]
            for e in sandbox.truth.scheduled_events(admin)
            if e["status"] == "active" and e["invitees_counter"]["limit"] > 1 and _dt(e["start_time"]) >= next_window
        }
        assert set(run.states()["scheduled_events"]["groups"]) == groups
        previous = run


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _started_by(moment: datetime, event: dict[str, Any]) -> bool:
    return _dt(event["start_time"]) <= moment
