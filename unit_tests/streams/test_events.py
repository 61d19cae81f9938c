"""scheduled_events and event_invitees through the real entrypoint, against the requests-mock fake."""

import threading
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from airbyte_cdk.models import FailureType

from source_calendly.spool import ListingSpool
from source_calendly.streams.base import MAX_PAGE_TOKEN_RESTARTS
from source_calendly.streams.incremental import timestamp
from unit_tests.fake_api import (
    EXPIRED_TOKEN,
    MEMBER_TOKEN,
    MEMBER_USER,
    NOW,
    ORG,
    FakeCalendly,
    Fault,
    cancel,
    days,
    event,
    invitee,
    ts,
)
from unit_tests.helpers import (
    asked,
    config,
    error_messages,
    failure_types,
    final_states,
    records,
    run_read,
    stream_states,
    uris,
    warnings,
)

EVENTS = ["scheduled_events", "event_invitees"]


def seed(api: FakeCalendly, n: int = 250, host: str | None = None) -> None:
    """n events, one a day from 200 days ago, last updated when they were booked (before NOW)."""
    for i in range(n):
        start = days(-200 + i)
        updated = min(start, NOW) - timedelta(days=2)
        e = api.add_event(event(f"e{i:03}", start, updated, **({"host": host} if host else {})))
        api.invitees[e["uri"]].append(invitee(e, f"i{i:03}", updated))


def test_full_sync_pages_through_everything_with_count_100(api: FakeCalendly) -> None:
    seed(api)
    out = run_read(EVENTS)
    assert len(set(uris(out, "scheduled_events"))) == 250
    assert len(uris(out, "event_invitees")) == 250
    assert all(q["count"] == ["100"] for q in api.paths("/scheduled_events"))
    assert len([q for p, q in api.requests if p == "/scheduled_events" and "page_token" in q]) >= 2
    for record in records(out, "event_invitees"):
        assert record["event_uri"] == record["event"]
        assert record["uri"].startswith(record["event_uri"] + "/invitees/")
    assert api.paths("/scheduled_events")[0]["sort"] == ["start_time:asc"]
    assert "min_start_time" not in api.paths("/scheduled_events")[0]  # no start_date: all history


def test_start_date_bounds_the_first_sync_and_upcoming_events_are_included(api: FakeCalendly) -> None:
    seed(api)
    out = run_read(["scheduled_events"], config(start_date=ts(days(-10))[:19] + "Z"))
    starts = [r["start_time"] for r in records(out, "scheduled_events")]
    assert min(starts) >= ts(days(-10)) and max(starts) > ts(NOW)  # future events too: no upper bound
    assert "max_start_time" not in api.paths("/scheduled_events")[0]


def test_admin_reads_the_organization(api: FakeCalendly) -> None:
    seed(api, 3)
    out = run_read([*EVENTS, "event_types"])
    assert all("organization" in q and "user" not in q for q in api.paths("/scheduled_events"))
    assert "organization" in api.paths("/event_types")[0]
    assert not [w for w in warnings(out) if "admin or owner" in w]


def test_non_admin_falls_back_to_own_data_with_one_warning(api: FakeCalendly) -> None:
    seed(api, 3, host=MEMBER_USER)
    api.add_event(event("someone-else", days(1), days(-1)))
    out = run_read([*EVENTS, "event_types"], config(personal_access_token=MEMBER_TOKEN))
    assert all(q.get("user") == [MEMBER_USER] and "organization" not in q for q in api.paths("/scheduled_events"))
    assert api.paths("/event_types")[0].get("user") == [MEMBER_USER]
    assert len(uris(out, "scheduled_events")) == 3
    scope_warnings = [w for w in warnings(out) if "admin or owner" in w]
    assert len(scope_warnings) == 1 and "Max Member" in scope_warnings[0]


def test_a_state_saved_for_another_scope_starts_over_instead_of_missing_records(api: FakeCalendly) -> None:
    # A member's token first (own events only), then the admin's token the warning asked for: the members'
    # cursor says nothing about the other hosts' events, all updated long before it.
    seed(api, 3, host=MEMBER_USER)
    for i in range(4):
        api.add_event(event(f"org-{i}", days(-100 + i), days(-150)))
    member = final_states(run_read(EVENTS, config(personal_access_token=MEMBER_TOKEN)))
    assert member["scheduled_events"]["scope"] == MEMBER_USER
    api.server_date = NOW + timedelta(days=1)
    out = run_read(EVENTS, state=member)
    assert len(uris(out, "scheduled_events")) == 7 and len(uris(out, "event_invitees")) == 3
    assert final_states(out)["scheduled_events"]["scope"] == ORG
    assert (
        "Stream scheduled_events: the saved state describes "
        f"{MEMBER_USER}'s records, but this sync reads {ORG}'s (a token of another user or role). Reading from "
        "start_date again, so that no record is missed; records already in the destination are emitted again."
    ) in warnings(out)
    # The same scope again: the cursor holds, nothing unchanged comes back.
    again = run_read(EVENTS, state=final_states(out))
    assert uris(again, "scheduled_events") == [] and not any("another user or role" in w for w in warnings(again))


