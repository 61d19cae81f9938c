"""The windowed `updated_at` machinery every incremental stream shares (source_calendly/streams/incremental.py):
state messages and checkpoints, scope, lookback_days, a state from the future, resuming, the history walk, and
the slices of a fan-out substream. Exercised through scheduled_events and event_invitees, the streams built on
it, against the requests-mock fake; the small pure helpers are called directly."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode

from source_calendly.source import build_context
from source_calendly.streams.events import EventInvitees, ScheduledEvents
from source_calendly.streams.incremental import group_fingerprint, timestamp
from source_calendly.window import state_from_the_future
from unit_tests.fake_api import API, NOW, ORG, FakeCalendly, days, event, invitee, ts
from unit_tests.helpers import asked, config, final_states, records, run_read, stream_states, uris, warnings

EVENTS = ["scheduled_events", "event_invitees"]
HOUR = timedelta(hours=1)
MICROSECOND = timedelta(microseconds=1)


def group(
    uuid: str, start: datetime, updated: datetime, total: int = 2, active: int = 2, **extra: Any
) -> dict[str, Any]:
    return event(uuid, start, updated, invitees_counter={"total": total, "active": active, "limit": 10}, **extra)


def with_invitee(api: FakeCalendly, record: dict[str, Any], updated: datetime | None = None) -> dict[str, Any]:
    """Add an event with one invitee (updated with the event unless told otherwise); returns the invitee."""
    api.add_event(record)
    attendee = invitee(record, f"{record['uri'].rsplit('/', 1)[-1]}-inv", updated or timestamp(record, "updated_at"))
    api.invitees[record["uri"]].append(attendee)
    return attendee


def scheduled_event_queries(api: FakeCalendly) -> list[dict[str, list[str]]]:
    """The window's and the walk's listings, without the paging parameters."""
    return [{k: v for k, v in q.items() if k not in ("count", "page_token")} for q in api.paths("/scheduled_events")]


# group_fingerprint and timestamp ----------------------------------------------------------------------------------


def test_an_active_group_event_is_fingerprinted_by_its_id_end_and_counter() -> None:
    webinar = {
        "uri": f"{API}/scheduled_events/AAAABBBBCCCCDDDDEEEE",
        "status": "active",
        "invitees_counter": {"total": 5, "active": 3, "limit": 2},  # limit 2: the smallest group
    }
    assert group_fingerprint(webinar) == ("CCCCDDDDEEEE", (5, 3))  # the last 12 characters of the id
    assert group_fingerprint({**webinar, "uri": webinar["uri"] + "/"}) == ("CCCCDDDDEEEE", (5, 3))
    assert group_fingerprint({**webinar, "uri": f"{API}/scheduled_events/short"}) == ("short", (5, 3))
    # Ids are letters and digits: any of them may end one, and each is kept.
    assert group_fingerprint({**webinar, "uri": f"{API}/scheduled_events/ABCDEFGHIJKLMNOPQRSTUVWX"}) == (
        "MNOPQRSTUVWX",
        (5, 3),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"status": "canceled"},  # cancelling moves updated_at; nothing can be booked on it afterwards
        {"status": None},
        {"invitees_counter": None},
        {"invitees_counter": [5, 3, 2]},
        {"invitees_counter": {"total": 1, "active": 1, "limit": 1}},  # one invitee: a 1:1 event
        {"invitees_counter": {"total": 1, "active": 1, "limit": 0}},
        {"invitees_counter": {"total": 1, "active": 1}},
        {"invitees_counter": {"total": 1, "active": 1, "limit": "10"}},
        {"invitees_counter": {"total": None, "active": 1, "limit": 10}},
        {"invitees_counter": {"total": 1, "active": "1", "limit": 10}},
        {"invitees_counter": {"active": 1, "limit": 10}},
        {"invitees_counter": {"total": 1, "limit": 10}},
    ],
)
def test_only_active_events_with_a_readable_group_counter_are_fingerprinted(change: dict[str, Any]) -> None:
    base = {"uri": f"{API}/scheduled_events/g1", "status": "active", "invitees_counter": {"total": 1, "active": 1}}
    base["invitees_counter"]["limit"] = 10
    assert group_fingerprint(base) == ("g1", (1, 1))
    assert group_fingerprint({**base, **change}) is None


def test_timestamp_reads_utc_strings_and_nothing_else() -> None:
    assert timestamp({"updated_at": "2026-11-24T12:00:00.000000Z"}, "updated_at") == NOW
    assert timestamp({"start_time": "2026-11-24T12:00:00Z"}, "start_time") == NOW
    assert timestamp({"start_time": "2026-11-24T12:00:00Z"}, "updated_at") is None
    assert timestamp({"updated_at": None}, "updated_at") is None
    assert timestamp({"updated_at": "yesterday"}, "updated_at") is None


# state messages: first sync, checkpoints, the cursor ----------------------------------------------------------------


def test_a_first_sync_checkpoints_every_100_records_and_ends_with_the_cursor(api: FakeCalendly) -> None:
    for i in range(250):
        start = days(-200 + i)
        api.add_event(event(f"e{i:03}", start, min(start, NOW) - timedelta(days=2)))
    api.events[10]["updated_at"] = ts(NOW - HOUR)  # an old meeting edited just before the sync: the newest change
    out = run_read(["scheduled_events"])
    assert uris(out, "scheduled_events") == [e["uri"] for e in api.events]
    in_pass = {"scope": ORG, "history": {"since": ts(NOW)}}  # a first pass read all history: the walk needs none
    assert stream_states(out, "scheduled_events", keys=False) == [
        {**in_pass, "pass": {"started_at": ts(NOW), "resume_from": ts(days(-101)), "max_updated_at": ts(NOW - HOUR)}},
        {**in_pass, "pass": {"started_at": ts(NOW), "resume_from": ts(days(-1)), "max_updated_at": ts(NOW - HOUR)}},
        {
            "updated_at": ts(NOW - HOUR),
            "last_sync_started_at": ts(NOW),
            "scope": ORG,
            "groups": {},
            "history": {"since": ts(NOW)},
        },
    ]


def test_invitee_checkpoints_follow_pages_of_events_and_the_records_read(api: FakeCalendly) -> None:
    for i in range(150):
        start = days(-200 + i)
        with_invitee(api, event(f"e{i:03}", start, start - timedelta(days=2)))
    out = run_read(["event_invitees"])
    assert len(uris(out, "event_invitees")) == 150
    assert all(r["event_uri"] == r["event"] for r in records(out, "event_invitees"))
    in_pass = {"scope": ORG, "history": {"since": ts(NOW)}}
    assert stream_states(out, "event_invitees", keys=False) == [
        # after 100 invitees, inside the first page of events: what was emitted, but no resume point yet
        {**in_pass, "pass": {"started_at": ts(NOW), "max_updated_at": ts(days(-103))}},
        # the page's slice is done: everything up to its last event is handled
        {**in_pass, "pass": {"started_at": ts(NOW), "resume_from": ts(days(-101)), "max_updated_at": ts(days(-103))}},
        {
            "updated_at": ts(days(-53)),
            "last_sync_started_at": ts(NOW),
            "scope": ORG,
            "groups": {},
            "history": {"since": ts(NOW)},
        },
    ]


def test_the_slices_of_invitees_are_slim_pages_of_events_and_flag_the_last(api: FakeCalendly) -> None:
    for i in range(150):
        api.add_event(event(f"e{i:03}", days(-200 + i), days(-300)))
    context = build_context(config(), logging.getLogger("test"))
    stream = EventInvitees(parent=ScheduledEvents(context=context), context=context)
    slices = list(stream.stream_slices(SyncMode.incremental))
    # The invitee count rides along for the row estimate (each fake event has one invitee).
    slim = [{"uri": e["uri"], "start_time": e["start_time"], "invitees": 1} for e in api.events]
    assert slices == [{"parents": slim[:100], "last": False}, {"parents": slim[100:], "last": True}]


def test_an_empty_window_still_closes_its_pass(api: FakeCalendly) -> None:
    out = run_read(EVENTS)
    expected = {"last_sync_started_at": ts(NOW), "scope": ORG, "groups": {}, "history": {"since": ts(NOW)}}
    assert final_states(out) == {"scheduled_events": expected, "event_invitees": expected}


# scope, the future, full refresh -------------------------------------------------------------------------------------


def test_a_state_later_than_calendlys_clock_starts_over_with_the_exact_warning(api: FakeCalendly) -> None:
    api.add_event(event("a", days(-3), days(-4)))
    future = ts(NOW + timedelta(days=30))
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(days(-1)), "scope": ORG,
             "history": {"since": future}}  # fmt: skip
    out = run_read(["scheduled_events"], config(start_date="2026-01-01T00:00:00Z"), {"scheduled_events": saved})
    assert warnings(out) == [state_from_the_future("scheduled_events", NOW + timedelta(days=30), NOW)]
    assert uris(out, "scheduled_events") == [api.events[0]["uri"]]  # unchanged since the cursor, but read again
    assert scheduled_event_queries(api) == [
        {"organization": [ORG], "sort": ["start_time:asc"], "min_start_time": [asked("2026-01-01T00:00:00.000000Z")]}
    ]
    assert final_states(out, keys=False)["scheduled_events"] == {
        "updated_at": ts(days(-4)),
        "last_sync_started_at": ts(NOW),
        "scope": ORG,
        "groups": {},
        "history": {"since": ts(NOW)},
    }


def test_a_last_sync_start_later_than_calendlys_clock_is_guarded_like_the_cursor(api: FakeCalendly) -> None:
    # Only the last start is from the future: trusted, the window would start there and hide every booking.
    booked = api.add_event(event("booked", days(2), NOW - HOUR))
    future = NOW + timedelta(days=30)
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(future), "scope": ORG, "groups": {}}
    out = run_read(["scheduled_events"], config(start_date="2026-01-01T00:00:00Z"), {"scheduled_events": saved})
    assert warnings(out) == [state_from_the_future("scheduled_events", future, NOW)]
    assert uris(out, "scheduled_events") == [booked["uri"]]
    assert scheduled_event_queries(api)[-1]["min_start_time"] == [asked("2026-01-01T00:00:00.000000Z")]
    assert final_states(out)["scheduled_events"]["last_sync_started_at"] == ts(NOW)


def test_a_state_from_calendlys_present_is_trusted(api: FakeCalendly) -> None:
    api.add_event(event("a", days(-3), days(-4)))
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(NOW), "scope": ORG, "groups": {}}
    out = run_read(["scheduled_events"], state={"scheduled_events": saved})
    assert warnings(out) == [] and uris(out, "scheduled_events") == []
    assert scheduled_event_queries(api)[-1]["min_start_time"] == [asked(days(-7))]


def test_a_full_refresh_reads_everything_and_saves_a_fresh_state(api: FakeCalendly) -> None:
    api.add_event(event("a", days(-3), days(-4)))
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(days(-1)), "scope": ORG, "groups": {}}
    out = run_read(["scheduled_events"], state={"scheduled_events": saved}, full_refresh=True)
    assert uris(out, "scheduled_events") == [api.events[0]["uri"]]
    assert scheduled_event_queries(api) == [{"organization": [ORG], "sort": ["start_time:asc"]}]  # all history
    assert warnings(out) == []


def test_a_full_refresh_of_invitees_reads_every_event_whatever_the_saved_state(api: FakeCalendly) -> None:
    attendee = with_invitee(api, event("a", days(-30), days(-40)))
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(days(-1)), "scope": ORG, "groups": {}}
    out = run_read(["event_invitees"], state={"event_invitees": saved}, full_refresh=True)
    assert uris(out, "event_invitees") == [attendee["uri"]]  # before the window and unchanged, but read again
    assert scheduled_event_queries(api) == [{"organization": [ORG], "sort": ["start_time:asc"]}]


# group fingerprints and lookback_days --------------------------------------------------------------------------------


def test_group_fingerprints_are_kept_for_the_events_the_next_window_lists_again(api: FakeCalendly) -> None:
    lookback = timedelta(days=3)
    api.add_event(group("g-too-early", NOW - lookback - MICROSECOND, days(-10)))
    api.add_event(group("g-edge", NOW - lookback, days(-10), total=3, active=1))
    api.add_event(event("solo", days(1), days(-10)))
    api.add_event(group("g-upcoming", days(2), days(-10), total=4, active=4))
    api.add_event(group("g-canceled", days(3), days(-10), total=2, active=0, status="canceled"))
    api.add_event(group("g-undated", days(4), days(-10), total=5, active=5))
    api.events[-1]["start_time"] = "unreadable"  # sorts last; kept, so that it is not emitted every time
    out = run_read(["scheduled_events"], config(lookback_days=3))
    assert len(uris(out, "scheduled_events")) == 6  # a first sync emits everything
    assert final_states(out)["scheduled_events"]["groups"] == {
        "g-edge": [3, 1],
        "g-upcoming": [4, 4],
        "g-undated": [5, 5],
    }
    # The next sync lists from NOW - 3 days: nothing changed, so nothing is emitted.
    api.server_date = NOW + HOUR
    again = run_read(["scheduled_events"], config(lookback_days=3), state=final_states(out))
    assert uris(again, "scheduled_events") == []
    # That pass began an hour later: g-edge starts before the window after it, and is not kept any more.
    assert final_states(again)["scheduled_events"]["groups"] == {"g-upcoming": [4, 4], "g-undated": [5, 5]}


def test_a_state_without_fingerprints_counts_every_group_event_as_changed_once(api: FakeCalendly) -> None:
    api.add_event(event("solo", days(1), days(-10)))
    webinar = api.add_event(group("webinar", days(2), days(-10)))
    saved = {"updated_at": ts(days(-1)), "last_sync_started_at": ts(days(-1)), "scope": ORG}  # before fingerprints
    first = run_read(["scheduled_events"], config(history_requests=0), state={"scheduled_events": saved})
    assert uris(first, "scheduled_events") == [webinar["uri"]]
    assert final_states(first, keys=False)["scheduled_events"] == {
        "updated_at": ts(days(-1)),  # emitted for its counter, not for a change: the cursor stays
        "last_sync_started_at": ts(NOW),
        "scope": ORG,
        "groups": {"webinar": [2, 2]},
        "history": {},  # a state from before the walk: its first cycle emits all it passes
    }
    again = run_read(["scheduled_events"], config(history_requests=0), state=final_states(first))
    assert uris(again, "scheduled_events") == []


# the history walk ---------------------------------------------------------------------------------------------------


def saved_after_one_sync(since: datetime, **extra: Any) -> dict[str, Any]:
    """A state whose last pass began a day ago: the window now starts at NOW - 8 days (lookback 7)."""
    return {"updated_at": ts(days(-1)), "last_sync_started_at": ts(days(-1)), "scope": ORG, "groups": {},
            "history": {"since": ts(since), **extra}}  # fmt: skip


def test_the_walk_emits_what_changed_after_it_last_passed_and_starts_a_new_cycle(api: FakeCalendly) -> None:
    since = days(-20)
    at_since = with_invitee(api, event("at-since", days(-50), since))
    changed = with_invitee(api, event("changed", days(-40), since + MICROSECOND))
    with_invitee(api, event("earlier", days(-30), since - HOUR))
    gone = api.add_event(event("gone", days(-25), since + HOUR))  # deleted before its invitees are read
    del api.invitees[gone["uri"]]
    undated = with_invitee(api, event("undated", days(-24), since - HOUR))
    undated["updated_at"] = api.events[-1]["updated_at"] = None  # no readable updated_at: emitted, never skipped
    saved = {"scheduled_events": saved_after_one_sync(since), "event_invitees": saved_after_one_sync(since)}
    out = run_read(EVENTS, state=saved)
    assert uris(out, "scheduled_events") == [changed["event"], gone["uri"], undated["event"]]
    assert uris(out, "event_invitees") == [changed["uri"], undated["uri"]]
    assert [r["event_uri"] for r in records(out, "event_invitees")] == [changed["event"], undated["event"]]
    assert at_since["uri"] not in uris(out, "event_invitees")
    assert warnings(out) == [f"Event {gone['uri']} no longer exists (HTTP 404); its invitees are skipped."]
    walked = {
        "updated_at": ts(days(-1)),
        "last_sync_started_at": ts(NOW),
        "scope": ORG,
        "groups": {},
        "history": {"since": ts(NOW)},  # the walk reached the window: the next cycle emits what changes after now
    }
    assert final_states(out, keys=False) == {"scheduled_events": walked, "event_invitees": walked}
    # The walk lists what lies before the window: [all history, NOW - 8 days).
    assert {"organization": [ORG], "sort": ["start_time:asc"], "max_start_time": [ts(days(-8))]} in (
        scheduled_event_queries(api)
    )


def test_a_bounded_walk_of_invitees_checkpoints_where_it_stopped_and_goes_on_from_there(api: FakeCalendly) -> None:
    old = [with_invitee(api, event(f"old{i}", days(-60 + i), days(-70))) for i in range(4)]
    saved = {"event_invitees": saved_after_one_sync(days(-80))}
    for attendee in old:
        attendee["updated_at"] = ts(days(-2))  # every old invitee changed since the walk last passed
    # history_requests 5: 3 invitee requests, so 2 events (and the page listing 3) a sync.
    out = run_read(["event_invitees"], config(history_requests=5), state=saved)
    assert uris(out, "event_invitees") == [old[0]["uri"], old[1]["uri"]]
    assert stream_states(out, "event_invitees", keys=False)[0] == {  # the history slice's checkpoint
        **saved["event_invitees"],
        "history": {"position": ts(days(-58)), "since": ts(days(-80)), "cycle_began": ts(NOW)},  # next: old[2]
        "pass": {"started_at": ts(NOW), "window_start": ts(days(-8)), "max_updated_at": ts(days(-2))},
    }
    state = final_states(out)
    api.server_date = NOW + HOUR
    api.requests.clear()
    second = run_read(["event_invitees"], config(history_requests=5), state=state)
    assert uris(second, "event_invitees") == [old[2]["uri"], old[3]["uri"]]
    assert scheduled_event_queries(api)[0] == {
        "organization": [ORG],
        "sort": ["start_time:asc"],
        "min_start_time": [asked(days(-58))],
        "max_start_time": [ts(NOW - timedelta(days=7))],
    }
    assert final_states(second)["event_invitees"]["history"] == {"since": ts(NOW)}  # the cycle began at NOW


def test_no_walk_when_it_is_turned_off_or_start_date_is_the_window_start(api: FakeCalendly) -> None:
    api.add_event(event("old", days(-60), days(-2)))  # changed since the walk passed, before the window
    saved = {"scheduled_events": saved_after_one_sync(days(-80))}
    window = {"organization": [ORG], "sort": ["start_time:asc"], "min_start_time": [asked(days(-8))]}

    off = run_read(["scheduled_events"], config(history_requests=0), state=saved)
    assert uris(off, "scheduled_events") == [] and scheduled_event_queries(api) == [window]
    assert final_states(off)["scheduled_events"]["history"] == {"since": ts(days(-80))}

    api.requests.clear()
    smallest = run_read(["scheduled_events"], config(history_requests=1), state=saved)  # a page of events
    assert uris(smallest, "scheduled_events") == [api.events[0]["uri"]]
    assert scheduled_event_queries(api)[0]["max_start_time"] == [ts(days(-8))]

    api.requests.clear()
    at_window = run_read(["scheduled_events"], config(start_date=ts(days(-8))[:19] + "Z"), state=saved)
    assert uris(at_window, "scheduled_events") == [] and scheduled_event_queries(api) == [window]

    api.requests.clear()
    before = run_read(["scheduled_events"], config(start_date=ts(days(-8) - timedelta(seconds=1))[:19] + "Z"),
                      state=saved)  # fmt: skip
    assert uris(before, "scheduled_events") == []  # the old event starts before start_date
    assert scheduled_event_queries(api) == [
        {
            "organization": [ORG],
            "sort": ["start_time:asc"],
            "min_start_time": [asked(days(-8) - timedelta(seconds=1))],
            "max_start_time": [ts(days(-8))],
        },
        window,
    ]


# resuming -----------------------------------------------------------------------------------------------------------


def test_a_resumed_pass_reads_from_its_checkpoint_and_keeps_its_newest_change(api: FakeCalendly) -> None:
    for i in range(5):
        api.add_event(event(f"e{i}", days(-5 + i), days(-30)))
    checkpoint = {
        "updated_at": ts(days(-40)),
        "last_sync_started_at": ts(days(-10)),
        "scope": ORG,
        "groups": {},
        "history": {"since": ts(days(-10))},
        "pass": {
            "started_at": ts(days(-1)),
            "window_start": ts(days(-17)),
            "resume_from": ts(days(-3)),
            "max_updated_at": ts(days(-20)),
            "groups": {"early-group": [2, 1]},  # fingerprinted before the sync was killed
        },
    }
    out = run_read(["scheduled_events"], config(history_requests=0), state={"scheduled_events": checkpoint})
    assert uris(out, "scheduled_events") == [api.events[i]["uri"] for i in (2, 3, 4)]
    assert scheduled_event_queries(api) == [
        {"organization": [ORG], "sort": ["start_time:asc"], "min_start_time": [asked(days(-3))]}
    ]
    assert final_states(out, keys=False)["scheduled_events"] == {
        "updated_at": ts(days(-20)),  # the killed sync's newest change, later than what this one read
        "last_sync_started_at": ts(days(-1)),  # the pass began when the killed sync began
        "scope": ORG,
        "groups": {"early-group": [2, 1]},
        "history": {"since": ts(days(-10))},
    }
