"""Invitees, event types and organization memberships: filters, sorts, scopes, error bodies."""

from __future__ import annotations

import pytest
from sandbox_helpers import Client

from calendly_sandbox import Sandbox


def _uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def _group_event(ro: Sandbox) -> dict:
    return max(ro.truth.scheduled_events("admin"), key=lambda e: e["invitees_counter"]["total"])


# -- invitees -----------------------------------------------------------------------------------------------
def test_invitees_sorted_paged_and_filtered(admin: Client, ro: Sandbox) -> None:
    event = _group_event(ro)
    assert event["invitees_counter"]["total"] >= 3
    path = f"/scheduled_events/{_uuid(event['uri'])}/invitees"
    truth = ro.truth.invitees(event["uri"])
    assert [i["created_at"] for i in truth] == sorted(i["created_at"] for i in truth)
    assert admin.all(path, count=1) == truth
    assert admin.all(path, sort="created_at:desc", count=2) == list(reversed(truth))
    for status in ("active", "canceled"):
        assert admin.all(path, status=status) == [i for i in truth if i["status"] == status]
    assert admin.all(path, email=truth[0]["email"]) == [i for i in truth if i["email"] == truth[0]["email"]]


def test_invitees_bad_sort_is_400(admin: Client, ro: Sandbox) -> None:
    path = f"/scheduled_events/{_uuid(_group_event(ro)['uri'])}/invitees"
    assert admin.get(path, sort="start_time:asc").status_code == 400


def test_invitees_of_foreign_event_is_403(member: Client, ro: Sandbox) -> None:
    me = ro.truth.user("member")["uri"]
    foreign = next(
        e for e in ro.truth.scheduled_events("admin") if all(m["user"] != me for m in e["event_memberships"])
    )
    response = member.get(f"/scheduled_events/{_uuid(foreign['uri'])}/invitees")
    assert response.status_code == 403
    assert response.json() == {"title": "Permission Denied", "message": "You are not allowed to view this event"}


def test_invitees_of_unknown_event_is_404(admin: Client) -> None:
    response = admin.get("/scheduled_events/00000000-0000-4000-8000-000000000000/invitees")
    assert response.status_code == 404
    assert response.json() == {
        "title": "Resource Not Found",
        "message": "The server could not find the requested resource.",
    }


def test_invitee_of_another_event_is_404(admin: Client, ro: Sandbox) -> None:
    a, b = ro.truth.scheduled_events("admin")[:2]
    invitee = ro.truth.invitees(b["uri"])[0]
    assert admin.get(f"/scheduled_events/{_uuid(a['uri'])}/invitees/{_uuid(invitee['uri'])}").status_code == 404


def test_no_show_resource(admin: Client, ro: Sandbox) -> None:
    invitee = next(i for i in ro.truth.event_invitees("admin") if i["no_show"])
    body = admin.ok(f"/invitee_no_shows/{_uuid(invitee['no_show']['uri'])}")["resource"]
    assert body == {
        "uri": invitee["no_show"]["uri"],
        "invitee": invitee["uri"],
        "created_at": invitee["no_show"]["created_at"],
    }


# -- event types ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["name", "position", "created_at", "updated_at"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_event_type_sorts(admin: Client, acme: str, field: str, direction: str) -> None:
    got = admin.all("/event_types", organization=acme, sort=f"{field}:{direction}")
    values = [(t[field] if field != "name" else t["name"] or "") for t in got]
    assert values == sorted(values, reverse=direction == "desc")
    assert len(got) == admin.sandbox.spec.event_types


def test_event_types_default_sort_is_name(admin: Client, ro: Sandbox, acme: str) -> None:
    assert admin.all("/event_types", organization=acme) == ro.truth.event_types("admin")


def test_event_type_unknown_sort_is_400(admin: Client, acme: str) -> None:
    response = admin.get("/event_types", organization=acme, sort="color:asc")
    assert response.status_code == 400 and response.json()["details"][0]["parameter"] == "sort"