def test_group_events_in_the_window_are_emitted_again_so_their_counters_stay_current(api: FakeCalendly) -> None:
    seed(api, 5)  # solo events, unchanged between the syncs
    webinar = api.add_event(
        event("webinar", days(3), days(-5), invitees_counter={"total": 2, "active": 2, "limit": 10})
    )
    old_webinar = api.add_event(  # a group event that started before the next window
        event("old-webinar", days(-100), days(-101), invitees_counter={"total": 1, "active": 1, "limit": 10})
    )
    state = final_states(run_read(["scheduled_events"]))
    # One of the webinar's invitees cancels: only the counter changes, not the event's updated_at.
    webinar["invitees_counter"] = {"total": 2, "active": 1, "limit": 10}
    api.server_date = NOW + timedelta(hours=2)
    out = run_read(["scheduled_events"], state=state)
    assert uris(out, "scheduled_events") == [webinar["uri"]]
    assert records(out, "scheduled_events")[0]["invitees_counter"]["active"] == 1
    assert old_webinar["uri"] not in uris(out, "scheduled_events")
    # Emitted for its kind, not for a change: the cursor does not move.
    assert final_states(out)["scheduled_events"]["updated_at"] == state["scheduled_events"]["updated_at"]


def test_a_changed_group_event_moves_the_cursor_like_any_other_change(api: FakeCalendly) -> None:
    # Group events are emitted for their kind too, but one that really changed must still count towards the
    # cursor, else the next sync's cursor lags behind what it emitted.
    seed(api, 5)
    webinar = api.add_event(
        event("webinar", days(3), days(-5), invitees_counter={"total": 2, "active": 2, "limit": 10})
    )
    state = final_states(run_read(["scheduled_events"]))
    api.server_date = NOW + timedelta(hours=2)
    webinar.update(name="Webinar, renamed", updated_at=ts(NOW + timedelta(hours=1)))
    out = run_read(["scheduled_events"], state=state)
    assert uris(out, "scheduled_events") == [webinar["uri"]]
    assert final_states(out)["scheduled_events"]["updated_at"] == ts(NOW + timedelta(hours=1))


def test_lookback_days_sets_how_far_before_the_last_sync_the_next_one_reads(api: FakeCalendly) -> None:
    for n in (-40, -20, -3, 5):
        e = api.add_event(event(f"day{n}", days(n), min(days(n), NOW) - timedelta(days=2)))
        api.invitees[e["uri"]].append(invitee(e, f"i{n}", min(days(n), NOW) - timedelta(days=2)))
    thirty_days = config(lookback_days=30)
    state = final_states(run_read(EVENTS, thirty_days))
    # A no-show marked, after the first sync, on a meeting held 20 days ago.
    api.server_date = NOW + timedelta(hours=3)
    held = next(e for e in api.events if e["start_time"] == ts(days(-20)))
    [attendee] = api.invitees[held["uri"]]
    attendee.update(no_show={"uri": f"{attendee['uri']}/no_show", "created_at": ts(NOW + timedelta(hours=1))})
    attendee["updated_at"] = ts(NOW + timedelta(hours=1))
    api.requests.clear()
    second = run_read(EVENTS, thirty_days, state=state)
    assert uris(second, "event_invitees") == [attendee["uri"]]
    assert [asked(NOW - timedelta(days=30))] in [q.get("min_start_time") for q in api.paths("/scheduled_events")]


def test_late_booking_and_cancellation_are_caught_by_the_next_sync(api: FakeCalendly) -> None:
    seed(api)  # includes events up to ~50 days ahead
    first = run_read(EVENTS)
    state = final_states(first)
    assert state["scheduled_events"]["last_sync_started_at"] == ts(NOW)

    # After the first sync: a booking for tomorrow (earlier than already-synced future events) and a cancellation.
    api.server_date = NOW + timedelta(hours=3)
    late = api.add_event(event("late", days(1), NOW + timedelta(hours=1)))
    api.invitees[late["uri"]].append(invitee(late, "late-inv", NOW + timedelta(hours=1)))
    synced = next(e for e in api.events if e["uri"].endswith("e205"))  # starts in 5 days
    cancel(synced, NOW + timedelta(hours=2))
    for inv in api.invitees[synced["uri"]]:
        cancel(inv, NOW + timedelta(hours=2))

    second = run_read(EVENTS, config(history_requests=0), state=state)
    emitted = {r["uri"]: r for r in records(second, "scheduled_events")}
    assert set(emitted) == {late["uri"], synced["uri"]}
    assert emitted[synced["uri"]]["status"] == "canceled"
    assert emitted[synced["uri"]]["cancellation"]["reason"] == "conflict"
    assert {r["event_uri"] for r in records(second, "event_invitees")} == {late["uri"], synced["uri"]}
    # The window starts at the previous sync's start minus the lookback, not at the newest start time seen.
    assert api.paths("/scheduled_events")[-1]["min_start_time"] == [asked(NOW - timedelta(days=7))]
    # Invitees are only requested for events that can have changed unseen: sync 1 all; sync 2 the events that
    # started since the window start (days -7 to 0), and the two upcoming ones whose record changed.
    invitee_requests = [p for p, _ in api.requests if p.endswith("/invitees")]
    assert len(invitee_requests) == 250 + 8 + 2
    third = run_read(EVENTS, state=final_states(second))
    assert records(third, "scheduled_events") == [] and records(third, "event_invitees") == []


