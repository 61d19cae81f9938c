"""Incremental syncs, each started from the previous sync's final state, against a sandbox that changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, Run, catalog, run_connector, without_nulls

CATALOG = catalog(ALL_STREAMS)


def sync(sandbox: Sandbox, previous: Run | None, **config: Any) -> Run:
    state = previous.state_messages() if previous else None
    run = run_connector("read", sandbox_config(sandbox, num_workers=4, **config), CATALOG, state)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.errors() == []
    return run


def test_changes_between_syncs_are_all_caught_and_nothing_unchanged_comes_back(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    admin = sandbox.tokens.admin
    anchor = sandbox.anchor
    group_type = next(t["uri"] for t in sandbox.truth.event_types(admin) if t["kind"] == "group")
    group = sandbox.book_event(anchor + timedelta(days=4), event_type_uri=group_type, invitees=3)
    swapped = sandbox.book_event(anchor + timedelta(days=5), event_type_uri=group_type, invitees=2)
    first = sync(sandbox, None)
    assert first.counts()["scheduled_events"] == len(sandbox.truth.scheduled_events(admin))
    latest_synced_start = max(e["start_time"] for e in first.records("scheduled_events"))

    changed: dict[str, set[str]] = {
        "scheduled_events": set(),
        "event_invitees": set(),
        "routing_form_submissions": set(),
    }

    def note(result: dict[str, Any]) -> None:
        for value in result.values():
            for record in value if isinstance(value, list) else [value]:
                uri = record.get("uri", "") if isinstance(record, dict) else ""
                if "/invitees/" in uri:
                    changed["event_invitees"].add(uri)
                elif "/scheduled_events/" in uri:
                    changed["scheduled_events"].add(uri)
                elif "/routing_form_submissions/" in uri:
                    changed["routing_form_submissions"].add(uri)

    # A late booking for tomorrow, earlier than future events the first sync already saw.
    late = sandbox.book_event(anchor + timedelta(days=1))
    assert late["event"]["start_time"] < latest_synced_start
    note(late)
    events = sorted(sandbox.truth.scheduled_events(admin), key=lambda e: e["start_time"])
    upcoming = [e for e in events if e["status"] == "active" and e["start_time"] > late["event"]["start_time"]]
    upcoming_solo = [e for e in upcoming if e["invitees_counter"]["limit"] == 1 and e["uri"] != group["event"]["uri"]]
    # A cancellation of an already-synced event.
    canceled = sandbox.cancel_event(upcoming_solo[0]["uri"], reason="Host is sick")
    note(canceled)
    # One invitee of a group event cancels; the event stays active.
    group_cancel = sandbox.cancel_invitee(group["invitees"][1]["uri"], reason="Can't make it")
    assert group_cancel["event"]["status"] == "active"
    note({"invitee": group_cancel["invitee"]})
    # Another group event: one invitee joins, another cancels. Its active count is where it was; its total moved.
    joined = sandbox.join_group_event(swapped["event"]["uri"])
    left = sandbox.cancel_invitee(swapped["invitees"][0]["uri"])
    assert left["event"]["invitees_counter"] == {**swapped["event"]["invitees_counter"], "total": 3}
    note({"joined": joined["invitee"], "left": left["invitee"]})
    # A reschedule of another upcoming event's invitee.
    moved_event = upcoming_solo[1]
    moved_invitee = sandbox.truth.invitees(moved_event["uri"])[0]
    note(sandbox.reschedule(moved_invitee["uri"], anchor + timedelta(days=9)))
    # A no-show on an event of the last few days (inside the lookback window).
    recent = [
        e for e in events if anchor - timedelta(days=5) < _dt(e["start_time"]) < anchor and e["status"] == "active"
    ]
    no_show_invitee = next(i for e in recent for i in sandbox.truth.invitees(e["uri"]) if i["status"] == "active")
    note(sandbox.mark_no_show(no_show_invitee["uri"]))
    # A new routing form submission.
    form = sandbox.truth.routing_forms(admin)[0]["uri"]
    note(sandbox.add_form_submission(form))

    sandbox.clear_request_log()
    # The history walk is off here: it has its own tests (test_history.py); this one is about the window.
    second = sync(sandbox, first, history_requests=0)
    # The group events come back because their counters changed (their updated_at did not): no other group event.
    changed["scheduled_events"] |= {group["event"]["uri"], swapped["event"]["uri"]}
    for stream, expected in changed.items():
        assert set(second.uris(stream)) == expected, stream
    emitted_group = next(r for r in second.records("scheduled_events") if r["uri"] == group["event"]["uri"])
    assert emitted_group["invitees_counter"]["active"] == 2  # three booked, one canceled
    # What was emitted is the current truth, cancellation details and all.
    truth_events = {e["uri"]: without_nulls(e) for e in sandbox.truth.scheduled_events(admin)}
    for record in second.records("scheduled_events"):
        assert record == truth_events[record["uri"]]
    canceled_record = next(r for r in second.records("scheduled_events") if r["uri"] == upcoming_solo[0]["uri"])
    assert canceled_record["status"] == "canceled" and canceled_record["cancellation"]["reason"] == "Host is sick"
    invitees = {r["uri"]: r for r in second.records("event_invitees")}
    assert invitees[group["invitees"][1]["uri"]]["status"] == "canceled"
    assert invitees[group["invitees"][1]["uri"]]["event_uri"] == group["event"]["uri"]
    assert invitees[no_show_invitee["uri"]]["no_show"] is not None
    assert invitees[moved_invitee["uri"]]["rescheduled"] is True
    # Full-refresh streams are read whole every time.
    assert second.counts()["event_types"] == len(sandbox.truth.event_types(admin))
    # No invitee request for an event that started before the window (previous start - 7 days).
    window_start = _dt(first.states()["event_invitees"]["last_sync_started_at"]) - timedelta(days=7)
    old_events = {e["uri"].rsplit("/", 1)[1] for e in events if _dt(e["start_time"]) < window_start}
    invitee_requests = [e.path for e in sandbox.request_log if e.path.endswith("/invitees")]
    assert invitee_requests and not [p for p in invitee_requests if p.split("/")[2] in old_events]
    # Nor for an upcoming event that shows no change: only events that started since the window start, those
    # whose record changed since the first sync began, and the group events whose counters moved.
    second_started = _dt(second.states()["event_invitees"]["last_sync_started_at"])
    first_started = _dt(first.states()["event_invitees"]["last_sync_started_at"])
    visited = {
        e["uri"].rsplit("/", 1)[1]
        for e in sandbox.truth.scheduled_events(admin)
        if _dt(e["start_time"]) >= window_start
        and (
            _dt(e["start_time"]) <= second_started
            or _dt(e["updated_at"]) >= first_started
            or e["uri"] in (group["event"]["uri"], swapped["event"]["uri"])
        )
    }
    assert sorted(p.split("/")[2] for p in invitee_requests) == sorted(visited)

    third = sync(sandbox, second, history_requests=0)
    for stream in ("scheduled_events", "event_invitees", "routing_form_submissions"):
        assert third.records(stream) == [], stream


def _dt(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def test_a_state_from_the_future_warns_and_does_not_silence_the_stream(make_sandbox: Any) -> None:
    """A state copied from a clock-skewed machine (cursor and last start in 2999) must not hide new bookings."""
    sandbox: Sandbox = make_sandbox()
    first = sync(sandbox, None)
    future = {"updated_at": "2999-01-01T00:00:00.000000Z", "last_sync_started_at": "2999-01-01T00:00:00.000000Z"}
    skewed = [
        {**m, "stream": {**m["stream"], "stream_state": {**m["stream"]["stream_state"], **future}}}
        for m in first.state_messages()
    ]
    booked = sandbox.book_event(sandbox.anchor + timedelta(days=2))
    run = run_connector("read", sandbox_config(sandbox, history_requests=0), CATALOG, skewed)
    assert run.returncode == 0, run.stderr[-3000:]
    assert booked["event"]["uri"] in run.uris("scheduled_events")
    assert booked["invitees"][0]["uri"] in run.uris("event_invitees")
    for stream in ("scheduled_events", "event_invitees", "routing_form_submissions"):
        [warning] = [w for w in run.warnings() if f"Stream {stream}: the saved state holds 2999" in w]
        assert "later than Calendly's clock" in warning and "start_date" in warning
        assert not run.states()[stream]["updated_at"].startswith("2999"), stream
    # The next sync, from the repaired state, is an ordinary incremental one.
    after = sync(sandbox, run, history_requests=0)
    assert [w for w in after.warnings() if "later than Calendly's clock" in w] == []
    assert after.records("scheduled_events") == []
