"""Event type hosts (/event_type_memberships) and availability schedules (user and event type)."""

from __future__ import annotations

import pytest
from sandbox_helpers import Client

from calendly_sandbox import API_BASE, Sandbox

NOT_IN_ORG = {"title": "Permission Denied", "message": "This user is not in your organization"}
NO_ACCESS = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
NO_AVAILABILITY = {
    "title": "Insufficient scope",
    "message": "This operation requires the scopes listed in the 'required_scopes' array.",
    "required_scopes": ["availability:read"],
}


def test_hosts_agree_with_events_and_owners(ro: Sandbox, admin: Client) -> None:
    hosts: dict[str, set[str]] = {}
    for rec in ro.truth.records("event_type_memberships", "admin"):
        hosts.setdefault(rec["event_type"]["uri"], set()).add(rec["member"]["uri"])
    types = ro.truth.event_types("admin")
    assert set(hosts) == {t["uri"] for t in types}
    for et in types:
        assert et["profile"]["owner"] in hosts[et["uri"]]
        if et["pooling_type"] == "round_robin":
            assert len(hosts[et["uri"]]) >= 2
    for event in ro.truth.scheduled_events("admin"):
        for m in event["event_memberships"]:
            assert m["user"] in hosts[event["event_type"]], event["uri"]


def test_hosts_listing(ro: Sandbox, admin: Client, member: Client) -> None:
    pooled = next(t for t in ro.truth.event_types("admin") if t["pooling_type"] == "round_robin")
    listed = admin.all("/event_type_memberships", event_type=pooled["uri"], count=1)
    assert len(listed) >= 2 and [h["created_at"] for h in listed] == sorted(h["created_at"] for h in listed)
    assert member.all("/event_type_memberships", event_type=pooled["uri"]) == listed  # any member
    host = listed[0]
    assert host["event_type"] == pooled  # the full event type
    user = admin.ok(f"/users/{host['member']['uri'].rsplit('/', 1)[1]}")["resource"]
    assert host["member"] == user  # the full user
    missing = admin.get("/event_type_memberships")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "event_type"
    assert admin.get("/event_type_memberships", event_type="nope").status_code == 400
    assert admin.get("/event_type_memberships", event_type=f"{API_BASE}/event_types/0000").status_code == 404


def test_hosts_of_another_organization(ro: Sandbox, client) -> None:
    solo_type = ro.truth.event_types("no_teams")[0]
    refused = client(ro, "admin").get("/event_type_memberships", event_type=solo_type["uri"])
    assert refused.status_code == 403 and refused.json() == NO_ACCESS


