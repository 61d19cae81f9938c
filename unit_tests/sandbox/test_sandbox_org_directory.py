"""Organization, invitations, groups, group relationships and teams: parameters, filters, gates."""

from __future__ import annotations

import pytest
from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import API_BASE, DatasetSpec, Sandbox

NO_ACCESS = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
NO_PERMISSION = {"title": "Permission Denied", "message": "You do not have permission"}


def _insufficient(scope: str) -> dict:
    return {
        "title": "Insufficient scope",
        "message": "This operation requires the scopes listed in the 'required_scopes' array.",
        "required_scopes": [scope],
    }


def _id(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def test_organization_fields(admin: Client, acme: str) -> None:
    org = admin.ok(f"/organizations/{_id(acme)}")["resource"]
    assert org["plan"] == "enterprise" and org["stage"] == "paid" and org["kind"] == "multiple"


# -- invitations ---------------------------------------------------------------------------------------------
def test_invitations_listing_and_filters(admin: Client, ro: Sandbox, acme: str) -> None:
    path = f"/organizations/{_id(acme)}/invitations"
    truth = ro.truth.records("organization_invitations", "admin")
    assert {i["status"] for i in truth} == {"pending", "accepted", "declined"}
    assert sum(i["status"] == "pending" for i in truth) == ro.spec.pending_invitations
    assert admin.all(path, count=2) == truth
    assert admin.all(path, sort="created_at:desc") == truth[::-1]
    assert admin.all(path, status="pending") == [i for i in truth if i["status"] == "pending"]
    accepted = next(i for i in truth if i["status"] == "accepted")
    assert admin.all(path, email=accepted["email"].upper()) == [accepted]
    members = {m["user"]["uri"]: m for m in ro.truth.organization_memberships("admin")}
    for inv in truth:
        assert inv["uri"].startswith(f"{acme}/invitations/") and inv["organization"] == acme
        assert inv["created_at"] <= inv["updated_at"]
        if inv["status"] == "accepted":
            assert members[inv["user"]]["user"]["email"] == inv["email"]
            assert inv["updated_at"] == members[inv["user"]]["created_at"]  # accepted when they joined
        else:
            assert "user" not in inv
    assert any(i["last_sent_at"] is None for i in truth) and any(i["last_sent_at"] for i in truth)
    assert admin.get(path, status="expired").status_code == 400
    assert admin.get(path, sort="email:asc").status_code == 400


def test_invitations_gates(ro: Sandbox, client, member: Client, acme: str, solo: str) -> None:
    path = f"/organizations/{_id(acme)}/invitations"
    assert member.get(path).json() == NO_ACCESS and member.get(path).status_code == 403
    assert client(ro, "no_teams").get(path).json() == NO_PERMISSION
    assert client(ro, "admin").get(f"/organizations/{_id(solo)}/invitations").status_code == 403
    assert client(ro, "admin").get("/organizations/00000000-0000-4000-8000-000000000000/invitations").status_code == 404
    solo_invites = client(ro, "no_teams").all(f"/organizations/{_id(solo)}/invitations")
    assert solo_invites == ro.truth.records("organization_invitations", "no_teams") and solo_invites


def test_members_may_list_invitations_when_configured(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    member = client(sb, "member")
    path = f"/organizations/{_id(sb.truth.organization('member')['uri'])}/invitations"
    assert member.get(path).status_code == 403
    sb.set_behaviour(invitations_readers="members")
    assert member.all(path) == sb.truth.records("organization_invitations", "member")


# -- groups and relationships --------------------------------------------------------------------------------
def test_groups(admin: Client, member: Client, ro: Sandbox, acme: str) -> None:
    truth = ro.truth.records("groups", "admin")
    assert len(truth) == ro.spec.groups
    assert admin.all("/groups", organization=acme, count=1) == truth
    assert member.all("/groups", organization=acme) == truth  # any member
    rels = ro.truth.records("group_relationships", "admin")
    for g in truth:
        members = [
            r
            for r in rels
            if r["group"] == g["uri"] and r["role"] == "member" and r["owner"]["type"] != "OrganizationInvitation"
        ]
        assert g["member_count"] == len(members)
    missing = admin.get("/groups")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "organization"
    assert missing.json()["title"] == "Invalid Argument"
    assert admin.get("/groups", organization="nope").status_code == 400
    assert admin.get("/groups", organization=acme, count=101).status_code == 400


def test_groups_gates(ro: Sandbox, client, acme: str, solo: str) -> None:
    no_teams = client(ro, "no_teams")
    for path in ("/groups", "/group_relationships"):
        refused = no_teams.get(path, organization=solo)
        assert refused.status_code == 403 and refused.json() == NO_ACCESS
        foreign = client(ro, "admin").get(path, organization=solo)
        assert foreign.status_code == 403 and foreign.json() == NO_ACCESS


def test_groups_need_the_scope(make_sandbox, client, monkeypatch) -> None:
    from calendly_sandbox import tokens

    monkeypatch.setitem(tokens.TOKEN_SCOPES, "no_contacts_scope", tokens.ALL_SCOPES - {tokens.SCOPE_GROUPS})
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    refused = client(sb, "no_contacts_scope").get("/groups", organization=acme)
    assert refused.status_code == 403 and refused.json() == _insufficient("groups:read")
    with pytest.raises(PermissionError):
        sb.truth.records("groups", "no_contacts_scope")


def test_group_relationships(admin: Client, ro: Sandbox, acme: str) -> None:
    truth = ro.truth.records("group_relationships", "admin")
    assert admin.all("/group_relationships", organization=acme, count=3) == truth
    assert admin.all("/group_relationships") == truth  # every filter is optional
    kinds = {r["owner"]["type"] for r in truth}
    assert kinds == {"OrganizationMembership", "OrganizationInvitation"}
    assert {r["role"] for r in truth} == {"member", "admin"}
    memberships = {m["uri"]: m for m in ro.truth.organization_memberships("admin")}
    invitations = {i["uri"]: i for i in ro.truth.records("organization_invitations", "admin")}
    member_roles: dict[str, int] = {}
    for r in truth:
        owner = r["owner"]
        if owner["type"] == "OrganizationMembership":
            m = memberships[owner["uri"]]
            assert owner["role"] == m["role"] and owner["user"]["uri"] == m["user"]["uri"]
            assert "time_notation" not in owner["user"]
        else:
            assert (
                invitations[owner["uri"]]["status"] == "pending"
                and owner["email"] == invitations[owner["uri"]]["email"]
            )
        if r["role"] == "member":
            member_roles[owner["uri"]] = member_roles.get(owner["uri"], 0) + 1
    assert max(member_roles.values()) == 1  # one member relationship per owner
    group = truth[0]["group"]
    assert admin.all("/group_relationships", group=group) == [r for r in truth if r["group"] == group]
    owner = truth[0]["owner"]["uri"]
    assert admin.all("/group_relationships", owner=owner) == [r for r in truth if r["owner"]["uri"] == owner]
    invited = next(r for r in truth if r["owner"]["type"] == "OrganizationInvitation")["owner"]["uri"]
    assert admin.all("/group_relationships", owner=invited)
    assert admin.get("/group_relationships", owner=f"{API_BASE}/users/abc").status_code == 400


# -- teams ---------------------------------------------------------------------------------------------------
def test_teams(admin: Client, member: Client, ro: Sandbox, client) -> None:
    truth = ro.truth.records("teams", "admin")
    assert len(truth) == ro.spec.teams
    assert [t["name"] for t in truth] == sorted(t["name"] for t in truth)
    assert admin.all("/teams", count=1) == truth
    assert member.all("/teams") == truth
    assert set(truth[0]) == {"uri", "name", "organization", "scheduling_url"}
    me = ro.truth.user("admin")["uri"]
    mine = admin.all("/teams", user=me)
    assert mine and len(mine) <= len(truth)
    outsider = ro.truth.user("no_teams")["uri"]
    assert admin.get("/teams", user=outsider).status_code == 403
    assert client(ro, "no_teams").all("/teams") == []  # an organization without teams lists none


def test_teams_without_user_lists_the_callers_when_configured(make_sandbox, client) -> None:
    sb = make_sandbox(dataset=DatasetSpec.reference(anchor=ANCHOR, events=50), rate_limit_per_minute=None)
    admin = client(sb, "admin")
    everyone = admin.all("/teams")
    sb.set_behaviour(teams_without_user="caller")
    mine = admin.all("/teams")
    assert mine == admin.all("/teams", user=sb.truth.user("admin")["uri"]) == sb.truth.records("teams", "admin")
    assert 0 < len(mine) < len(everyone)
