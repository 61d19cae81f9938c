"""Late changes before the lookback window, caught by the history walk without a full refresh; and the two
unconfirmed Calendly behaviours the design depends on, with the sandbox run both ways."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from calendly_sandbox import Behaviour, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, INCREMENTAL, Run, catalog, invitee_walk_step, run_connector

CATALOG = catalog(ALL_STREAMS)
BUDGET = 30  # small, so that the invitee walk needs several syncs over the small organization's history


def sync(sandbox: Sandbox, previous: Run | None, **config: Any) -> Run:
    state = previous.state_messages() if previous else None
    run = run_connector("read", sandbox_config(sandbox, **config), CATALOG, state)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.errors() == []
    return run


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_late_changes_before_the_window_are_emitted_within_one_walk_cycle(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    admin = sandbox.tokens.admin
    first = sync(sandbox, None)
    anchor = sandbox.anchor
    events = sandbox.truth.scheduled_events(admin)
    # A no-show marked on a meeting 60 days ago, notes added to one 90 days ago, and a submission from 60 days
    # ago whose submitter booked only now: all long before the 7-day lookback window.
    old_meeting = next(
        e for e in events if e["status"] == "active" and anchor - timedelta(days=60) <= _dt(e["start_time"])
    )
    no_show = next(i for i in sandbox.truth.invitees(old_meeting["uri"]) if i["status"] == "active")
    sandbox.mark_no_show(no_show["uri"])
    noted = next(e for e in events if anchor - timedelta(days=90) <= _dt(e["start_time"]))
    sandbox.edit_meeting_notes(noted["uri"], "Follow up with pricing")
    form = sandbox.truth.routing_forms(admin)[0]["uri"]  # the walk's first form: the oldest
    submission = next(
        s
        for s in sandbox.truth.routing_form_submissions(admin, form_uri=form)
        if _dt(s["created_at"]) < anchor - timedelta(days=60)
    )
    sandbox.link_submission(submission["uri"], no_show["uri"])

    window_start = _dt(first.states()["event_invitees"]["last_sync_started_at"]) - timedelta(days=7)
    history = [e for e in events if _dt(e["start_time"]) < window_start]
    cycle = -(-len(history) // invitee_walk_step(BUDGET))  # syncs for the invitee walk to cover all history
    assert cycle >= 3, "the walk must take several syncs for this test to mean anything"
    emitted: dict[str, list[int]] = {}
    previous = first
    for number in range(1, cycle + 2):
        run = sync(sandbox, previous, history_requests=BUDGET)
        for stream in INCREMENTAL:
            for uri in run.uris(stream):
                emitted.setdefault(uri, []).append(number)
        previous = run
    # Event records and submissions are re-listed cheaply: seen by the first sync. Invitees: within a cycle.
    assert emitted[noted["uri"]] == [1]
    assert emitted[submission["uri"]] == [1]
    [seen_at] = emitted[no_show["uri"]]
    assert seen_at <= cycle
    # Nothing else came back, and nothing came back twice.
    assert set(emitted) == {noted["uri"], submission["uri"], no_show["uri"]}


def test_a_notes_edit_that_keeps_updated_at_is_not_seen_by_incremental_syncs(make_sandbox: Any) -> None:
    """If Calendly did not move an event's updated_at when its notes are edited (unconfirmed), nothing but a
    full refresh would see the edit: the connector has no other sign of it."""
    sandbox: Sandbox = make_sandbox(behaviour=Behaviour(notes_move_updated_at=False))
    first = sync(sandbox, None)
    events = sandbox.truth.scheduled_events(sandbox.tokens.admin)
    past = next(e for e in events if _dt(e["start_time"]) < sandbox.anchor - timedelta(days=30))
    upcoming = next(e for e in events if _dt(e["start_time"]) > sandbox.anchor + timedelta(days=3))
    for event in (past, upcoming):
        sandbox.edit_meeting_notes(event["uri"], "Edited without moving updated_at")
    second = sync(sandbox, first)  # the event walk re-lists all this history in one sync
    third = sync(sandbox, second)
    assert second.records("scheduled_events") == [] and third.records("scheduled_events") == []
    refreshed = run_connector("read", sandbox_config(sandbox), catalog(["scheduled_events"], full_refresh=True))
    notes = {r["uri"]: r.get("meeting_notes_plain") for r in refreshed.records("scheduled_events")}
    assert notes[past["uri"]] == notes[upcoming["uri"]] == "Edited without moving updated_at"


@pytest.mark.parametrize("moves", [False, True], ids=["updated_at-stays", "updated_at-moves"])
def test_group_invitee_changes_are_caught_whether_or_not_the_event_updated_at_moves(
    make_sandbox: Any, moves: bool
) -> None:
    """Calendly does not say whether a group invitee booking or cancelling moves the event's updated_at. The
    fingerprints of group counters catch both, either way, without emitting any other group event."""
    sandbox: Sandbox = make_sandbox(behaviour=Behaviour(group_changes_move_updated_at=moves))
    admin = sandbox.tokens.admin
    group_type = next(t["uri"] for t in sandbox.truth.event_types(admin) if t["kind"] == "group")
    later = sandbox.anchor + timedelta(days=10)
    joined = sandbox.book_event(later, event_type_uri=group_type, invitees=2)["event"]
    left = sandbox.book_event(later + timedelta(hours=2), event_type_uri=group_type, invitees=3)
    first = sync(sandbox, None)
    newcomer = sandbox.join_group_event(joined["uri"])
    canceled = sandbox.cancel_invitee(left["invitees"][0]["uri"])
    assert canceled["event"]["status"] == "active"
    assert (newcomer["event"]["updated_at"] != joined["updated_at"]) is moves
    sandbox.clear_request_log()
    second = sync(sandbox, first, history_requests=0)
    events = {r["uri"]: r for r in second.records("scheduled_events")}
    assert set(events) == {joined["uri"], left["event"]["uri"]}
    assert events[joined["uri"]]["invitees_counter"]["active"] == 3
    assert events[left["event"]["uri"]]["invitees_counter"]["active"] == 2
    assert set(second.uris("event_invitees")) == {newcomer["invitee"]["uri"], canceled["invitee"]["uri"]}
    # Of the upcoming events, only these two had their invitees read.
    starts = {e["uri"].rsplit("/", 1)[1]: _dt(e["start_time"]) for e in sandbox.truth.scheduled_events(admin)}
    began = _dt(second.states()["event_invitees"]["last_sync_started_at"])
    read = [e.path.split("/")[2] for e in sandbox.request_log if e.path.endswith("/invitees")]
    assert {uuid for uuid in read if starts[uuid] > began} == {
        joined["uri"].rsplit("/", 1)[1],
        left["event"]["uri"].rsplit("/", 1)[1],
    }
    third = sync(sandbox, second, history_requests=0)
    for stream in INCREMENTAL:
        assert third.records(stream) == [], stream
