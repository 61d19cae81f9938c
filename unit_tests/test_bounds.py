"""Lower time bounds (source_calendly/bounds.py): every listing from an instant holds whether Calendly reads its
`min_*` filter as "at or after" or "strictly after" (`exclusive_min_filters` in the fake)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from source_calendly.bounds import MARGIN, Floor
from unit_tests.fake_api import API, EXPIRED_TOKEN, NOW, ORG, FakeCalendly, Fault, days, event, invitee, ts
from unit_tests.helpers import asked, config, final_states, invitees_synced, records, run_read, stream_states, uris

READINGS = pytest.mark.parametrize("exclusive", [False, True], ids=["inclusive", "exclusive"])


def test_a_floor_asks_a_second_early_and_drops_what_lies_before_it() -> None:
    floor = Floor("start_time", "min_start_time", NOW)
    assert floor.query() == {"min_start_time": ts(NOW - MARGIN)}
    assert floor.below({"start_time": ts(NOW - timedelta(microseconds=1))})
    assert not floor.below({"start_time": ts(NOW)})
    assert not floor.below({"start_time": "unreadable"}) and not floor.below({})  # kept: nothing says it is old


def crowd(api: FakeCalendly, n: int, at: float, prefix: str = "c") -> list[dict[str, Any]]:
    """n events that all start at one instant, `at` days from NOW, each with one invitee."""
    added = []
    for i in range(n):
        e = api.add_event(event(f"{prefix}{i:03}", days(at), days(-300)))
        api.invitees[e["uri"]].append(invitee(e, f"{prefix}i{i:03}", days(-300)))
        added.append(e)
    return added


@READINGS
def test_an_expired_page_token_restart_at_a_crowded_instant_loses_nothing(api: FakeCalendly, exclusive: bool) -> None:
    api.exclusive_min_filters = exclusive
    before = [api.add_event(event(f"b{i:03}", days(-100 + i * 0.1), days(-300))) for i in range(60)]
    crowded = crowd(api, 120, -50)  # the first page ends inside them: the restart starts at their instant
    after = [api.add_event(event(f"a{i:03}", days(-40 + i), days(-300))) for i in range(30)]
    api.faults.append(Fault(r"^/scheduled_events$", 400, EXPIRED_TOKEN, query_has="page_token"))
    out = run_read(["scheduled_events"])
    assert uris(out, "scheduled_events") == [e["uri"] for e in (*before, *crowded, *after)]  # each once, in order
    restart = [q for q in api.paths("/scheduled_events") if "min_start_time" in q]
    assert restart[0]["min_start_time"] == [asked(days(-50))]


@READINGS
def test_a_killed_sync_resumed_at_a_crowded_instant_loses_nothing(api: FakeCalendly, exclusive: bool) -> None:
    api.exclusive_min_filters = exclusive
    crowd(api, 150, -50)  # the checkpoint after the first page stands at this instant, 50 events short of it
    api.faults.append(Fault(r"^/scheduled_events$", 500, times=100, query_has="page_token"))
    first = run_read(["scheduled_events"], expect_error=True)
    checkpoint = stream_states(first, "scheduled_events")[-1]
    assert checkpoint["pass"]["resume_from"] == ts(days(-50))
    assert len(uris(first, "scheduled_events")) == 100
    api.faults.clear()
    second = run_read(["scheduled_events"], state={"scheduled_events": checkpoint})
    assert set(uris(first, "scheduled_events")) | set(uris(second, "scheduled_events")) == {
        e["uri"] for e in api.events
    }


@READINGS
def test_the_window_includes_an_event_starting_exactly_at_its_start(api: FakeCalendly, exclusive: bool) -> None:
    api.exclusive_min_filters = exclusive
    first = run_read(["scheduled_events"], config(history_requests=0))
    at_start = api.add_event(event("edge", NOW - timedelta(days=7), NOW + timedelta(minutes=30)))
    api.server_date = NOW + timedelta(hours=1)
    second = run_read(["scheduled_events"], config(history_requests=0), state=final_states(first))
    assert uris(second, "scheduled_events") == [at_start["uri"]]  # the window starts at NOW - 7 days


def entry(i: int, at: str) -> dict[str, Any]:
    return {"uri": f"{API}/activity_log_entries/e{i:03}", "occurred_at": at, "organization": ORG}


@READINGS
def test_the_activity_log_continues_from_its_cursor_without_loss_or_repeats(api: FakeCalendly, exclusive: bool) -> None:
    api.exclusive_min_filters = exclusive
    instant = ts(days(-1))
    api.activity = [entry(i, ts(days(-3 + i * 0.1))) for i in range(5)] + [entry(50 + i, instant) for i in range(3)]
    first = run_read(["activity_log_entries"])
    assert len(uris(first, "activity_log_entries")) == 8
    state = final_states(first)
    assert state["activity_log_entries"]["keys_at_cursor"] == [
        f"{API}/activity_log_entries/e{50 + i:03}" for i in range(3)
    ]
    # One more entry at the cursor's own instant shows up after the first sync, and one later.
    api.activity += [entry(60, instant), entry(61, ts(days(-0.5)))]
    api.activity.sort(key=lambda e: (e["occurred_at"], e["uri"]))
    second = run_read(["activity_log_entries"], state=state)
    assert uris(second, "activity_log_entries") == [
        f"{API}/activity_log_entries/e060",
        f"{API}/activity_log_entries/e061",
    ]
    third = run_read(["activity_log_entries"], state=final_states(second))
    assert uris(third, "activity_log_entries") == []


def message(i: int, at: str) -> dict[str, Any]:
    return {"type": "email", "to": f"p{i}@example.com", "event_uri": f"{API}/scheduled_events/ev{i}", "created_at": at}


@READINGS
def test_outgoing_communications_keep_a_message_that_appears_at_the_cursors_instant(
    api: FakeCalendly, exclusive: bool
) -> None:
    api.exclusive_min_filters = exclusive
    instant = ts(days(-2))
    api.outgoing = [message(1, ts(days(-5))), message(2, instant)]
    state = final_states(run_read(["outgoing_communications"]))
    api.outgoing.append(message(3, instant))  # written at the same instant, visible only now
    second = run_read(["outgoing_communications"], state=state)
    assert [r["to"] for r in records(second, "outgoing_communications")] == ["p3@example.com"]
    assert len(final_states(second)["outgoing_communications"]["keys_at_cursor"]) == 2


def test_contacts_keep_a_contact_updated_at_the_cursors_instant(api: FakeCalendly) -> None:
    instant = ts(days(-2))
    contact = lambda i, at: {"uri": f"{API}/contacts/c{i}", "created_at": ts(days(-400)), "updated_at": at}  # noqa: E731
    api.contacts = [contact(1, ts(days(-5))), contact(2, instant)]
    state = final_states(run_read(["contacts"]))
    api.contacts.append(contact(3, instant))
    second = run_read(["event_invitees", "contacts"], state={**state, "event_invitees": invitees_synced(NOW)})
    assert uris(second, "contacts") == [f"{API}/contacts/c3"]  # c2 is not emitted again; c1 ends the listing
    assert len([q for q in api.paths("/contacts") if q["sort"] == ["updated_at:desc"]]) == 2
