"""activity_log_entries, contacts, outgoing_communications: the plain cursor, two syncs at a time."""

from __future__ import annotations

from datetime import timedelta

from unit_tests.fake_api import API, EXPIRED_TOKEN, NOW, ORG, FakeCalendly, Fault, days, ts
from unit_tests.helpers import asked, config, final_states, invitees_synced, records, run_read, uris, warnings


def entry(i: int, at: float) -> dict:
    return {"uri": f"{API}/activity_log_entries/e{i}", "occurred_at": ts(days(at)), "organization": ORG,
            "namespace": "User", "action": "Add", "fully_qualified_name": "User.Add", "details": {"n": i},
            "actor": {"type": "User", "uri": f"{API}/users/u1", "display_name": "Ada"}}  # fmt: skip


def contact(i: int, updated: float) -> dict:
    return {"uri": f"{API}/contacts/c{i}", "emails": [{"email": f"c{i}@example.com", "is_primary": True}],
            "created_at": ts(days(-400)), "updated_at": ts(days(updated)), "custom_fields": []}  # fmt: skip


def message(i: int, created: float) -> dict:
    return {"type": "email", "to": f"p{i}@example.com", "from": "no-reply@calendly.com", "subject": "Reminder",
            "body": "…", "sender_uri": None, "sender_email": None, "event_type_uri": f"{API}/event_types/et1",
            "event_uri": f"{API}/scheduled_events/ev{i}", "scheduling_url": "https://calendly.com/x",
            "sent_at": ts(days(created)), "created_at": ts(days(created))}  # fmt: skip


def test_activity_log_first_sync_reads_all_ascending_1000_a_page(api: FakeCalendly) -> None:
    api.activity = [entry(i, -80 + i * 0.03) for i in range(1500)]
    out = run_read(["activity_log_entries"])
    assert len(set(uris(out, "activity_log_entries"))) == 1500
    queries = api.paths("/activity_log_entries")
    assert len(queries) == 2
    assert queries[0] == {"organization": [ORG], "sort": ["occurred_at:asc"], "count": ["1000"]}
    assert final_states(out)["activity_log_entries"] == {
        "occurred_at": api.activity[-1]["occurred_at"],
        "keys_at_cursor": [api.activity[-1]["uri"]],  # emitted at the cursor's instant: not again
    }


def test_activity_log_second_sync_asks_from_the_cursor_and_emits_only_new_entries(api: FakeCalendly) -> None:
    api.activity = [entry(i, -10 + i) for i in range(5)]
    state = final_states(run_read(["activity_log_entries"]))
    api.activity.append(entry(99, 0.01))
    api.server_date = NOW + timedelta(hours=1)
    api.requests.clear()
    second = run_read(["activity_log_entries"], state=state)
    assert uris(second, "activity_log_entries") == [f"{API}/activity_log_entries/e99"]
    assert api.paths("/activity_log_entries")[0]["min_occurred_at"] == [
        asked(state["activity_log_entries"]["occurred_at"])
    ]
    assert final_states(second)["activity_log_entries"]["occurred_at"] == api.activity[-1]["occurred_at"]
    third = run_read(["activity_log_entries"], state=final_states(second))
    assert records(third, "activity_log_entries") == []


def test_a_cursor_older_than_90_days_warns_that_entries_are_gone(api: FakeCalendly) -> None:
    api.activity = [entry(1, -3)]
    old = {"activity_log_entries": {"occurred_at": ts(days(-120))}}
    out = run_read(["activity_log_entries"], state=old)
    [warning] = [w for w in warnings(out) if "90 days" in w]
    assert ts(days(-120)) in warning and "gone" in warning
    assert uris(out, "activity_log_entries") == [f"{API}/activity_log_entries/e1"]
    recent = run_read(["activity_log_entries"], state={"activity_log_entries": {"occurred_at": ts(days(-30))}})
    assert not [w for w in warnings(recent) if "90 days" in w]


def test_a_full_refresh_reads_everything_and_ignores_the_cursor(api: FakeCalendly) -> None:
    api.activity = [entry(i, -10 + i) for i in range(3)]
    state = {"activity_log_entries": {"occurred_at": ts(days(0))}}
    out = run_read(["activity_log_entries"], state=state, full_refresh=True)
    assert len(uris(out, "activity_log_entries")) == 3
    assert "min_occurred_at" not in api.paths("/activity_log_entries")[0]