def synced_group(api: FakeCalendly, n: int) -> tuple[dict, dict, list[dict], dict]:
    """An upcoming group event with n active invitees, after a first full sync: its counter, the event, the
    invitees and the state, which fingerprints the event as [n, n]."""
    counter = {"total": n, "active": n, "limit": 5}
    group = api.add_event(event("group", days(3), days(-5), invitees_counter=counter))
    members = [invitee(group, f"g{i}", days(-5)) for i in range(n)]
    api.invitees[group["uri"]].extend(members)
    state = final_states(run_read(EVENTS))
    assert state["scheduled_events"]["groups"] == {"group": [n, n]}
    return counter, group, members, state


def test_group_invitee_cancel_is_caught_while_the_event_stays_active(api: FakeCalendly) -> None:
    counter, group, members, state = synced_group(api, 3)
    api.server_date = NOW + timedelta(hours=2)
    cancel(members[1], NOW + timedelta(hours=1), reason="can't make it")
    group["invitees_counter"] = {**counter, "active": 2}  # its updated_at stays
    second = run_read(EVENTS, config(history_requests=0), state=state)
    [emitted] = records(second, "scheduled_events")
    assert emitted["uri"] == group["uri"] and emitted["invitees_counter"]["active"] == 2
    assert final_states(second)["event_invitees"]["groups"] == {"group": [3, 2]}
    [changed] = records(second, "event_invitees")
    assert changed["uri"] == members[1]["uri"] and changed["status"] == "canceled"
    assert changed["event_uri"] == group["uri"]
    assert changed["cancellation"]["reason"] == "can't make it"


def test_a_group_booking_and_a_cancellation_between_syncs_are_caught_though_active_is_unchanged(
    api: FakeCalendly,
) -> None:
    # One invitee joins and another cancels: `active` is back where it was, only `total` tells.
    counter, group, members, state = synced_group(api, 2)
    api.server_date = NOW + timedelta(hours=2)
    joined = invitee(group, "g2", NOW + timedelta(hours=1))
    api.invitees[group["uri"]].append(joined)
    cancel(members[0], NOW + timedelta(hours=1), reason="can't make it")
    group["invitees_counter"] = {**counter, "total": 3}  # its updated_at stays
    second = run_read(EVENTS, config(history_requests=0), state=state)
    assert uris(second, "scheduled_events") == [group["uri"]]
    assert records(second, "scheduled_events")[0]["invitees_counter"] == {"total": 3, "active": 2, "limit": 5}
    assert sorted(uris(second, "event_invitees")) == sorted([members[0]["uri"], joined["uri"]])
    assert final_states(second)["scheduled_events"]["groups"] == {"group": [3, 2]}
    third = run_read(EVENTS, config(history_requests=0), state=final_states(second))
    assert uris(third, "scheduled_events") == [] and uris(third, "event_invitees") == []


def test_a_killed_sync_resumes_from_its_checkpoint_without_loss(api: FakeCalendly) -> None:
    seed(api)
    # The third page of events fails for good: the sync dies after two pages (and their checkpoints).
    calls = {"n": 0}
    original = api._route

    def failing_third_page(path, q, user):  # type: ignore[no-untyped-def]
        if path == "/scheduled_events" and "page_token" in q:
            calls["n"] += 1
            if calls["n"] >= 2:
                return 500, {"title": "Internal Server Error", "message": "boom"}
        return original(path, q, user)

    api._route = failing_third_page  # type: ignore[method-assign]
    first = run_read(["scheduled_events"], expect_error=True)
    assert error_messages(first)
    checkpoint = final_states(first)["scheduled_events"]
    assert "pass" in checkpoint and "resume_from" in checkpoint["pass"]
    emitted_before = uris(first, "scheduled_events")
    assert len(emitted_before) == 200

    api._route = original  # type: ignore[method-assign]
    api.requests.clear()
    second = run_read(["scheduled_events"], state={"scheduled_events": checkpoint})
    resumed_from = api.paths("/scheduled_events")[0]["min_start_time"][0]
    assert resumed_from == asked(checkpoint["pass"]["resume_from"])  # not from the beginning
    assert set(emitted_before) | set(uris(second, "scheduled_events")) == {e["uri"] for e in api.events}
    assert len(uris(second, "scheduled_events")) < 60  # only the rest (and the boundary event again)
    assert "pass" not in final_states(second)["scheduled_events"]


def test_invitees_checkpoint_per_page_of_events_and_resume(api: FakeCalendly) -> None:
    seed(api)
    api.faults.append(Fault(path="/scheduled_events/e150/invitees", status=500, times=1000))
    first = run_read(["event_invitees"], expect_error=True)
    checkpoint = final_states(first)["event_invitees"]
    assert checkpoint["pass"]["resume_from"] == api.events[99]["start_time"]  # after the first page of events
    api.faults.clear()
    second = run_read(["event_invitees"], state={"event_invitees": checkpoint})
    got = set(uris(first, "event_invitees")) | set(uris(second, "event_invitees"))
    assert got == {i["uri"] for invs in api.invitees.values() for i in invs}
    assert "pass" not in final_states(second)["event_invitees"]


