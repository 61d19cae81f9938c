"""scheduled_events and event_invitees through the real entrypoint, against the requests-mock fake."""

import threading
from datetime import timedelta
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
    config,
    error_messages,
    failure_types,
    final_states,
    records,
    run_read,
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
    assert [ts(NOW - timedelta(days=30))] in [q.get("min_start_time") for q in api.paths("/scheduled_events")]


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
    assert api.paths("/scheduled_events")[-1]["min_start_time"] == [ts(NOW - timedelta(days=7))]
    # Invitees are only requested for events that can have changed unseen: sync 1 all; sync 2 the events that
    # started since the window start (days -7 to 0), and the two upcoming ones whose record changed.
    invitee_requests = [p for p, _ in api.requests if p.endswith("/invitees")]
    assert len(invitee_requests) == 250 + 8 + 2
    third = run_read(EVENTS, state=final_states(second))
    assert records(third, "scheduled_events") == [] and records(third, "event_invitees") == []


def test_group_invitee_cancel_is_caught_while_the_event_stays_active(api: FakeCalendly) -> None:
    counter = {"total": 3, "active": 3, "limit": 5}
    group = api.add_event(event("group", days(3), days(-5), invitees_counter=counter))
    members = [invitee(group, f"g{i}", days(-5)) for i in range(3)]
    api.invitees[group["uri"]].extend(members)
    state = final_states(run_read(EVENTS))
    assert state["scheduled_events"]["groups"] == {"group": [3, 3]}
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
    assert resumed_from == checkpoint["pass"]["resume_from"]  # not from the beginning
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
    assert any(gone in w and "404" in w for w in warnings(out))


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
    assert restart and restart[0]["min_start_time"] == [api.events[99]["start_time"]]


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