def test_contacts_newest_first_stop_at_the_cursor(api: FakeCalendly) -> None:
    api.contacts = [contact(i, -300 + i) for i in range(250)]
    first = run_read(["contacts"])
    assert len(set(uris(first, "contacts"))) == 250
    assert [q["sort"] for q in api.paths("/contacts")] == [["updated_at:desc"]] * 3
    state = final_states(first)
    known = state["contacts"].pop("known")  # the deletion check's (see test_contact_deletions.py)
    assert sorted(known.split()) == sorted(f"c{i}" for i in range(250))
    assert state["contacts"].pop("key_prefixes") == [f"{API}/contacts/"]
    assert state["contacts"] == {
        "updated_at": api.contacts[-1]["updated_at"],
        "keys_at_cursor": [api.contacts[-1]["uri"]],
        "last_sync_started_at": ts(NOW),
    }
    state["contacts"]["known"] = known
    changed = api.contacts[3]
    changed["updated_at"] = ts(days(0.5))
    api.contacts.append(contact(999, 0.6))
    api.server_date = NOW + timedelta(days=1)
    api.requests.clear()
    # event_invitees, read first, found no meeting changed: no contact is read again by email.
    second = run_read(["event_invitees", "contacts"], state={**state, "event_invitees": invitees_synced(NOW)})
    assert uris(second, "contacts") == [f"{API}/contacts/c999", changed["uri"]]  # new and changed, newest first
    listing = [q for q in api.paths("/contacts") if q["sort"] == ["updated_at:desc"]]
    assert len(listing) == 1  # stopped at the cursor within the first page
    assert [q["sort"] for q in api.paths("/contacts")[1:]] == [["created_at:asc"]] * 3  # the deletion check
    third = run_read(["event_invitees", "contacts"], state=final_states(second))
    assert records(third, "contacts") == []


def test_a_record_changed_after_the_sync_started_is_read_again_next_time(api: FakeCalendly) -> None:
    api.contacts = [contact(1, -1), contact(2, 0.5)]  # changed after Calendly's clock said the sync began
    state = final_states(run_read(["contacts"]))
    assert {k: v for k, v in state["contacts"].items() if k not in ("known", "key_prefixes")} == {
        "updated_at": ts(NOW),
        "last_sync_started_at": ts(NOW),
    }  # c2 is not at the cursor
    again = run_read(["event_invitees", "contacts"], state={**state, "event_invitees": invitees_synced(NOW)})
    assert uris(again, "contacts") == [f"{API}/contacts/c2"]


def test_a_confirmation_and_a_reminder_at_one_instant_to_one_invitee_keep_their_own_keys(api: FakeCalendly) -> None:
    confirmation = message(1, -3)
    reminder = {**confirmation, "subject": "Reminder: tomorrow", "body": "See you tomorrow"}
    copy = dict(reminder)  # the same reminder twice: still two messages sent
    sms = {**message(1, -3), "type": "sms", "to": "+15550100", "subject": None}
    api.outgoing = [confirmation, reminder, copy, sms, message(2, -2)]
    out = run_read(["outgoing_communications"])
    emitted = records(out, "outgoing_communications")
    keys = [r["communication_key"] for r in emitted]
    assert len(emitted) == 5 and len(set(keys)) == 5
    assert keys[2] == keys[1] + "-2" and all(len(k) == 64 for k in keys[:2] + keys[3:])
    # A destination that deduplicates on the declared key keeps every message.
    deduplicated = {r["communication_key"]: r for r in emitted}
    assert len(deduplicated) == 5
    # The keys are the same in the next full sync, so the destination does not gain duplicates.
    again = records(run_read(["outgoing_communications"]), "outgoing_communications")
    assert [r["communication_key"] for r in again] == keys


def test_communication_keys_do_not_depend_on_fields_calendly_may_add_later(api: FakeCalendly) -> None:
    plain = message(1, -3)
    api.outgoing = [{**plain, "delivery_status": "delivered"}]
    [with_extra] = records(run_read(["outgoing_communications"]), "outgoing_communications")
    api.outgoing = [plain]
    [without] = records(run_read(["outgoing_communications"]), "outgoing_communications")
    assert with_extra["communication_key"] == without["communication_key"]


def test_outgoing_communications_from_the_cursor(api: FakeCalendly) -> None:
    api.outgoing = [message(i, -20 + i) for i in range(3)]
    first = run_read(["outgoing_communications"])
    assert len(records(first, "outgoing_communications")) == 3
    assert api.paths("/outgoing_communications")[0] == {"organization": [ORG], "count": ["100"]}
    api.outgoing.insert(0, message(7, -0.5))  # Calendly's order is not promised: a new one may come first
    api.requests.clear()
    second = run_read(["outgoing_communications"], state=final_states(first))
    assert [r["event_uri"] for r in records(second, "outgoing_communications")] == [f"{API}/scheduled_events/ev7"]
    assert api.paths("/outgoing_communications")[0]["min_created_at"] == [asked(days(-18))]