def test_an_event_deleted_before_its_invitees_are_read_is_skipped_with_a_warning(api: FakeCalendly) -> None:
    seed(api, 3)
    gone = api.events[1]["uri"]
    del api.invitees[gone]
    out = run_read(["event_invitees"])
    assert len(uris(out, "event_invitees")) == 2
    assert f"Event {gone} no longer exists (HTTP 404); its invitees are skipped." in warnings(out)


@pytest.mark.parametrize("streams", [["scheduled_events"], EVENTS])  # listed for one stream, or for both
def test_an_expired_page_token_restarts_from_the_last_start_time_without_duplicates(
    api: FakeCalendly, streams: list[str]
) -> None:
    seed(api, 150)
    original = api._route
    state = {"expired": False}

    def expire_first_token(path, q, user):  # type: ignore[no-untyped-def]
        if path == "/scheduled_events" and "page_token" in q and not state["expired"]:
            state["expired"] = True
            return 400, EXPIRED_TOKEN
        return original(path, q, user)

    api._route = expire_first_token  # type: ignore[method-assign]
    out = run_read(streams)
    assert state["expired"]
    got = uris(out, "scheduled_events")
    assert len(got) == len(set(got)) == 150
    restart = [q for q in api.paths("/scheduled_events") if "min_start_time" in q]
    assert restart and restart[0]["min_start_time"] == [asked(api.events[99]["start_time"])]


def test_a_slow_reader_whose_every_page_token_expires_still_finishes(api: FakeCalendly) -> None:
    # Every page token is rejected the first time it is used: the listing restarts before every page but the
    # first, nine times in all, each time after new records. Only restarts in a row without progress fail.
    seed(api, 900)
    original = api._route
    rejected: set[tuple[str | None, str]] = set()

    def expire_every_token_once(path, q, user):  # type: ignore[no-untyped-def]
        if path == "/scheduled_events" and "page_token" in q:
            key = (q.get("min_start_time", [None])[0], q["page_token"][0])
            if key not in rejected:
                rejected.add(key)
                return 400, EXPIRED_TOKEN
        return original(path, q, user)

    api._route = expire_every_token_once  # type: ignore[method-assign]
    out = run_read(["scheduled_events"])
    assert len(rejected) > MAX_PAGE_TOKEN_RESTARTS
    got = uris(out, "scheduled_events")
    assert len(got) == len(set(got)) == 900


def test_page_tokens_rejected_again_and_again_without_progress_fail_with_what_to_do(api: FakeCalendly) -> None:
    # event_types has no keyset: a restart starts over, and its first page holds nothing new.
    api.event_types = [{"uri": f"https://api.calendly.com/event_types/t{i:03}", "name": f"T{i}"} for i in range(250)]
    original = api._route

    rejected = []

    def reject_every_token(path, q, user):  # type: ignore[no-untyped-def]
        # Bounded, so that a connector that never gives up ends (wrongly, without the error) instead of hanging.
        if path == "/event_types" and "page_token" in q and len(rejected) < 50:
            rejected.append(q["page_token"])
            return 400, EXPIRED_TOKEN
        return original(path, q, user)

    api._route = reject_every_token  # type: ignore[method-assign]
    out = run_read(["event_types"], expect_error=True)
    message = error_messages(out)[0]
    assert "kept rejecting page tokens" in message and "Run the sync again" in message
    assert failure_types(out)[0] == FailureType.transient_error
    assert out.errors[0].trace.error.internal_message == message
    assert len(api.paths("/event_types")) == 2 * (MAX_PAGE_TOKEN_RESTARTS + 1)
    assert len(set(uris(out, "event_types"))) == len(uris(out, "event_types")) == 100


def test_full_refresh_ignores_saved_state(api: FakeCalendly) -> None:
    seed(api, 5)
    future = {"updated_at": "2121-01-01T00:00:00.000000Z", "last_sync_started_at": "2121-01-01T00:00:00.000000Z"}
    out = run_read(["scheduled_events"], state={"scheduled_events": future}, full_refresh=True)
    assert len(uris(out, "scheduled_events")) == 5


def test_a_state_later_than_calendlys_clock_warns_and_reads_from_start_date(api: FakeCalendly) -> None:
    seed(api, 5)
    future = {"updated_at": "2121-01-01T00:00:00.000000Z", "last_sync_started_at": "2121-01-01T00:00:00.000000Z"}
    out = run_read(EVENTS, state={"scheduled_events": future, "event_invitees": future})
    assert len(records(out, "scheduled_events")) == 5 and len(records(out, "event_invitees")) == 5
    assert len([w for w in warnings(out) if "later than Calendly's clock" in w]) == 2
    assert final_states(out)["scheduled_events"]["last_sync_started_at"] == ts(NOW)