@pytest.mark.parametrize("flag", ["active", "admin_managed"])
def test_event_type_boolean_filters(admin: Client, ro: Sandbox, acme: str, flag: str) -> None:
    truth = ro.truth.event_types("admin")
    for value in (True, False):
        got = admin.all("/event_types", organization=acme, **{flag: str(value).lower()})
        assert got == [t for t in truth if t[flag] is value]
    assert admin.get("/event_types", organization=acme, **{flag: "yes"}).status_code == 400


def test_event_type_records_have_current_fields(ro: Sandbox) -> None:
    types = ro.truth.event_types("admin")
    for t in types:
        assert {"locale", "admin_managed", "is_paid", "position", "custom_questions", "locations", "profile"} <= set(t)
    assert {t["kind"] for t in types} == {"solo", "group"}
    assert any(t["custom_questions"] for t in types)


def test_event_type_scopes(ro: Sandbox, client, acme: str) -> None:
    member, admin = client(ro, "member"), client(ro, "admin")
    me = ro.truth.user("member")["uri"]
    forbidden = member.get("/event_types", organization=acme)
    assert forbidden.status_code == 403 and forbidden.json()["message"] == "You do not have permission"
    own = member.all("/event_types", user=me)
    assert own and own == ro.truth.event_types("member")
    assert all(t["profile"]["owner"] == me for t in own)
    assert admin.all("/event_types", user=me) == own
    other = member.get("/event_types", user=ro.truth.user("admin")["uri"])
    assert other.status_code == 403 and other.json()["message"] == "You do not have permission"
    outsider = admin.get("/event_types", user=ro.truth.user("no_teams")["uri"])
    assert outsider.status_code == 403 and outsider.json()["message"] == "This user is not in your organization"
    assert admin.get("/event_types").status_code == 400


# -- organization memberships ------------------------------------------------------------------------------------
def test_memberships_roles(ro: Sandbox) -> None:
    memberships = ro.truth.organization_memberships("admin")
    assert len(memberships) == ro.spec.members
    roles = {m["user"]["uri"]: m["role"] for m in memberships}
    assert roles[ro.truth.user("admin")["uri"]] == "owner"
    assert roles[ro.truth.user("member")["uri"]] == "user"
    assert roles[ro.truth.user("no_routing_scope")["uri"]] == "admin"
    assert list(roles.values()).count("owner") == 1
    for m in memberships:
        assert set(m["user"]) == {
            "uri", "name", "slug", "email", "scheduling_url", "timezone", "time_notation", "avatar_url", "locale",
            "created_at", "updated_at",
        }  # fmt: skip


def test_memberships_filters(member: Client, ro: Sandbox, acme: str) -> None:
    truth = ro.truth.organization_memberships("member")
    assert member.all("/organization_memberships", organization=acme) == truth  # any member may list
    me = ro.truth.user("member")
    assert member.all("/organization_memberships", user=me["uri"]) == [
        m for m in truth if m["user"]["uri"] == me["uri"]
    ]
    assert member.all("/organization_memberships", organization=acme, role="admin") == [
        m for m in truth if m["role"] == "admin"
    ]
    assert member.all("/organization_memberships", organization=acme, email=me["email"].upper())[0]["user"] == {
        k: me[k] for k in truth[0]["user"]
    }
    assert member.get("/organization_memberships", organization=acme, role="boss").status_code == 400
    assert member.get("/organization_memberships").status_code == 400


def test_memberships_scope_errors(ro: Sandbox, client, acme: str) -> None:
    member, admin = client(ro, "member"), client(ro, "admin")
    other = member.get("/organization_memberships", user=ro.truth.user("admin")["uri"])
    assert other.status_code == 403 and other.json()["message"] == "You do not have permission"
    colleague = admin.all("/organization_memberships", user=ro.truth.user("member")["uri"])
    assert len(colleague) == 1
    outsider = admin.get("/organization_memberships", user=ro.truth.user("no_teams")["uri"])
    assert outsider.status_code == 403 and outsider.json()["message"] == "This user is not in your organization"
    foreign = client(ro, "no_teams").get("/organization_memberships", organization=acme)
    assert foreign.status_code == 403
