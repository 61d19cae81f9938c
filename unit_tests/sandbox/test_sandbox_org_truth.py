"""Truth.records for every stream equals what a complete listing over HTTP gives, token by token and plan by
plan; a PermissionError exactly where the API answers 403."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import Behaviour, DatasetSpec, Sandbox
from calendly_sandbox.truth import Truth

LABELS = ("admin", "member", "no_teams", "no_routing_scope", "no_availability_scope", "no_contacts_scope")
NEW_STREAMS = (
    "organization",
    "users",
    "groups",
    "group_relationships",
    "organization_invitations",
    "event_type_memberships",
    "user_availability_schedules",
    "event_type_availability_schedules",
    "activity_log_entries",
    "contacts",
    "outgoing_communications",
    "webhook_subscriptions",
    "teams",
)


class Refused(Exception):
    """The API answered 403."""


def _all(c: Client, path: str, **params: Any) -> list[dict[str, Any]]:
    response = c.get(path, **params)
    if response.status_code == 403:
        raise Refused(response.json())
    assert response.status_code == 200, response.text
    if "pagination" not in response.json():
        return response.json()["collection"]
    return c.all(path, **params)


def _event_types(c: Client, me: dict[str, Any]) -> list[dict[str, Any]]:
    response = c.get("/event_types", organization=me["current_organization"], count=100)
    if response.status_code == 403:  # a member lists their own
        return c.all("/event_types", user=me["uri"], count=100)
    return c.all("/event_types", organization=me["current_organization"], count=100)


def read(c: Client, stream: str) -> list[dict[str, Any]]:
    """A complete listing of ``stream`` over HTTP, as a client reads it."""
    me = c.ok("/users/me")["resource"]
    org = me["current_organization"]
    org_id = org.rsplit("/", 1)[1]
    if stream == "organization":
        return [c.ok(f"/organizations/{org_id}")["resource"]]
    if stream == "users":
        return [m["user"] for m in c.all("/organization_memberships", organization=org, count=100)]
    if stream in ("groups", "group_relationships", "outgoing_communications"):
        return _all(c, f"/{stream}", organization=org, count=7)
    if stream == "organization_invitations":
        return _all(c, f"/organizations/{org_id}/invitations", count=7)
    if stream == "teams":
        return _all(c, "/teams", count=3)
    if stream == "activity_log_entries":
        return _all(c, "/activity_log_entries", organization=org, sort="occurred_at:asc", count=1000)
    if stream == "contacts":
        return _all(c, "/contacts", sort="updated_at:desc", count=100)
    if stream == "webhook_subscriptions":  # each scope in turn: the organization, every member, every group
        try:
            out = _all(c, "/webhook_subscriptions", organization=org, scope="organization")
        except Refused:  # not an admin: its own user's only
            return _all(c, "/webhook_subscriptions", organization=org, scope="user", user=me["uri"])
        for m in c.all("/organization_memberships", organization=org, count=100):
            out.extend(_all(c, "/webhook_subscriptions", organization=org, scope="user", user=m["user"]["uri"]))
        try:
            groups = _all(c, "/groups", organization=org, count=100)
        except Refused:
            groups = []
        for g in groups:
            out.extend(_all(c, "/webhook_subscriptions", organization=org, scope="group", group=g["uri"]))
        return out
    if stream == "event_type_memberships":
        return [h for et in _event_types(c, me) for h in _all(c, stream_path(stream), event_type=et["uri"], count=2)]
    if stream == "event_type_availability_schedules":
        return [s for et in _event_types(c, me) for s in _all(c, stream_path(stream), event_type=et["uri"])]
    if stream == "user_availability_schedules":
        out = []
        for m in c.all("/organization_memberships", organization=org, count=100):
            try:
                out.extend(_all(c, "/user_availability_schedules", user=m["user"]["uri"]))
            except Refused:
                if m["user"]["uri"] == me["uri"]:
                    raise
        return out
    raise AssertionError(stream)


def stream_path(stream: str) -> str:
    return f"/{stream}"


def _compare(sb: Sandbox, c: Client, stream: str, label: str) -> str:
    try:
        expected = sb.truth.records(stream, label)
    except PermissionError:
        with pytest.raises(Refused):
            read(c, stream)
        return "403"
    assert read(c, stream) == expected, (stream, label)
    return str(len(expected))


def test_streams_list_all_nineteen_the_contact_book_and_the_notetaker(ro: Sandbox) -> None:
    # 19, contactbook.py's four, and notetaker.py's three (meeting_recaps, meeting_recap_transcripts, locations)
    assert len(Truth.STREAMS) == 26 and len(set(Truth.STREAMS)) == 26
    assert set(NEW_STREAMS) <= set(Truth.STREAMS)
    with pytest.raises(KeyError):
        ro.truth.records("nope", "admin")


@pytest.mark.parametrize("label", LABELS)
def test_truth_matches_the_api(ro: Sandbox, client, label: str) -> None:
    c = client(ro, label)
    outcome = {stream: _compare(ro, c, stream, label) for stream in NEW_STREAMS}
    expected_403 = {
        "admin": set(),
        "member": {"organization_invitations", "activity_log_entries"},
        # Solo Co is on Standard: no groups, no Enterprise features.
        "no_teams": {"groups", "group_relationships", "activity_log_entries", "outgoing_communications"},
        "no_routing_scope": set(),
        "no_availability_scope": {"user_availability_schedules", "event_type_availability_schedules"},
        "no_contacts_scope": {"contacts"},
    }[label]
    assert {s for s, o in outcome.items() if o == "403"} == expected_403, outcome
    if label == "admin":  # every stream the owner of an Enterprise org reads has data
        assert all(o not in ("0", "403") for o in outcome.values()), outcome


def test_old_streams_through_records(ro: Sandbox) -> None:
    t = ro.truth
    assert t.records("scheduled_events", "admin") == t.scheduled_events("admin")
    assert t.records("event_invitees", "member") == t.event_invitees("member")
    assert t.records("routing_form_submissions", "admin") == t.routing_form_submissions("admin")
    with pytest.raises(PermissionError):
        t.records("routing_forms", "no_routing_scope")


@pytest.mark.parametrize(
    ("plan", "refused"),
    [
        ("teams", {"activity_log_entries", "outgoing_communications"}),
        ("standard", {"groups", "group_relationships", "activity_log_entries", "outgoing_communications"}),
        # Webhooks and contacts are on every plan since November 2026.
        ("basic", {"groups", "group_relationships", "activity_log_entries", "outgoing_communications"}),
    ],
)
def test_plans(make_sandbox, client, plan: str, refused: set[str]) -> None:
    sb = make_sandbox(dataset=DatasetSpec.small(plan=plan, anchor=ANCHOR, events=40), rate_limit_per_minute=None)
    c = client(sb, "admin")
    outcome = {stream: _compare(sb, c, stream, "admin") for stream in NEW_STREAMS}
    assert {s for s, o in outcome.items() if o == "403"} == refused, outcome


def test_knobs_change_the_truth_and_the_api_alike(make_sandbox, client) -> None:
    behaviour = Behaviour(
        invitations_readers="members",
        outgoing_communications_readers="admins",
        outgoing_communications_order="desc",
        availability_of_others=False,
        contacts_visibility="organization",
        teams_without_user="caller",
    )
    sb = make_sandbox(behaviour=behaviour, rate_limit_per_minute=None)
    member = client(sb, "member")
    outcome = {stream: _compare(sb, member, stream, "member") for stream in NEW_STREAMS}
    assert outcome["organization_invitations"] != "403" and outcome["outgoing_communications"] == "403"
    me = sb.truth.user("member")["uri"]
    assert {s["user"] for s in sb.truth.records("user_availability_schedules", "member")} == {me}
    admin = client(sb, "admin")
    for stream in ("outgoing_communications", "contacts", "teams", "user_availability_schedules"):
        _compare(sb, admin, stream, "admin")
    comms = sb.truth.records("outgoing_communications", "admin")
    assert [x["created_at"] for x in comms] == sorted((x["created_at"] for x in comms), reverse=True)
    everyone = len(sb.truth.records("contacts", "member"))
    sb.set_behaviour(contacts_visibility="owner")
    assert len(sb.truth.records("contacts", "member")) < everyone
    assert read(member, "contacts") == sb.truth.records("contacts", "member")
    with pytest.raises(ValueError):
        sb.set_behaviour(contacts_visibility="everyone")