def test_concurrent_fan_out_gives_the_same_records_in_event_order(api: FakeCalendly) -> None:
    seed(api)
    sequential = uris(run_read(["event_invitees"]), "event_invitees")
    concurrent = uris(run_read(["event_invitees"], config(num_workers=8)), "event_invitees")
    assert concurrent == sequential


def test_corrupt_state_is_a_config_error(api: FakeCalendly) -> None:
    seed(api, 2)
    out = run_read(["scheduled_events"], state={"scheduled_events": {"updated_at": "soon"}}, expect_error=True)
    message = error_messages(out)[0]
    assert "saved state of stream scheduled_events" in message and "Refresh" in message
    assert failure_types(out)[0] == FailureType.config_error  # not retried: the state must be reset first
    assert api.requests == []  # refused before any request


def test_a_full_refresh_of_invitees_ignores_their_saved_state(api: FakeCalendly) -> None:
    seed(api, 5)
    future = {"updated_at": "2121-01-01T00:00:00.000000Z", "last_sync_started_at": "2121-01-01T00:00:00.000000Z"}
    out = run_read(["event_invitees"], state={"event_invitees": future}, full_refresh=True)
    assert len(uris(out, "event_invitees")) == 5
    assert "min_start_time" not in api.paths("/scheduled_events")[0]


def test_events_read_for_both_streams_are_requested_once(api: FakeCalendly) -> None:
    seed(api, 150)
    run_read(EVENTS)
    assert len(api.paths("/scheduled_events")) == 2  # 150 events: two pages, listed once for both streams


def test_a_listing_read_by_one_stream_only_is_not_written_to_disk(api: FakeCalendly) -> None:
    seed(api, 3)
    with patch.object(ListingSpool, "keep", side_effect=AssertionError("spooled")):
        assert len(uris(run_read(["scheduled_events"]), "scheduled_events")) == 3
        assert len(uris(run_read(["event_invitees"]), "event_invitees")) == 3


def test_invitees_are_fetched_on_the_worker_threads(api: FakeCalendly) -> None:
    seed(api, 20)
    threads: set[str] = set()
    original = api._route

    def noting_thread(path, q, user):  # type: ignore[no-untyped-def]
        if path.endswith("/invitees"):
            threads.add(threading.current_thread().name)
        return original(path, q, user)

    api._route = noting_thread  # type: ignore[method-assign]
    out = run_read(["event_invitees"], config(num_workers=4))
    assert len(uris(out, "event_invitees")) == 20
    assert threads and all(name.startswith("calendly") for name in threads)


def test_a_record_without_a_readable_timestamp_is_emitted_and_moves_nothing(api: FakeCalendly) -> None:
    seed(api, 3)
    api.events[1]["updated_at"] = 17
    api.events[2].pop("updated_at")
    api.events[2]["start_time"] = "unreadable"  # sorts last in the fake
    out = run_read(["scheduled_events"])
    assert len(uris(out, "scheduled_events")) == 3
    assert final_states(out)["scheduled_events"]["updated_at"] == api.events[0]["updated_at"]
    assert timestamp({"updated_at": 17}, "updated_at") is None
    assert timestamp({"updated_at": "garbled"}, "updated_at") is None


# The history walks and the invitee rules, request by request -------------------------------------------------
LATER = NOW + timedelta(hours=2)  # the second sync's start on Calendly's clock
LATEST = NOW + timedelta(hours=4)  # the third's


def history_listings(api: FakeCalendly) -> list[dict[str, list[str]]]:
    """The event listings of the history walks: bounded by the window start (the window has no upper bound)."""
    return [q for q in api.paths("/scheduled_events") if "max_start_time" in q]


def invitee_paths(api: FakeCalendly) -> list[str]:
    return [p for p, _ in api.requests if p.endswith("/invitees")]


def paths_of(*events: dict[str, Any]) -> list[str]:
    return [f"/scheduled_events/{e['uri'].rsplit('/', 1)[-1]}/invitees" for e in events]


def history_query(end: str, start: str | None = None) -> dict[str, list[str]]:
    query = {"organization": [ORG], "sort": ["start_time:asc"], "max_start_time": [end], "count": ["100"]}
    return query | ({"min_start_time": [asked(start)]} if start else {})


def next_sync(api: FakeCalendly, at: datetime) -> None:
    """Calendly's clock moves on to the next sync, whose requests are then the only ones recorded."""
    api.server_date = at
    api.requests.clear()


def touch(api: FakeCalendly, record: dict[str, Any], at: datetime) -> None:
    """A late change to a record (notes, a no-show): only its updated_at moves."""
    record["updated_at"] = ts(at)


def first_sync_state(cursor: datetime) -> dict[str, Any]:
    """The state a first sync at NOW leaves (it read all history, so the walk's first cycle starts after it)."""
    return {"updated_at": ts(cursor), "last_sync_started_at": ts(NOW), "scope": ORG, "history": {"since": ts(NOW)}}


def twice_a_day(n: int) -> list[dict[str, Any]]:
    """n events every 12 hours from day -200 (293 end on day -54: all before the window), booked 2 days ahead."""
    starts = [days(-200) + timedelta(hours=12 * i) for i in range(n)]
    return [event(f"e{i:03}", start, start - timedelta(days=2)) for i, start in enumerate(starts)]


