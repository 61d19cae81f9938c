"""Compliance erasures reach the destination: the real connector against the sandbox, whose data-compliance
deletions (`Sandbox.erase_events`, `erase_invitees`, through the control API) make events and invitees vanish.
The next syncs send exactly their tombstones, once, and nothing else; a sync costs what it cost before."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from calendly_sandbox import Behaviour, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    INCREMENTAL,
    Run,
    catalog,
    history_walk_requests,
    invitee_walk_step,
    minimum_requests,
    run_connector,
)

CATALOG = catalog(ALL_STREAMS)
DELETED_AT = "_ab_cdc_deleted_at"
BUDGET = 30  # history requests: the invitee walk passes 23 events a sync


def sync(sandbox: Sandbox, previous: Run | None, **config: Any) -> Run:
    state = previous.state_messages() if previous else None
    run = run_connector("read", sandbox_config(sandbox, **config), CATALOG, state)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.errors() == []
    return run


def tombstones(run: Run, stream: str) -> list[str]:
    return [r["uri"] for r in run.records(stream) if r.get(DELETED_AT)]


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _started_by(moment: datetime, event: dict[str, Any]) -> bool:
    return _dt(event["start_time"]) <= moment


def test_erased_events_and_invitees_are_tombstoned_once_and_nothing_else_is(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    admin = sandbox.tokens.admin
    first = sync(sandbox, None)
    now = _dt(first.states()["scheduled_events"]["last_sync_started_at"])
    window_start = now - timedelta(days=7)
    events = sorted(sandbox.truth.scheduled_events(admin), key=lambda e: e["start_time"])
    history = [e for e in events if _dt(e["start_time"]) < window_start]
    # In the window (started two days ago or so), and among the oldest: the invitee walk's first step.
    recent = next(e for e in events if window_start + timedelta(days=3) < _dt(e["start_time"]) < now)
    old = history[3]
    erased_events: list[str] = []
    erased_invitees: list[str] = []
    for event in (recent, old):
        start = _dt(event["start_time"])
        done = sandbox.erase_events(_utc(start), _utc(start + timedelta(seconds=1)))["erased"]
        assert event["uri"] in done["events"]
        erased_events += done["events"]
        erased_invitees += done["invitees"]
    # An invitee of an old meeting, erased by email with a delay (Calendly: up to 7 days): none of the email's
    # meetings is upcoming, so every one of its invitees is read again within a cycle of the walk.
    remaining = sorted(sandbox.truth.scheduled_events(admin), key=lambda e: e["start_time"])
    starts: dict[str, list[datetime]] = {}
    for event in remaining:
        for invitee in sandbox.truth.invitees(event["uri"]):
            starts.setdefault(invitee["email"], []).append(_dt(event["start_time"]))
    by_email = next(
        invitee
        for event in remaining[10 : len(history)]
        for invitee in sandbox.truth.invitees(event["uri"])
        if max(starts[invitee["email"]]) < now
    )
    delayed = sandbox.erase_invitees([by_email["email"]], delay_days=7)
    assert delayed["erased"]["invitees"] == []  # not yet

    # The next sync: exactly the erased events and their invitees, at the cost of a sync where nothing changed.
    sandbox.clear_request_log()
    second = sync(sandbox, first)
    assert sorted(tombstones(second, "scheduled_events")) == sorted(erased_events)
    assert sorted(tombstones(second, "event_invitees")) == sorted(erased_invitees)
    assert tombstones(second, "routing_form_submissions") == []
    for stream in INCREMENTAL:
        assert [r for r in second.records(stream) if not r.get(DELETED_AT)] == [], stream
    began = second.states()["event_invitees"]["last_sync_started_at"]
    expected = minimum_requests(
        sandbox,
        admin,
        _utc(window_start),
        functools.partial(_started_by, _dt(began)),
        states=first.states(),
        sync_started=began,
    )
    made = [(e.path, tuple(sorted(e.query.items()))) for e in sandbox.request_log]
    assert [r for r, n in Counter(made).items() if n > 1] == []
    assert len(made) == expected + 1 + history_walk_requests(sandbox, admin, _utc(window_start), 200)

    # The erasure by email takes effect a week later; within one cycle of the invitee walk every invitee of that
    # email is tombstoned, once, and nothing else ever is.
    gone = sandbox.advance_clock(days=7)["erased"]["invitees"]
    assert by_email["uri"] in gone
    # A small budget, so that the walk takes several syncs: each tombstone comes with the step that passes it.
    cycle = -(-len(history) // invitee_walk_step(BUDGET))
    assert cycle >= 3
    seen: list[str] = []
    previous = second
    for _ in range(cycle + 1):
        run = sync(sandbox, previous, history_requests=BUDGET)
        assert tombstones(run, "scheduled_events") == []
        seen += tombstones(run, "event_invitees")
        for stream in INCREMENTAL:  # nothing changed but the erasure: nothing else comes
            assert [r for r in run.records(stream) if not r.get(DELETED_AT)] == [], stream
        previous = run
    assert sorted(seen) == sorted(gone)
    # The destination's truth: what remains is exactly the sandbox's.
    remaining = {i["uri"] for e in sandbox.truth.scheduled_events(admin) for i in sandbox.truth.invitees(e["uri"])}
    assert not remaining & set(gone + erased_invitees)


def test_a_vanished_submission_is_tombstoned_once_where_submissions_can_vanish(make_sandbox: Any) -> None:
    """Calendly documents no deletion of routing form submissions: `Behaviour(submissions_can_vanish=True)` lets the
    sandbox delete one; with the default, none vanishes and no tombstone ever comes."""
    for can_vanish in (False, True):
        sandbox: Sandbox = make_sandbox(behaviour=Behaviour(submissions_can_vanish=can_vanish))
        admin = sandbox.tokens.admin
        form = sandbox.truth.routing_forms(admin)[0]["uri"]  # the walk's first form: read whole by the next sync
        oldest = sorted(sandbox.truth.routing_form_submissions(admin, form_uri=form), key=lambda s: s["created_at"])
        recent = sandbox.add_form_submission(form)["submission"]  # in the next sync's window
        first = sync(sandbox, None)
        gone: list[str] = []
        if can_vanish:
            for submission in (recent, oldest[0]):
                gone.append(sandbox.delete_form_submission(submission["uri"])["submission"]["uri"])
        second = sync(sandbox, first)
        third = sync(sandbox, second)
        assert sorted(tombstones(second, "routing_form_submissions")) == sorted(gone)
        assert tombstones(third, "routing_form_submissions") == []
        for run in (second, third):
            assert tombstones(run, "scheduled_events") == tombstones(run, "event_invitees") == []