def test_user_schedules(ro: Sandbox, admin: Client, member: Client) -> None:
    me = ro.truth.user("member")["uri"]
    body = member.ok("/user_availability_schedules", user=me)
    assert set(body) == {"collection"}  # no pagination object
    schedules = body["collection"]
    assert 1 <= len(schedules) <= 2 and schedules[0]["default"] is True
    assert sum(s["default"] for s in schedules) == 1
    for s in schedules:
        assert s["user"] == me and s["timezone"] == ro.truth.user("member")["timezone"]
        assert {r["wday"] for r in s["rules"] if r["type"] == "wday"} == {
            "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        }  # fmt: skip
        for rule in s["rules"]:
            for interval in rule["intervals"]:
                assert len(interval["from"]) == len(interval["to"]) == 5 and interval["from"] < interval["to"]
    other = ro.truth.user("admin")["uri"]
    assert member.ok("/user_availability_schedules", user=other)["collection"]  # members may read others
    everyone = ro.truth.records("user_availability_schedules", "admin")
    assert {s["user"] for s in everyone} == {m["user"]["uri"] for m in ro.truth.organization_memberships("admin")}
    assert any(not s["default"] for s in everyone)


def test_user_schedules_errors(ro: Sandbox, admin: Client, client) -> None:
    missing = admin.get("/user_availability_schedules")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "user"
    outsider = ro.truth.user("no_teams")["uri"]
    refused = admin.get("/user_availability_schedules", user=outsider)
    assert refused.status_code == 403 and refused.json() == NOT_IN_ORG
    me = ro.truth.user("no_availability_scope")["uri"]
    scoped = client(ro, "no_availability_scope").get("/user_availability_schedules", user=me)
    assert scoped.status_code == 403 and scoped.json() == NO_AVAILABILITY


def test_members_reading_others_when_refused(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    sb.set_behaviour(availability_of_others=False)
    member = client(sb, "member")
    other = sb.truth.user("admin")["uri"]
    refused = member.get("/user_availability_schedules", user=other)
    assert refused.status_code == 403 and refused.json()["message"] == "You do not have permission"
    assert member.ok("/user_availability_schedules", user=sb.truth.user("member")["uri"])["collection"]
    assert client(sb, "admin").ok("/user_availability_schedules", user=sb.truth.user("member")["uri"])


def test_event_type_schedules(ro: Sandbox, admin: Client, client) -> None:
    schedules = {s["uri"]: s for s in ro.truth.records("user_availability_schedules", "admin")}
    hosts = ro.truth.records("event_type_memberships", "admin")
    for et in ro.truth.event_types("admin"):
        body = admin.ok("/event_type_availability_schedules", event_type=et["uri"], count=1)
        pagination = body["pagination"]
        assert pagination["count"] == len(body["collection"]) and pagination["next_page_token"] is None
        et_hosts = [h["member"]["uri"] for h in hosts if h["event_type"]["uri"] == et["uri"]]
        assert [s["availability_rule"]["user"] for s in body["collection"]] == et_hosts
        for s in body["collection"]:
            rule = s["availability_rule"]
            assert s["event_type"] == et["uri"] and s["availability_setting"] == "host"
            own = schedules[rule["uri"]]
            assert own["user"] == rule["user"] and own["rules"] == rule["rules"] and own["name"] == rule["name"]
    missing = admin.get("/event_type_availability_schedules")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "event_type"
    et = ro.truth.event_types("admin")[0]
    scoped = client(ro, "no_availability_scope").get("/event_type_availability_schedules", event_type=et["uri"])
    assert scoped.status_code == 403 and scoped.json() == NO_AVAILABILITY


# -- changes between syncs: hosts added, availability changed, members removed ----------------------------------
@pytest.mark.parametrize("moves", [False, True])
def test_a_host_added_is_listed_with_its_schedule_and_moves_the_event_type_per_behaviour(
    make_sandbox, client, moves: bool
) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    sb.set_behaviour(event_type_changes_move_updated_at=moves)
    admin = client(sb, "admin")
    et = sb.truth.event_types("admin")[0]
    hosts = {h["member"]["uri"] for h in admin.all("/event_type_memberships", event_type=et["uri"])}
    user = next(m["user"]["uri"] for m in sb.truth.organization_memberships("admin") if m["user"]["uri"] not in hosts)
    added = sb.add_event_type_host(et["uri"], user)["membership"]
    listed = admin.all("/event_type_memberships", event_type=et["uri"])
    assert added in listed and {h["member"]["uri"] for h in listed} == hosts | {user}
    schedules = admin.ok("/event_type_availability_schedules", event_type=et["uri"])["collection"]
    assert user in {s["availability_rule"]["user"] for s in schedules}
    after = next(t for t in sb.truth.event_types("admin") if t["uri"] == et["uri"])
    assert (after["updated_at"] != et["updated_at"]) is moves
    with pytest.raises(ValueError, match="already hosts"):
        sb.add_event_type_host(et["uri"], user)


@pytest.mark.parametrize("moves", [False, True])
def test_availability_changed_reaches_the_event_types_and_moves_updated_at_per_behaviour(
    make_sandbox, client, moves: bool
) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    sb.set_behaviour(event_type_changes_move_updated_at=moves, user_availability_moves_updated_at=moves)
    admin = client(sb, "admin")
    rows = sb.truth.records("event_type_availability_schedules", "admin")
    user = rows[0]["availability_rule"]["user"]
    before_user = next(m["user"] for m in sb.truth.organization_memberships("admin") if m["user"]["uri"] == user)
    before = admin.ok("/user_availability_schedules", user=user)["collection"][0]
    changed = sb.change_default_availability(user)
    after = admin.ok("/user_availability_schedules", user=user)["collection"][0]
    assert after == changed["schedule"] and after["rules"] != before["rules"]
    for et in changed["event_types"]:
        listed = admin.ok("/event_type_availability_schedules", event_type=et)["collection"]
        assert after["rules"] in [s["availability_rule"]["rules"] for s in listed]
    after_user = next(m["user"] for m in sb.truth.organization_memberships("admin") if m["user"]["uri"] == user)
    assert (after_user["updated_at"] != before_user["updated_at"]) is moves


def test_a_removed_member_leaves_the_memberships_the_hosts_and_the_schedules(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    admin = client(sb, "admin")
    hosts = {h["member"]["uri"] for h in sb.truth.records("event_type_memberships", "admin")}
    me = sb.truth.user("admin")["uri"]
    user = next(m["user"]["uri"] for m in sb.truth.organization_memberships("admin")
                if m["user"]["uri"] in hosts and m["user"]["uri"] != me)  # fmt: skip
    sb.remove_member(user)
    assert user not in {m["user"]["uri"] for m in sb.truth.organization_memberships("admin")}
    assert user not in {h["member"]["uri"] for h in sb.truth.records("event_type_memberships", "admin")}
    assert user not in {s["availability_rule"]["user"]
                        for s in sb.truth.records("event_type_availability_schedules", "admin")}  # fmt: skip
    assert user not in {s["user"] for s in sb.truth.records("user_availability_schedules", "admin")}
    assert admin.get("/user_availability_schedules", user=user).status_code == 403
