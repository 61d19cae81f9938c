"""Deleted contacts (source_calendly/sweep.py): a tombstone only for a contact Calendly answers 404 for, within a
budget of recheck_share(history_requests) requests a sync; never for one merely not re-read."""

from __future__ import annotations

from datetime import timedelta

from unit_tests.fake_api import API, NOW, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, final_states, invitees_synced, records, run_read, warnings

BOTH = ["event_invitees", "contacts"]
DELETED = "_ab_cdc_deleted_at"


def contact(i: int) -> dict:
    return {"uri": f"{API}/contacts/c{i}", "emails": [{"email": f"c{i}@example.com", "is_primary": True}],
            "created_at": ts(days(-400 + i * 0.01)), "updated_at": ts(days(-300 + i * 0.01)),
            "custom_fields": []}  # fmt: skip


def first_sync(api: FakeCalendly, n: int, **cfg: object) -> dict:
    api.contacts = [contact(i) for i in range(n)]
    state = final_states(run_read(["contacts"], config(**cfg)))
    api.server_date = NOW + timedelta(hours=1)
    api.requests.clear()
    return {**state, "event_invitees": invitees_synced(NOW)}


def tombstones(out: object) -> list[dict]:
    return [r for r in records(out, "contacts") if r.get(DELETED)]  # type: ignore[arg-type]


def sweep_pages(api: FakeCalendly) -> list[dict]:
    return [q for q in api.paths("/contacts") if q.get("sort") == ["created_at:asc"]]


def test_a_deleted_contact_is_a_tombstone_the_next_sync(api: FakeCalendly) -> None:
    state = first_sync(api, 150)
    gone = api.contacts.pop(40)
    out = run_read(BOTH, state=state)
    at = ts(NOW + timedelta(hours=1))  # Calendly's clock at the sync (its Date header)
    assert tombstones(out) == [{"uri": gone["uri"], "updated_at": at, DELETED: at}]
    assert len(sweep_pages(api)) == 2  # 149 contacts, 100 a page
    assert [p for p, _ in api.requests if p.startswith("/contacts/")] == ["/contacts/c40"]  # the confirmation
    known = final_states(out)["contacts"]["known"].split()
    assert "c40" not in known and len(known) == 149 and "deletion_sweep" not in final_states(out)["contacts"]


def test_nothing_deleted_costs_the_pages_of_the_pass_and_no_confirmation(api: FakeCalendly) -> None:
    state = first_sync(api, 150)
    out = run_read(BOTH, state=state)
    assert tombstones(out) == []
    assert len(sweep_pages(api)) == 2
    assert all(q["exclude"] == ["custom_fields"] and q["count"] == ["100"] for q in sweep_pages(api))
    assert not [p for p, _ in api.requests if p.startswith("/contacts/")]


def test_the_first_sync_makes_no_check(api: FakeCalendly) -> None:
    api.contacts = [contact(i) for i in range(3)]
    out = run_read(["contacts"])
    assert sweep_pages(api) == [] and tombstones(out) == []
    assert sorted(final_states(out)["contacts"]["known"].split()) == ["c0", "c1", "c2"]


def test_a_contact_a_pass_missed_but_calendly_still_has_is_no_tombstone(api: FakeCalendly) -> None:
    state = first_sync(api, 5)
    hidden = api.contacts[2]
    api.contacts.remove(hidden)  # listed nowhere this sync...
    api.faults.append(Fault("^/contacts/c2$", 200, {"resource": hidden}))  # ...but still there when asked
    out = run_read(BOTH, state=state)
    assert tombstones(out) == []
    assert "c2" in final_states(out)["contacts"]["known"].split()


def test_a_refused_check_yields_no_tombstone_and_skips_with_a_warning(api: FakeCalendly) -> None:
    state = first_sync(api, 5)
    api.contacts.pop(1)
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["contacts:read"]}
    api.faults.append(Fault("^/contacts$", 403, body, query_has="sort=created_at:asc"))
    out = run_read(BOTH, state=state)
    assert tombstones(out) == []
    assert any(w.startswith("Skipping stream contacts") for w in warnings(out))
    assert not [p for p, _ in api.requests if p.startswith("/contacts/")]


