"""The contact book streams (requests-mock): definitions and Lists unpaged, memberships per List, notes opt-in."""

from __future__ import annotations

import pytest
from airbyte_cdk.test.entrypoint_wrapper import discover
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly import SourceCalendly
from source_calendly.config import CalendlyConfig
from unit_tests.fake_api import API, FakeCalendly, days, ts
from unit_tests.helpers import config, records, run_read, warnings

LIST_A, LIST_B = f"{API}/contact_lists/la", f"{API}/contact_lists/lb"


def contact(i: int) -> dict:
    return {"uri": f"{API}/contacts/c{i}", "emails": [{"email": f"c{i}@example.com", "is_primary": True}],
            "created_at": ts(days(-400 + i)), "updated_at": ts(days(-300 + i)), "custom_fields": []}  # fmt: skip


def a_list(uri: str, kind: str = "static_list", count: int | None = 2) -> dict:
    return {"uri": uri, "name": uri[-2:], "type": kind, "contact_count": count,
            "created_at": ts(days(-10)), "updated_at": ts(days(-10))}  # fmt: skip


def note(i: int, contact_no: int) -> dict:
    return {"uri": f"{API}/notes/n{i}", "contact": f"{API}/contacts/c{contact_no}", "title": f"Note {i}",
            "body": None, "remind_at": None, "created_at": ts(days(-5)),
            "updated_at": ts(days(-5 + i * 0.01))}  # fmt: skip


def test_definitions_are_read_whole_in_one_request_without_count(api: FakeCalendly) -> None:
    api.contact_definitions = [
        {"uri": f"{API}/contacts/custom_field_definitions/d1", "label": "Segment", "field_type": "single_select",
         "options": [{"uuid": "o1", "label": "smb", "color": None, "is_active": True}],
         "created_at": ts(days(-3)), "updated_at": ts(days(-3))},
        {"uri": f"{API}/contacts/custom_field_definitions/d2", "label": "Value", "field_type": "currency",
         "currency": "USD", "created_at": ts(days(-2)), "updated_at": ts(days(-2))},
    ]  # fmt: skip
    out = run_read(["contact_custom_field_definitions"])
    assert records(out, "contact_custom_field_definitions") == api.contact_definitions
    assert api.paths("/contacts/custom_field_definitions") == [{}]  # no count, no page_token: it has no pages


def test_lists_once_and_memberships_per_list_as_pairs(api: FakeCalendly) -> None:
    api.contacts = [contact(i) for i in range(5)]
    api.contact_lists = [a_list(LIST_A), a_list(LIST_B, "dynamic_view", None)]
    api.list_members = {LIST_A: [f"{API}/contacts/c1", f"{API}/contacts/c3"], LIST_B: [f"{API}/contacts/c4"]}
    out = run_read(["contact_lists", "contact_list_memberships"])
    no_nulls = [{k: v for k, v in r.items() if v is not None} for r in api.contact_lists]  # the CDK drops nulls
    assert records(out, "contact_lists") == no_nulls
    assert records(out, "contact_list_memberships") == [
        {"contact_list": LIST_A, "contact": f"{API}/contacts/c1"},
        {"contact_list": LIST_A, "contact": f"{API}/contacts/c3"},
        {"contact_list": LIST_B, "contact": f"{API}/contacts/c4"},
    ]
    assert api.paths("/contact_lists") == [{}]  # read once for both streams
    assert [q["contact_list"] for q in api.paths("/contacts")] == [[LIST_A], [LIST_B]]
    assert all(q["count"] == ["100"] and q["exclude"] == ["custom_fields"] for q in api.paths("/contacts"))


def test_a_list_deleted_between_the_listing_and_its_members_is_skipped_with_a_warning(api: FakeCalendly) -> None:
    api.contacts = [contact(1)]
    api.contact_lists = [a_list(LIST_A), a_list(LIST_B)]
    api.list_members = {LIST_B: [f"{API}/contacts/c1"]}  # LIST_A is gone: 404
    out = run_read(["contact_list_memberships"])
    assert records(out, "contact_list_memberships") == [{"contact_list": LIST_B, "contact": f"{API}/contacts/c1"}]
    assert any(LIST_A in w and "404" in w for w in warnings(out))


def test_without_the_scope_every_contact_book_stream_is_skipped_with_a_warning(api: FakeCalendly) -> None:
    api.missing_scopes = {"contacts:read"}
    streams = ["contact_custom_field_definitions", "contact_lists", "contact_list_memberships", "contact_notes"]
    out = run_read(streams, config(sync_contact_notes=True))
    assert not out.records
    for name in streams:
        assert any(
            w.startswith(f"Skipping stream {name}: the token lacks the scope contacts:read") for w in warnings(out)
        )


def test_no_plan_refusal_since_2026_11_19_every_plan_reads_them(api: FakeCalendly) -> None:
    api.plan = "free"
    api.contact_lists = [a_list(LIST_A)]
    assert records(run_read(["contact_lists"]), "contact_lists") == api.contact_lists


def test_notes_are_not_discovered_unless_switched_on() -> None:
    off = {s.name for s in discover(SourceCalendly(), config()).catalog.catalog.streams}
    on = {s.name for s in discover(SourceCalendly(), config(sync_contact_notes=True)).catalog.catalog.streams}
    assert "contact_notes" not in off and on - off == {"contact_notes"}


def test_notes_off_requests_nothing_for_them(api: FakeCalendly) -> None:
    api.contacts = [contact(1)]
    api.notes = [note(1, 1)]
    run_read(["contacts"], full_refresh=True)
    assert api.paths("/notes") == []


def test_notes_ask_ten_contacts_a_request_and_page_within_a_batch(api: FakeCalendly) -> None:
    api.contacts = [contact(i) for i in range(25)]
    api.notes = [note(i, i % 3) for i in range(150)] + [note(1000 + i, 20 + i) for i in range(5)]
    out = run_read(["contact_notes"], config(sync_contact_notes=True))
    assert sorted(r["uri"] for r in records(out, "contact_notes")) == sorted(n["uri"] for n in api.notes)
    asked = [q["contact"][0].split(",") for q in api.paths("/notes") if "page_token" not in q]
    assert [len(batch) for batch in asked] == [10, 10, 5]
    assert len(api.paths("/notes")) == 4  # 150 notes of the first ten contacts: two pages
    assert len(api.paths("/contacts")) == 1  # every contact, listed once


def test_the_switch_must_be_a_boolean() -> None:
    assert CalendlyConfig.from_mapping({"personal_access_token": "t"}).sync_contact_notes is False
    assert CalendlyConfig.from_mapping({"personal_access_token": "t", "sync_contact_notes": True}).sync_contact_notes
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "sync_contact_notes": "yes"})
    assert error.value.message.startswith("sync_contact_notes must be true or false; got 'yes'.")
