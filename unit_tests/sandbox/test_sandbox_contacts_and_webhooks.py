"""Contacts (contacts:read) and webhook subscriptions (webhooks:read, admins), both on every plan since November
2026 (https://developer.calendly.com/release-notes/2026/11/19, https://developer.calendly.com/release-notes/2026/11/3)."""

from __future__ import annotations

from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import DatasetSpec, Sandbox

NO_ACCESS = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
NO_PERMISSION = {"title": "Permission Denied", "message": "You do not have permission"}
UNAUTHORIZED = {"title": "Permission Denied", "message": "Unauthorized"}


def test_contacts_sorts(ro: Sandbox, admin: Client) -> None:
    newest_first = ro.truth.records("contacts", "admin")
    assert newest_first and admin.all("/contacts", sort="updated_at:desc", count=7) == newest_first
    stamps = [c["updated_at"] for c in newest_first]
    assert stamps == sorted(stamps, reverse=True)
    assert any(c["updated_at"] > c["created_at"] for c in newest_first)
    by_created = ro.truth.contacts("admin", "created_at:asc")
    assert admin.all("/contacts") == by_created  # the default order (Calendly states none)
    assert admin.all("/contacts", sort="created_at:desc") == by_created[::-1]
    assert admin.all("/contacts", sort="updated_at:asc,created_at:desc") == newest_first[::-1]
    assert admin.get("/contacts", sort="name:asc").status_code == 400


def test_contacts_are_the_owners_by_default(ro: Sandbox, admin: Client, member: Client) -> None:
    mine, theirs = admin.all("/contacts", count=100), member.all("/contacts", count=100)
    assert mine and theirs and not {c["uri"] for c in mine} & {c["uri"] for c in theirs}
    # Contacts are the people the owner met: each one booked an event the owner hosted.
    hosted = {i["email"].lower() for e in ro.truth.scheduled_events("member") for i in ro.truth.invitees(e["uri"])}
    assert {c["emails"][0]["email"].lower() for c in theirs} <= hosted


def test_contact_fields_and_filters(ro: Sandbox, admin: Client) -> None:
    contacts = ro.truth.records("contacts", "admin")
    for c in contacts:
        assert sum(e["is_primary"] for e in c["emails"]) == 1 and len(c["emails"]) <= 10
        assert c["created_at"] <= c["updated_at"] <= ANCHOR.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert any(c["custom_fields"] for c in contacts) and any(c["company"] for c in contacts)
    target = next(c for c in contacts if c["company"] and c["country"])
    email = target["emails"][0]["email"]
    assert admin.all("/contacts", email=email.upper()) == [target]
    assert target in admin.all("/contacts", email=f"nobody@example.com,{email}")
    by_company = admin.all("/contacts", company=target["company"][:3].lower(), sort="updated_at:desc")
    assert by_company == [c for c in contacts if target["company"][:3].lower() in (c["company"] or "").lower()]
    by_country = admin.all("/contacts", country=target["country"], sort="updated_at:desc")
    assert by_country == [c for c in contacts if c["country"] == target["country"]]
    trimmed = admin.all("/contacts", exclude="custom_fields", count=5, sort="updated_at:desc")
    assert trimmed == [{k: v for k, v in c.items() if k != "custom_fields"} for c in contacts]
    assert admin.get("/contacts", exclude="emails").status_code == 400


def test_contacts_gates(ro: Sandbox, client, make_sandbox) -> None:
    scoped = client(ro, "no_contacts_scope").get("/contacts")
    assert scoped.status_code == 403 and scoped.json()["required_scopes"] == ["contacts:read"]
    assert client(ro, "no_teams").ok("/contacts")["collection"]
    basic = make_sandbox(dataset=DatasetSpec.small(plan="basic", anchor=ANCHOR, events=30), rate_limit_per_minute=None)
    assert basic.truth.organization("admin")["stage"] == "free"
    listed = client(basic, "admin").all("/contacts", sort="updated_at:desc")
    assert listed and listed == basic.truth.records("contacts", "admin")


