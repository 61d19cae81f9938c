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
    # The most a page holds everywhere: 1,000 for the activity log, 100 elsewhere; none where Calendly pages nothing.
    unpaged = (
        "/users/me",
        "/organizations/",
        "/user_availability_schedules",
        "/event_type_availability_schedules",
        "/locations",
        "/contacts/custom_field_definitions",
        "/contact_lists",
    )
    for path, query in made:
        count = dict(query).get("count")
        if path.startswith(unpaged) and not path.endswith("/invitations"):
            assert count is None, path
        else:
            assert count == ("1000" if path == "/activity_log_entries" else "100"), path
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
        began = run.states()["event_invitees"]["last_sync_started_at"]
        expected = minimum_requests(
            sandbox,
            admin,
            window_start,
            started_events,
            states=previous.states(),
            sync_started=began,
            history_requests=budget,
        )
        expected += 1  # the token's own membership (role)
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


def test_every_stream_alone_costs_its_own_minimum(make_sandbox: Any) -> None:
    # A substream selected without its parent still reads the parent listing, once; users costs nothing more.
    sandbox: Sandbox = make_sandbox()
    selections = [
        ["users"],
        ["event_type_memberships", "event_type_availability_schedules"],
        ["user_availability_schedules", "organization_memberships", "users"],
        ["activity_log_entries"],
        ["webhook_subscriptions"],  # reads the memberships and the groups itself
        ["webhook_subscriptions", "groups", "organization_memberships"],
        ["locations"],  # reads the memberships itself
        ["meeting_recaps"],
    ]
    for streams in selections:
        sandbox.clear_request_log()
        run = run_connector("read", sandbox_config(sandbox), catalog(streams))
        assert run.returncode == 0 and run.errors() == []
        assert len(sandbox.request_log) == minimum_requests(sandbox, sandbox.tokens.admin, streams=streams) + 1, streams


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _started_by(moment: datetime, event: dict[str, Any]) -> bool:
    return _dt(event["start_time"]) <= moment