def test_start_date_bounds_the_first_sync(api: FakeCalendly) -> None:
    api.activity = [entry(1, -40), entry(2, -5)]
    out = run_read(["activity_log_entries"], config(start_date="2026-11-01T00:00:00Z"))
    assert uris(out, "activity_log_entries") == [f"{API}/activity_log_entries/e2"]
    assert api.paths("/activity_log_entries")[0]["min_occurred_at"] == [asked("2026-11-01T00:00:00.000000Z")]


def test_a_state_that_is_not_a_timestamp_fails_saying_how_to_reset(api: FakeCalendly) -> None:
    out = run_read(["contacts"], state={"contacts": {"updated_at": "yesterday"}}, expect_error=True)
    assert any("Reset the stream's state" in e.trace.error.message for e in out.errors)


def test_outgoing_communications_restarted_by_an_expired_page_token_lose_nothing(api: FakeCalendly) -> None:
    # No uri: a restart skips what it already yielded by the stream's own key (the hash of the message's fields).
    api.outgoing = [message(i, -20 + i * 0.01) for i in range(250)]
    api.faults.append(Fault(r"^/outgoing_communications$", 400, EXPIRED_TOKEN, query_has="page_token"))
    out = run_read(["outgoing_communications"])
    emitted = records(out, "outgoing_communications")
    assert len(emitted) == 250
    assert len({(r["event_uri"], r["to"]) for r in emitted}) == 250
    assert len({r["communication_key"] for r in emitted}) == 250


def test_the_activity_log_restarts_an_expired_page_token_at_its_last_occurred_at(api: FakeCalendly) -> None:
    api.activity = [entry(i, -80 + i * 0.03) for i in range(2500)]
    api.faults.append(Fault(r"^/activity_log_entries$", 400, EXPIRED_TOKEN, query_has="page_token"))
    out = run_read(["activity_log_entries"])
    assert uris(out, "activity_log_entries") == [e["uri"] for e in api.activity]  # each once, in order
    queries = api.paths("/activity_log_entries")
    # The restart asks from just before the last entry yielded (the 1,000th), not from the beginning again.
    assert queries[2]["min_occurred_at"] == [asked(api.activity[999]["occurred_at"])] and "page_token" not in queries[2]


def test_the_90_day_warning_in_full_and_not_for_a_cursor_exactly_90_days_old(api: FakeCalendly) -> None:
    api.activity = [entry(1, -3)]
    old = run_read(["activity_log_entries"], state={"activity_log_entries": {"occurred_at": ts(days(-90.5))}})
    assert [w for w in warnings(old) if "90 days" in w] == [
        f"Stream activity_log_entries: the last sync read entries up to {ts(days(-90.5))}, but Calendly keeps the "
        f"activity log for 90 days only, from {ts(days(-90))}: the entries in between are gone and cannot be synced. "
        "Sync at least every 90 days to keep the log complete."
    ]
    edge = run_read(["activity_log_entries"], state={"activity_log_entries": {"occurred_at": ts(days(-90))}})
    assert not [w for w in warnings(edge) if "90 days" in w]


def test_the_activity_log_falls_back_to_100_a_page_once_when_calendly_refuses_count_1000(api: FakeCalendly) -> None:
    api.activity_max_count = 100
    api.activity = [entry(i, -80 + i * 0.03) for i in range(250)]
    out = run_read(["activity_log_entries"])
    assert not out.errors and uris(out, "activity_log_entries") == [e["uri"] for e in api.activity]
    assert [q["count"] for q in api.paths("/activity_log_entries")] == [["1000"], ["100"], ["100"], ["100"]]
    [said] = [m.log.message for m in out.logs if "refused count=1000" in m.log.message]
    assert said.startswith("Stream activity_log_entries:") and "reading 100 a page instead" in said
    assert "count must be between 1 and 100" in said and not warnings(out)


def test_a_second_count_refusal_fails_the_stream_naming_count(api: FakeCalendly) -> None:
    api.activity_max_count = 50  # refuses 100 too: the fallback happens once, then it is an error
    api.activity = [entry(1, -1)]
    out = run_read(["activity_log_entries"], expect_error=True)
    assert [q["count"] for q in api.paths("/activity_log_entries")] == [["1000"], ["100"]]
    assert any("count must be between 1 and 100" in e.trace.error.message for e in out.errors)


def test_other_streams_do_not_fall_back_on_a_400_naming_count(api: FakeCalendly) -> None:
    body = {"title": "Invalid Argument", "message": "bad", "details": [{"parameter": "count", "message": "too big"}]}
    api.faults.append(Fault(r"^/contacts$", 400, body))
    out = run_read(["contacts"], expect_error=True)
    assert len(api.paths("/contacts")) == 1 and any("count too big" in e.trace.error.message for e in out.errors)