@pytest.mark.parametrize("pages", [1, 2])  # history_requests 10 and 20: a tenth of them, in pages of 100 events
def test_the_event_walk_reads_a_tenth_of_the_budget_in_pages_and_goes_on_where_it_stopped(
    api: FakeCalendly, pages: int
) -> None:
    for record in twice_a_day(100 * pages + 93):
        api.add_event(record)
    state = {"scheduled_events": first_sync_state(days(-60))}
    early, late = api.events[10], api.events[100 * pages + 50]  # on the walk's first page, and past its budget
    touch(api, early, NOW + timedelta(hours=1))
    touch(api, late, NOW + timedelta(hours=1))
    budget = config(history_requests=10 * pages)

    next_sync(api, LATER)
    second = run_read(["scheduled_events"], budget, state=state)
    listings = history_listings(api)
    assert ["page_token" in q for q in listings] == [False] + [True] * (pages - 1)
    assert [q for q in listings if "page_token" not in q] == [history_query(ts(days(-7)))]  # no start_date
    assert uris(second, "scheduled_events") == [early["uri"]]
    history = final_states(second)["scheduled_events"]["history"]
    reached = api.events[100 * pages - 1]["start_time"]  # the last event of the budget's last page
    assert history == {"position": reached, "since": ts(NOW), "cycle_began": ts(LATER)}

    next_sync(api, LATEST)
    third = run_read(["scheduled_events"], budget, state=final_states(second))
    assert history_listings(api) == [history_query(ts(LATER - timedelta(days=7)), reached)]
    assert uris(third, "scheduled_events") == [late["uri"]]
    # The walk reached the window: the next cycle emits what changed since this one began.
    assert final_states(third)["scheduled_events"]["history"] == {"since": ts(LATER)}


def test_an_expired_page_token_in_the_event_walk_restarts_at_its_last_start_time(api: FakeCalendly) -> None:
    for record in twice_a_day(293):
        api.add_event(record)
    api.faults.append(Fault(path="^/scheduled_events$", status=400, body=EXPIRED_TOKEN, query_has="page_token"))
    out = run_read(
        ["scheduled_events"], config(history_requests=20), state={"scheduled_events": first_sync_state(days(-60))}
    )
    # The walk's second page: refused, then listed again from the last start time read, then its next page.
    restart = asked(api.events[99]["start_time"])
    assert [q.get("min_start_time") for q in history_listings(api)] == [None, None, [restart], [restart]]
    assert uris(out, "scheduled_events") == []  # nothing changed, and nothing read twice is emitted twice
    assert final_states(out)["scheduled_events"]["history"]["position"] == api.events[199]["start_time"]


def test_at_a_new_cycle_the_invitee_walk_replays_the_page_the_event_walk_stopped_at(api: FakeCalendly) -> None:
    seed(api)  # 193 events before the window: the event walk stops after its one page
    state = first_sync_state(NOW - timedelta(days=2))
    out = run_read(EVENTS, config(history_requests=10), state={stream: state for stream in EVENTS})
    assert history_listings(api) == [history_query(ts(days(-7)))]  # listed once for both walks
    # The invitee walk's 7 events, then the window's events that started (days -7 to 0).
    assert invitee_paths(api) == paths_of(*api.events[:7], *api.events[193:201])
    assert final_states(out)["scheduled_events"]["history"]["position"] == api.events[99]["start_time"]
    assert final_states(out)["event_invitees"]["history"]["position"] == api.events[7]["start_time"]


def test_the_event_walk_does_not_stall_on_a_page_of_events_at_one_instant(api: FakeCalendly) -> None:
    # The walk stands at an instant that more than a page of events share: stopping at the page's end would
    # leave it there for good. It reads on to the next start time (here, the window).
    crowded = days(-50)
    for i in range(100):
        api.add_event(event(f"slot{i:03}", crowded, days(-60)))
    later = [api.add_event(event(f"after{i}", days(-40 + i), days(-45))) for i in range(5)]
    touch(api, later[2], NOW - timedelta(hours=1))
    history = {"position": ts(crowded), "since": ts(days(-1)), "cycle_began": ts(days(-1) + timedelta(hours=1))}
    saved = {"updated_at": ts(days(-30)), "last_sync_started_at": ts(days(-1)), "scope": ORG, "history": history}
    out = run_read(["scheduled_events"], config(history_requests=10), state={"scheduled_events": saved})
    assert [q.get("min_start_time") for q in history_listings(api)] == [[asked(crowded)], [asked(crowded)]]
    assert uris(out, "scheduled_events") == [later[2]["uri"]]
    assert final_states(out)["scheduled_events"]["history"] == {"since": history["cycle_began"]}


