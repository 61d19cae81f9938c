"""/scheduled_events: filters, sorting, time parsing, scope rules and their exact 403/400 bodies."""

from __future__ import annotations

import pytest
from sandbox_helpers import Client

from calendly_sandbox import Sandbox

DENIED = "Permission Denied"


def _denied(response, message: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"title": DENIED, "message": message}


@pytest.mark.parametrize("status", ["active", "canceled"])
def test_status_filter(admin: Client, ro: Sandbox, acme: str, status: str) -> None:
    got = admin.all("/scheduled_events", organization=acme, status=status, count=100)
    expected = [e for e in ro.truth.scheduled_events("admin") if e["status"] == status]
    assert got == expected and got


def test_without_status_both_are_returned(ro: Sandbox) -> None:
    statuses = {e["status"] for e in ro.truth.scheduled_events("admin")}
    assert statuses == {"active", "canceled"}


def test_sort_desc_is_reverse_of_asc(admin: Client, ro: Sandbox, acme: str) -> None:
    desc = admin.all("/scheduled_events", organization=acme, sort="start_time:desc", count=17)
    assert desc == list(reversed(ro.truth.scheduled_events("admin")))
    asc = admin.all("/scheduled_events", organization=acme, sort="start_time", count=100)  # direction omitted
    assert asc == ro.truth.scheduled_events("admin")


@pytest.mark.parametrize("sort", ["created_at:asc", "start_time:up", "name"])
def test_bad_sort_is_400(admin: Client, acme: str, sort: str) -> None:
    response = admin.get("/scheduled_events", organization=acme, sort=sort)
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == "sort"


def test_min_inclusive_max_exclusive(admin: Client, ro: Sandbox, acme: str) -> None:
    events = ro.truth.scheduled_events("admin")
    lo, hi = events[10]["start_time"], events[40]["start_time"]
    got = admin.all("/scheduled_events", organization=acme, min_start_time=lo, max_start_time=hi, count=100)
    assert got == [e for e in events if lo <= e["start_time"] < hi]
    assert got[0]["start_time"] == lo
    assert all(e["start_time"] != hi for e in got)


@pytest.mark.parametrize(
    "value",
    ["2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00.000Z",
     "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00"],
)  # fmt: skip
def test_time_formats_are_parsed_flexibly(admin: Client, ro: Sandbox, acme: str, value: str) -> None:
    got = admin.all("/scheduled_events", organization=acme, min_start_time=value, count=100)
    assert got == [e for e in ro.truth.scheduled_events("admin") if e["start_time"] >= "2026-01-01T00:00:00.000000Z"]


@pytest.mark.parametrize("value", ["yesterday", "2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00 00:00"])
def test_malformed_time_is_400(admin: Client, acme: str, value: str) -> None:
    response = admin.get("/scheduled_events", organization=acme, max_start_time=value)
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == "max_start_time"


def test_empty_window(admin: Client, acme: str) -> None:
    body = admin.ok(
        "/scheduled_events",
        organization=acme,
        min_start_time="2026-02-01T00:00:00Z",
        max_start_time="2026-01-01T00:00:00Z",
    )
    assert body["collection"] == [] and body["pagination"]["count"] == 0
    assert body["pagination"]["next_page_token"] is None


def test_invitee_email_filter(admin: Client, ro: Sandbox, acme: str) -> None:
    invitees = ro.truth.event_invitees("admin")
    email = invitees[5]["email"]
    expected = [
        e for e in ro.truth.scheduled_events("admin") if any(i["email"] == email for i in ro.truth.invitees(e["uri"]))
    ]
    assert admin.all("/scheduled_events", organization=acme, invitee_email=email.upper()) == expected
    assert admin.all("/scheduled_events", organization=acme, invitee_email="nobody@example.com") == []


def test_invalid_status_is_400(admin: Client, acme: str) -> None:
    response = admin.get("/scheduled_events", organization=acme, status="done")
    assert response.status_code == 400 and response.json()["details"][0]["parameter"] == "status"


def test_member_sees_own_hosted_events(member: Client, ro: Sandbox) -> None:
    me = member.ok("/users/me")["resource"]["uri"]
    got = member.all("/scheduled_events", user=me, count=100)
    assert got and got == ro.truth.scheduled_events("member")
    assert all(any(m["user"] == me for m in e["event_memberships"]) for e in got)


def test_member_cannot_list_organization(member: Client, acme: str) -> None:
    _denied(member.get("/scheduled_events", organization=acme), "You do not have permission")


def test_member_may_name_self_with_organization(member: Client, ro: Sandbox, acme: str) -> None:
    me = member.ok("/users/me")["resource"]["uri"]
    assert member.all("/scheduled_events", organization=acme, user=me, count=100) == ro.truth.scheduled_events("member")


def test_member_cannot_list_another_user(member: Client, ro: Sandbox) -> None:
    _denied(member.get("/scheduled_events", user=ro.truth.user("admin")["uri"]), "You do not have permission")


def test_admin_user_alone_for_colleague_needs_organization(admin: Client, ro: Sandbox) -> None:
    _denied(
        admin.get("/scheduled_events", user=ro.truth.user("member")["uri"]),
        "Please also specify organization when requesting events for a user within your organization.",
    )


def test_admin_organization_plus_user(admin: Client, ro: Sandbox, acme: str) -> None:
    member_uri = ro.truth.user("member")["uri"]
    got = admin.all("/scheduled_events", organization=acme, user=member_uri, count=100)
    assert got == ro.truth.scheduled_events("member")


def test_admin_organization_plus_outside_user(admin: Client, ro: Sandbox, acme: str) -> None:
    outsider = ro.truth.user("no_teams")["uri"]
    _denied(admin.get("/scheduled_events", organization=acme, user=outsider), "This user is not in your organization")


def test_other_organization_is_denied(ro: Sandbox, client, acme: str) -> None:
    _denied(
        client(ro, "no_teams").get("/scheduled_events", organization=acme),
        "You do not have permission to access this resource.",
    )


def test_neither_organization_nor_user_is_400(admin: Client) -> None:
    response = admin.get("/scheduled_events", status="active")
    assert response.status_code == 400
    params = {d["parameter"] for d in response.json()["details"]}
    assert params == {"organization", "user"}


@pytest.mark.parametrize(
    "value", ["not-a-uri", "http://127.0.0.1/organizations/abc", "https://api.calendly.com/users/x"]
)
def test_malformed_organization_is_400(admin: Client, value: str) -> None:
    response = admin.get("/scheduled_events", organization=value)
    assert response.status_code == 400 and response.json()["details"][0]["parameter"] == "organization"


def test_single_event_permissions(member: Client, ro: Sandbox) -> None:
    me = ro.truth.user("member")["uri"]
    foreign = next(
        e for e in ro.truth.scheduled_events("admin") if all(m["user"] != me for m in e["event_memberships"])
    )
    own = ro.truth.scheduled_events("member")[0]
    assert member.ok(f"/scheduled_events/{own['uri'].rsplit('/', 1)[1]}")["resource"] == own
    response = member.get(f"/scheduled_events/{foreign['uri'].rsplit('/', 1)[1]}")
    assert response.status_code == 403 and response.json()["title"] == DENIED
    missing = member.get("/scheduled_events/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


def test_solo_co_owner_sees_only_solo_co(ro: Sandbox, client, solo: str) -> None:
    events = client(ro, "no_teams").all("/scheduled_events", organization=solo, count=100)
    assert len(events) == ro.spec.solo_co_events
    owner = ro.truth.user("no_teams")["uri"]
    assert all(e["event_memberships"][0]["user"] == owner for e in events)
