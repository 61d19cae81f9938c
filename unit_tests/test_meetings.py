"""Contacts whose meetings changed (source_calendly/meetings.py): event_invitees names them, contacts re-reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from source_calendly.meetings import MeetingEmails
from unit_tests.fake_api import API, NOW, FakeCalendly, days, event, invitee, ts
from unit_tests.helpers import config, final_states, run_read, uris

LATER = NOW + timedelta(hours=2)
BOTH = ["event_invitees", "contacts"]


def test_the_emails_are_known_only_for_a_complete_pass_that_covers_the_time_asked() -> None:
    emails = MeetingEmails()
    assert emails.covering(NOW) is None
    emails.add(["ignored@example.com"])  # no pass began
    emails.begin(NOW)
    emails.add(["A@Example.com", "", " b@example.com "])
    assert emails.covering(NOW) is None  # the pass is still running
    emails.complete()
    assert emails.covering(NOW) == {"a@example.com", "b@example.com"}
    assert emails.covering(NOW + timedelta(hours=1)) == {"a@example.com", "b@example.com"}
    assert emails.covering(NOW - timedelta(hours=1)) is None  # changes before the pass's view
    emails.begin(LATER)
    assert emails.covering(LATER) is None


def contact(i: int, email: str, updated: float, **dates: Any) -> dict[str, Any]:
    return {"uri": f"{API}/contacts/c{i}", "emails": [{"email": email, "is_primary": True}],
            "created_at": ts(days(-400)), "updated_at": ts(days(updated)), **dates}  # fmt: skip


def first_sync(api: FakeCalendly) -> dict[str, Any]:
    state = final_states(run_read(BOTH, config(history_requests=0)))
    api.server_date = LATER
    api.requests.clear()
    return state


def test_contacts_whose_meetings_changed_are_read_again_by_email(api: FakeCalendly) -> None:
    met = api.add_event(event("met", NOW + timedelta(hours=1), days(-3)))  # starts between the two syncs
    api.invitees[met["uri"]].append(invitee(met, "m", days(-3), email="met@example.com"))
    api.contacts = [contact(1, "met@example.com", -30), contact(2, "booked@example.com", -30),
                    contact(3, "idle@example.com", -30)]  # fmt: skip
    state = first_sync(api)
    # A booking made after the first sync: the event and its invitee are new; the contact's updated_at stays.
    booked = api.add_event(event("booked", days(10), NOW + timedelta(minutes=30)))
    api.invitees[booked["uri"]].append(invitee(booked, "b", NOW + timedelta(minutes=30), email="Booked@example.com"))
    second = run_read(BOTH, config(history_requests=0), state=state)
    assert sorted(uris(second, "contacts")) == [f"{API}/contacts/c1", f"{API}/contacts/c2"]
    lookups = [q for q in api.paths("/contacts") if "email" in q]
    assert lookups == [{"email": ["booked@example.com,met@example.com"], "count": ["100"]}]
    assert len(api.paths("/contacts")) == 2  # the listing down to the cursor, then one lookup


def test_without_event_invitees_every_contact_is_read_again(api: FakeCalendly) -> None:
    api.contacts = [contact(i, f"p{i}@example.com", -30 + i * 0.01) for i in range(150)]
    state = final_states(run_read(["contacts"]))
    api.server_date = LATER
    api.requests.clear()
    second = run_read(["contacts"], state=state)
    assert len(uris(second, "contacts")) == 150  # their meeting dates may have changed unseen
    assert [q.get("sort") for q in api.paths("/contacts")] == [["updated_at:desc"], None, None]
    assert any("reading every contact again" in m.log.message for m in second.logs)


def test_contacts_read_before_event_invitees_are_all_read_again(api: FakeCalendly) -> None:
    api.contacts = [contact(1, "p1@example.com", -30)]
    state = first_sync(api)
    second = run_read(["contacts", "event_invitees"], config(history_requests=0), state=state)
    assert uris(second, "contacts") == [f"{API}/contacts/c1"]


def test_a_resumed_invitee_pass_cannot_tell_so_every_contact_is_read_again(api: FakeCalendly) -> None:
    api.contacts = [contact(1, "p1@example.com", -30), contact(2, "p2@example.com", -29)]
    state = first_sync(api)
    resumed = {**state["event_invitees"], "pass": {"started_at": ts(LATER), "resume_from": ts(days(-1))}}
    second = run_read(BOTH, config(history_requests=0), state={**state, "event_invitees": resumed})
    assert sorted(uris(second, "contacts")) == [f"{API}/contacts/c1", f"{API}/contacts/c2"]


def test_a_contacts_state_without_a_readable_sync_time_reads_every_contact_again(api: FakeCalendly) -> None:
    api.contacts = [contact(1, "p1@example.com", -30), contact(2, "p2@example.com", -29)]
    state = first_sync(api)
    assert state["contacts"]["last_sync_started_at"] == ts(NOW)
    state["contacts"]["last_sync_started_at"] = "not a time"
    second = run_read(BOTH, config(history_requests=0), state=state)
    assert sorted(uris(second, "contacts")) == [f"{API}/contacts/c1", f"{API}/contacts/c2"]
    assert final_states(second)["contacts"]["last_sync_started_at"] == ts(LATER)
    third = run_read(BOTH, config(history_requests=0), state=final_states(second))
    assert uris(third, "contacts") == []  # known again: nothing changed
