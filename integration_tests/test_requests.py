"""Fewest requests: count=100 everywhere, /users/me once, nothing requested twice, nothing outside the window."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, catalog, minimum_requests, run_connector


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


def test_an_incremental_sync_with_no_changes_reads_only_the_window(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    first = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS))
    sandbox.clear_request_log()
    second = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS), first.state_messages())
    assert second.returncode == 0
    started = datetime.fromisoformat(first.states()["scheduled_events"]["last_sync_started_at"])
    window_start = (started - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    made = requests_made(sandbox)
    assert [r for r, n in Counter(made).items() if n > 1] == []
    assert len(made) == minimum_requests(sandbox, sandbox.tokens.admin, window_start) + 1