def test_a_failed_page_fails_the_sync_without_a_tombstone(api: FakeCalendly) -> None:
    state = first_sync(api, 150)
    api.contacts.pop(1)
    api.faults.append(Fault("^/contacts$", 500, times=50, query_has="page_token"))
    out = run_read(BOTH, config(max_retries=0), state=state, expect_error=True)
    assert tombstones(out) == []
    assert not [p for p, _ in api.requests if p.startswith("/contacts/")]


def test_a_refused_page_token_starts_the_pass_over_without_concluding(api: FakeCalendly) -> None:
    state = first_sync(api, 250)
    gone = api.contacts.pop(200)
    rejected = {"title": "Invalid Argument", "message": "The supplied parameters are invalid.",
                "details": [{"parameter": "page_token", "message": "is invalid"}]}  # fmt: skip
    api.faults.append(Fault("^/contacts$", 400, rejected, query_has="page_token"))
    out = run_read(BOTH, state=state)
    assert [r["uri"] for r in tombstones(out)] == [gone["uri"]]  # after the pass started over and finished
    assert len(sweep_pages(api)) == 2 + 3  # the first page, the refused second, then the whole pass again


def test_a_small_budget_spreads_the_pass_over_syncs_and_the_deletion_arrives_when_it_ends(api: FakeCalendly) -> None:
    # history_requests 20: one request a sync. 250 contacts are 3 pages, then one confirmation: the 4th sync.
    state = first_sync(api, 250, history_requests=20)
    gone = api.contacts.pop(10)
    arrived = []
    for number in range(1, 6):
        api.requests.clear()
        out = run_read(BOTH, config(history_requests=20), state=state)
        assert len(sweep_pages(api)) + len([p for p, _ in api.requests if p.startswith("/contacts/")]) <= 1
        arrived += [(number, r["uri"]) for r in tombstones(out)]
        state = {**final_states(out), "event_invitees": invitees_synced(NOW)}
    assert arrived == [(4, gone["uri"])]


def test_history_requests_0_turns_the_check_off(api: FakeCalendly) -> None:
    state = first_sync(api, 5, history_requests=0)
    api.contacts.pop(1)
    out = run_read(BOTH, config(history_requests=0), state=state)
    assert tombstones(out) == [] and sweep_pages(api) == []


def test_a_sync_that_lists_every_contact_anyway_checks_for_free(api: FakeCalendly) -> None:
    state = first_sync(api, 150)
    gone = api.contacts.pop(3)
    out = run_read(["contacts"], state={"contacts": state["contacts"]})  # no event_invitees: every contact again
    assert [r["uri"] for r in tombstones(out)] == [gone["uri"]]
    assert sweep_pages(api) == []


def test_a_full_refresh_neither_checks_nor_tombstones(api: FakeCalendly) -> None:
    state = first_sync(api, 5)
    api.contacts.pop(1)
    out = run_read(["contacts"], state=state, full_refresh=True)
    assert tombstones(out) == [] and sweep_pages(api) == []


def test_a_new_contact_during_a_pass_is_never_a_candidate(api: FakeCalendly) -> None:
    state = first_sync(api, 250, history_requests=20)
    api.contacts.append(contact(999))  # created after the pass began; emitted by the listing
    for _ in range(4):
        out = run_read(BOTH, config(history_requests=20), state=state)
        assert tombstones(out) == []
        state = {**final_states(out), "event_invitees": invitees_synced(NOW)}
    assert "c999" in state["contacts"]["known"].split()


def test_a_confirmation_calendly_refuses_is_no_tombstone(api: FakeCalendly) -> None:
    state = first_sync(api, 5)
    api.contacts.pop(1)
    api.faults.append(Fault("^/contacts/c1$", 403, {"title": "Permission Denied", "message": "No."}))
    out = run_read(BOTH, state=state)
    assert tombstones(out) == []
    assert "c1" in final_states(out)["contacts"]["known"].split()


def test_a_confirmation_that_fails_fails_the_sync_without_a_tombstone(api: FakeCalendly) -> None:
    state = first_sync(api, 5)
    api.contacts.pop(1)
    api.faults.append(Fault("^/contacts/c1$", 500, times=5))
    out = run_read(BOTH, config(max_retries=0), state=state, expect_error=True)
    assert tombstones(out) == []
