"""The contact book endpoints (calendly_sandbox/api_contactbook.py, contactbook.py): definitions, one contact, Lists
and Views, the contact_list filter, notes; the documented errors; the control API's changes."""

from __future__ import annotations

from sandbox_helpers import Client, error

from calendly_sandbox import Sandbox

WHOLE = {"next_page": None, "previous_page": None, "next_page_token": None, "previous_page_token": None}


def test_definitions_whole_and_every_contact_carries_every_field(ro: Sandbox, admin: Client) -> None:
    body = admin.ok("/contacts/custom_field_definitions")
    definitions = body["collection"]
    assert body["pagination"] == {"count": len(definitions), **WHOLE}
    kinds = {d["field_type"] for d in definitions}
    assert kinds == {"text", "number", "currency", "tags", "date", "single_select", "invitee_question"}
    by_uri = {d["uri"]: d for d in definitions}
    for contact in ro.truth.records("contacts", "admin"):
        assert [f["uri"] for f in contact["custom_fields"]] == list(by_uri)  # every defined field
        for field in contact["custom_fields"]:
            d = by_uri[field["uri"]]
            if d["field_type"] == "tags":
                assert isinstance(field["value"], list)
            elif d["field_type"] == "single_select" and field["value"] is not None:
                assert field["value"] in {o["uuid"] for o in d["options"]}  # an option uuid
            elif d["field_type"] == "currency" and field["value"] is not None:
                assert isinstance(field["value"], int) and d["currency"] == "USD"  # an amount, not cents


def test_one_contact_and_404_for_another_users(ro: Sandbox, admin: Client, member: Client) -> None:
    mine = ro.truth.records("contacts", "admin")[0]
    uuid = mine["uri"].rsplit("/", 1)[1]
    assert admin.ok(f"/contacts/{uuid}") == {"resource": mine}
    assert member.get(f"/contacts/{uuid}").status_code == 404


def test_lists_and_views_whole_with_type_filter_and_members(ro: Sandbox, admin: Client, member: Client) -> None:
    body = admin.ok("/contact_lists")
    lists = body["collection"]
    assert body["pagination"] == {"count": len(lists), **WHOLE} and len(lists) <= 25
    assert {lst["type"] for lst in lists} == {"static_list", "dynamic_view"}
    assert [lst["type"] for lst in admin.ok("/contact_lists", type="dynamic_view")["collection"]] == ["dynamic_view"]
    assert admin.get("/contact_lists", type="folder").status_code == 400
    for lst in lists:
        members = admin.all("/contacts", contact_list=lst["uri"], count=100)
        assert len(members) == lst["contact_count"]
        assert member.get("/contacts", contact_list=lst["uri"]).status_code == 404  # not the member's List
    view = next(lst for lst in lists if lst["type"] == "dynamic_view")
    assert all(c["country"] == "US" for c in admin.all("/contacts", contact_list=view["uri"], count=100))


def test_notes_need_one_to_ten_contacts_and_take_no_other_parameter(ro: Sandbox, admin: Client) -> None:
    contacts = [c["uri"] for c in ro.truth.records("contacts", "admin")]
    assert error(admin.get("/notes"))["details"] == [{"parameter": "contact", "message": "is required"}]
    assert admin.get("/notes", contact=",".join(contacts[:11])).status_code == 400
    assert admin.get("/notes", contact=contacts[0], sort="updated_at:desc").status_code == 400
    notes = admin.all("/notes", contact=",".join(contacts[:10]), count=2)
    assert {n["contact"] for n in notes} <= set(contacts[:10])
    stamps = [n["updated_at"] for n in notes]
    assert stamps == sorted(stamps, reverse=True)  # most recently updated first


def test_notes_are_private(make_sandbox, client) -> None:  # type: ignore[no-untyped-def]
    sandbox: Sandbox = make_sandbox()
    admin, member = client(sandbox, "admin"), client(sandbox, "member")
    contact = sandbox.truth.records("contacts", "member")[0]["uri"]
    note = sandbox.add_note(contact, title="Mine", owner_uri=sandbox.store.token_users["member"])["note"]
    assert note["uri"] in {n["uri"] for n in member.all("/notes", contact=contact)}
    assert note["uri"] not in {n["uri"] for n in admin.all("/notes", contact=contact)}


def test_mutations_change_lists_members_and_contacts(make_sandbox, client) -> None:  # type: ignore[no-untyped-def]
    sandbox: Sandbox = make_sandbox()
    admin = client(sandbox, "admin")
    contacts = [c["uri"] for c in sandbox.truth.records("contacts", "admin")]
    created = sandbox.create_contact_list("VIP", contacts[:2])["contact_list"]
    assert created["type"] == "static_list" and created["contact_count"] == 2
    sandbox.add_list_members(created["uri"], [contacts[2]])
    sandbox.remove_list_members(created["uri"], [contacts[0]])
    listed = {c["uri"] for c in admin.all("/contacts", contact_list=created["uri"])}
    assert listed == {contacts[1], contacts[2]}
    sandbox.delete_contact(contacts[1])
    assert {c["uri"] for c in admin.all("/contacts", contact_list=created["uri"])} == {contacts[2]}
    assert admin.get("/contacts/" + contacts[1].rsplit("/", 1)[1]).status_code == 404
    assert contacts[1] not in {c["uri"] for c in admin.all("/contacts", count=100)}
    sandbox.delete_contact_list(created["uri"])
    assert created["uri"] not in {lst["uri"] for lst in admin.ok("/contact_lists")["collection"]}
    view = sandbox.create_contact_view("Germany", "DE")["contact_list"]
    assert view["contact_count"] == sum(c["country"] == "DE" for c in sandbox.truth.records("contacts", "admin"))
    new = sandbox.create_contact("fresh@example.com", country="DE")["contact"]
    assert {f["value"] for f in new["custom_fields"] if f["label"] != "Interests"} == {None}
    assert new["uri"] in {c["uri"] for c in admin.all("/contacts", contact_list=view["uri"])}