def test_invitees_are_read_only_for_events_whose_invitees_can_have_changed(api: FakeCalendly) -> None:
    def booked(uuid: str, start: datetime, updated: datetime, **extra: Any) -> dict[str, Any]:
        e = api.add_event(event(uuid, start, updated, **extra))
        api.invitees[e["uri"]].append(invitee(e, f"{uuid}-1", updated))
        return e

    def group(total: int) -> dict[str, Any]:
        return {"invitees_counter": {"total": total, "active": total, "limit": 5}}

    held = booked("held", days(-3), days(-5))  # started since the window start
    starting = booked("starting", LATER, days(-5))  # starts as the second sync begins
    booked("upcoming", days(5), days(-5))
    moved = booked("moved", days(6), days(-5))
    touched_at_start = booked("touched-at-start", days(7), NOW)  # changed as the first sync began
    booked("group-same", days(8), days(-5), **group(2))
    group_booked = booked("group-booked", days(9), days(-5), **group(2))
    no_updated = booked("no-updated", days(10), days(-5))
    no_updated.pop("updated_at")
    no_start = booked("no-start", days(11), days(-5))
    no_start["start_time"] = "unreadable"  # sorts last in the fake
    first = run_read(["event_invitees"])
    assert invitee_paths(api) == paths_of(*api.events)  # the first pass visits every event

    [moved_invitee] = api.invitees[moved["uri"]]
    cancel(moved, NOW + timedelta(hours=1))
    cancel(moved_invitee, NOW + timedelta(hours=1))
    group_booked["invitees_counter"] = {"total": 3, "active": 3, "limit": 5}
    next_sync(api, LATER)
    second = run_read(["event_invitees"], config(history_requests=0), state=final_states(first))
    expected = [held, starting, moved, touched_at_start, group_booked, no_updated, no_start]
    assert invitee_paths(api) == paths_of(*expected)
    assert uris(second, "event_invitees") == [moved_invitee["uri"]]
    assert records(second, "event_invitees")[0]["event_uri"] == moved["uri"]


@pytest.mark.parametrize("shared", [False, True], ids=["invitees-alone", "with-events"])
def test_the_invitee_walk_visits_n_events_a_sync_and_goes_on_where_it_stopped(api: FakeCalendly, shared: bool) -> None:
    streams = EVENTS if shared else ["event_invitees"]
    seed(api, 30)  # all before the next window
    state = final_states(run_read(streams))
    no_show, late_note = api.invitees[api.events[3]["uri"]][0], api.invitees[api.events[9]["uri"]][0]
    touch(api, no_show, NOW + timedelta(hours=1))
    touch(api, late_note, NOW + timedelta(hours=1))
    ten = config(history_requests=10)  # 8 invitee requests: 7 events, listed with the 8th

    next_sync(api, LATER)
    second = run_read(streams, ten, state=state)
    # Listed once: with both streams, the invitee walk replays the events the event walk listed.
    assert history_listings(api) == [history_query(ts(days(-7)))]
    assert invitee_paths(api) == paths_of(*api.events[:7])
    assert uris(second, "event_invitees") == [no_show["uri"]]
    history = {"position": api.events[7]["start_time"], "since": ts(NOW), "cycle_began": ts(LATER)}
    assert final_states(second)["event_invitees"]["history"] == history

    next_sync(api, LATEST)
    third = run_read(streams, ten, state=final_states(second))
    # The event walk went through all 30 in one page and starts a new cycle: the walks part ways.
    invitee_walk = history_query(ts(LATER - timedelta(days=7)), api.events[7]["start_time"])
    event_walk = [history_query(ts(LATER - timedelta(days=7)))] if shared else []
    assert history_listings(api) == [*event_walk, invitee_walk]
    assert invitee_paths(api) == paths_of(*api.events[7:14])
    assert uris(third, "event_invitees") == [late_note["uri"]]
    assert final_states(third)["event_invitees"]["history"]["position"] == api.events[14]["start_time"]


def test_an_invitee_step_ends_between_two_start_times(api: FakeCalendly) -> None:
    # 7 events a step: the 7th shares its start time with the 8th, so the step ends before both, and the next
    # one starts at that instant (asked from just before it: see source_calendly.bounds) without skipping either.
    starts = [days(-100 + i) for i in range(6)] + [days(-90)] * 3 + [days(-80)]
    for i, start in enumerate(starts):
        e = api.add_event(event(f"e{i}", start, days(-120)))
        api.invitees[e["uri"]].append(invitee(e, f"i{i}", days(-120)))
    state = final_states(run_read(["event_invitees"]))
    ten = config(history_requests=10)
    next_sync(api, LATER)
    second = run_read(["event_invitees"], ten, state=state)
    assert invitee_paths(api) == paths_of(*api.events[:6])
    assert final_states(second)["event_invitees"]["history"]["position"] == ts(days(-90))
    next_sync(api, LATEST)
    run_read(["event_invitees"], ten, state=final_states(second))
    assert history_listings(api)[0]["min_start_time"] == [asked(days(-90))]
    assert invitee_paths(api) == paths_of(*api.events[6:10])