# -- webhook subscriptions -----------------------------------------------------------------------------------
def test_webhooks_listing(ro: Sandbox, admin: Client, acme: str) -> None:
    truth = ro.truth.records("webhook_subscriptions", "admin")
    assert {w["scope"] for w in truth} == {"organization", "user", "group"}
    organization = [w for w in truth if w["scope"] == "organization"]
    assert len(organization) == 2 and {w["state"] for w in organization} == {"active", "disabled"}
    assert admin.all("/webhook_subscriptions", organization=acme, scope="organization", count=1) == organization
    assert (
        admin.all("/webhook_subscriptions", organization=acme, scope="organization", sort="created_at:desc")
        == organization[::-1]
    )
    # Truth is the three scopes read in turn: per member (membership order), then per group (groups order).
    members = [m["user"]["uri"] for m in ro.truth.organization_memberships("admin")]
    hooks = "/webhook_subscriptions"
    per_user = [w for m in members for w in admin.all(hooks, organization=acme, scope="user", user=m)]
    assert len({w["user"] for w in per_user}) >= 2 and all(w["scope"] == "user" for w in per_user)
    groups = [g["uri"] for g in ro.truth.records("groups", "admin")]
    per_group = [
        w for g in groups for w in admin.all("/webhook_subscriptions", organization=acme, scope="group", group=g)
    ]
    assert per_group and all(w["scope"] == "group" and w["user"] is None for w in per_group)
    assert truth == organization + per_user + per_group
    for w in truth:
        assert (w["retry_started_at"] is None) == (w["state"] == "active")
        assert (w["user"] is not None) == (w["scope"] == "user") and (w["group"] is not None) == (w["scope"] == "group")


def test_webhooks_required_parameters(admin: Client, acme: str) -> None:
    cases = [
        ({}, {"organization", "scope"}),
        ({"organization": acme}, {"scope"}),
        ({"organization": acme, "scope": "user"}, {"user"}),
        ({"organization": acme, "scope": "group"}, {"group"}),
    ]
    for params, missing in cases:
        response = admin.get("/webhook_subscriptions", **params)
        assert response.status_code == 400 and response.json()["title"] == "Invalid Argument"
        assert {d["parameter"] for d in response.json()["details"]} == missing, params
    assert admin.get("/webhook_subscriptions", organization=acme, scope="team").status_code == 400


def test_webhooks_gates(ro: Sandbox, client, member: Client, acme: str, solo: str) -> None:
    refused = member.get("/webhook_subscriptions", organization=acme, scope="organization")
    assert refused.status_code == 403 and refused.json() == NO_ACCESS
    me, admin_uri = ro.truth.user("member")["uri"], ro.truth.user("admin")["uri"]
    own = member.ok("/webhook_subscriptions", organization=acme, scope="user", user=me)["collection"]
    assert own and {w["user"] for w in own} == {me} and own == ro.truth.records("webhook_subscriptions", "member")
    other = member.get("/webhook_subscriptions", organization=acme, scope="user", user=admin_uri)
    assert other.status_code == 403 and other.json() == UNAUTHORIZED
    foreign = client(ro, "admin").get("/webhook_subscriptions", organization=solo, scope="organization")
    assert foreign.status_code == 403 and foreign.json() == NO_PERMISSION
    solo_hooks = client(ro, "no_teams").all("/webhook_subscriptions", organization=solo, scope="organization")
    assert solo_hooks == ro.truth.records("webhook_subscriptions", "no_teams") and solo_hooks
    scoped = client(ro, "no_contacts_scope")  # has webhooks:read
    assert scoped.ok("/webhook_subscriptions", organization=acme, scope="organization")["collection"]


def test_webhooks_on_every_plan(make_sandbox, client) -> None:
    sb = make_sandbox(dataset=DatasetSpec.small(plan="basic", anchor=ANCHOR, events=30), rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    assert sb.truth.organization("admin")["stage"] == "free"
    listed = client(sb, "admin").all("/webhook_subscriptions", organization=acme, scope="organization")
    truth = sb.truth.records("webhook_subscriptions", "admin")
    assert listed and listed == [w for w in truth if w["scope"] == "organization"]