@pytest.mark.parametrize("exclusive", [False, True], ids=["inclusive", "exclusive"])
def test_more_events_at_one_instant_than_a_step_holds_are_all_visited_over_the_steps(
    api: FakeCalendly, exclusive: bool
) -> None:
    # 7 events a step, 16 at one instant, then one more: the state names the events visited at that instant, so
    # each step goes on with the rest of them, and the third step moves on past it.
    api.exclusive_min_filters = exclusive
    for i in range(16):
        e = api.add_event(event(f"e{i:02}", days(-100), days(-120)))
        api.invitees[e["uri"]].append(invitee(e, f"i{i}", days(-120)))
    last = api.add_event(event("later", days(-90), days(-120)))
    api.invitees[last["uri"]].append(invitee(last, "later", days(-120)))
    state = final_states(run_read(["event_invitees"]))
    ten = config(history_requests=10)
    visited: list[str] = []
    for n, at in enumerate((LATER, LATEST, LATEST + timedelta(hours=2))):
        next_sync(api, at)
        state = final_states(run_read(["event_invitees"], ten, state=state))
        visited += invitee_paths(api)
        history = state["event_invitees"]["history"]
        if n < 2:
            assert history["position"] == ts(days(-100))
            assert history["visited"] == sorted(e["uri"].rsplit("/", 1)[-1] for e in api.events[: 7 * (n + 1)])
    assert visited == paths_of(*api.events)  # each once, in order
    assert "position" not in history and "visited" not in history  # the third step reached the window


@pytest.mark.parametrize(
    ("budget", "steps"),
    [(128, [100]), (200, [100, 158])],  # n = 100, one slice; n = 158 (the default), two of 100 and 58
)
def test_the_invitee_walk_checkpoints_after_each_page_of_events(
    api: FakeCalendly, budget: int, steps: list[int]
) -> None:
    seed(api, 160)  # all before the window of a sync after this one:
    state = {"last_sync_started_at": ts(NOW), "updated_at": ts(days(-40)), "scope": ORG, "history": {"since": ts(NOW)}}
    next_sync(api, LATER)
    out = run_read(["event_invitees"], config(history_requests=budget), state={"event_invitees": state})
    assert invitee_paths(api) == paths_of(*api.events[: steps[-1]])
    walked: list[str] = []
    for state in stream_states(out, "event_invitees"):
        position = state["history"].get("position")
        if position and position not in walked:
            walked.append(position)
    assert walked == [api.events[n]["start_time"] for n in steps]


def test_a_budget_too_small_for_one_invitee_request_leaves_the_invitee_walk_where_it_was(
    api: FakeCalendly,
) -> None:
    seed(api, 30)
    state = final_states(run_read(EVENTS))
    next_sync(api, LATER)
    out = run_read(EVENTS, config(history_requests=1), state=state)  # one page of events, no invitee request
    assert history_listings(api) == [history_query(ts(days(-7)))]
    assert invitee_paths(api) == []
    assert final_states(out)["event_invitees"]["history"] == {"since": ts(NOW)}
    assert final_states(out)["scheduled_events"]["history"] == {"since": ts(LATER)}  # walked it all


def test_with_no_history_before_the_window_both_walks_start_a_new_cycle(api: FakeCalendly) -> None:
    for n in range(-3, 3):
        e = api.add_event(event(f"day{n}", days(n), days(-10)))
        api.invitees[e["uri"]].append(invitee(e, f"i{n}", days(-10)))
    state = final_states(run_read(EVENTS))
    next_sync(api, LATER)
    out = run_read(EVENTS, state=state)
    assert history_listings(api) == [history_query(ts(days(-7)))]  # once, replayed for the invitee walk
    assert invitee_paths(api) == paths_of(*api.events[:4])  # the window's started events only (day 0 too)
    for stream in EVENTS:
        assert final_states(out)[stream]["history"] == {"since": ts(LATER)}


def test_a_full_refresh_reads_all_history_whatever_the_saved_state(api: FakeCalendly) -> None:
    seed(api, 20)  # nothing changed since the saved state's sync
    recent = first_sync_state(NOW - timedelta(days=2))
    next_sync(api, LATER)
    out = run_read(EVENTS, state={stream: recent for stream in EVENTS}, full_refresh=True)
    assert uris(out, "scheduled_events") == [e["uri"] for e in api.events]
    assert uris(out, "event_invitees") == [i["uri"] for e in api.events for i in api.invitees[e["uri"]]]
    assert all("min_start_time" not in q for q in api.paths("/scheduled_events"))


def invitee_estimates(out: Any) -> list[int]:
    return [
        m.trace.estimate.row_estimate
        for m in out.trace_messages
        if m.trace.estimate is not None and m.trace.estimate.name == "event_invitees"
    ]


def test_the_invitee_row_estimate_grows_page_by_page_from_the_events_counters(api: FakeCalendly) -> None:
    seed(api, n=250)  # three pages of events, one invitee each
    out = run_read(EVENTS)
    assert invitee_estimates(out) == [100, 200, 250]
    assert len(uris(out, "event_invitees")) == 250
    assert not [m for m in out.trace_messages if m.trace.estimate and m.trace.estimate.name == "scheduled_events"]


def test_no_row_estimate_is_made_up_when_an_event_lacks_its_counter(api: FakeCalendly) -> None:
    seed(api, n=3)
    del api.events[1]["invitees_counter"]
    out = run_read(EVENTS)
    assert invitee_estimates(out) == [] and len(uris(out, "event_invitees")) == 3
