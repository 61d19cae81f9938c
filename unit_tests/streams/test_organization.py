"""Pagination for the remaining lists: memberships, routing forms, and one event's invitees."""

import pytest

from source_calendly.context import NON_ADMIN_WARNING
from unit_tests.fake_api import (
    ADMIN_USER,
    API,
    MEMBER_TOKEN,
    MEMBER_USER,
    ORG,
    FakeCalendly,
    Fault,
    days,
    event,
    invitee,
    ts,
)
from unit_tests.helpers import config, records, run_read, uris, warnings


def test_memberships_every_page_with_count_100(api: FakeCalendly) -> None:
    api.memberships = [
        {"uri": f"{API}/organization_memberships/m{i}", "role": "user", "organization": ORG,
         "user": {"uri": f"{API}/users/u{i}"}, "created_at": ts(days(-i)), "updated_at": ts(days(-i))}
        for i in range(250)
    ]  # fmt: skip
    out = run_read(["organization_memberships"])
    assert uris(out, "organization_memberships") == [m["uri"] for m in api.memberships]
    listing = [q for q in api.paths("/organization_memberships") if "user" not in q]
    assert [q["count"] for q in listing] == [["100"]] * 3
    assert all(q["organization"] == [ORG] for q in listing)


def test_routing_forms_every_page(api: FakeCalendly) -> None:
    api.routing_forms = [{"uri": f"{API}/routing_forms/f{i}", "created_at": ts(days(-i))} for i in range(150)]
    out = run_read(["routing_forms"])
    assert len(uris(out, "routing_forms")) == 150
    assert [q["count"] for q in api.paths("/routing_forms")] == [["100"]] * 2


def test_an_event_with_more_than_a_page_of_invitees(api: FakeCalendly) -> None:
    webinar = api.add_event(event("webinar", days(2), days(-3)))
    api.invitees[webinar["uri"]] = [invitee(webinar, f"w{i:03}", days(-3)) for i in range(230)]
    out = run_read(["event_invitees"])
    assert len(set(uris(out, "event_invitees"))) == 230
    assert all(r["event_uri"] == webinar["uri"] for r in records(out, "event_invitees"))
    assert [q["count"] for q in api.paths("/scheduled_events/webinar/invitees")] == [["100"]] * 3


def test_event_types_of_the_organization_for_an_admin_and_of_the_user_for_a_member(api: FakeCalendly) -> None:
    api.event_types = [{"uri": f"{API}/event_types/t1", "name": "Intro"}]
    assert uris(run_read(["event_types"]), "event_types") == [f"{API}/event_types/t1"]
    run_read(["event_types"], config(personal_access_token=MEMBER_TOKEN))
    assert api.paths("/event_types") == [
        {"organization": [ORG], "count": ["100"]},
        {"user": [MEMBER_USER], "count": ["100"]},
    ]


def own_membership(**fields: object) -> Fault:
    """The answer to the role lookup (`organization_memberships?user=`), as Calendly might give it."""
    body = {"collection": [{"uri": f"{API}/organization_memberships/m1", **fields}] if fields else [],
            "pagination": {"next_page_token": None}}  # fmt: skip
    return Fault("^/organization_memberships$", 200, body, query_has="user")


@pytest.mark.parametrize("fields", [{}, {"role": None}, {"role": ""}])
def test_a_role_calendly_does_not_tell_counts_as_unknown_and_reads_the_users_own_data(
    api: FakeCalendly, fields: dict
) -> None:
    api.faults.append(own_membership(**fields))
    out = run_read(["event_types"])
    assert not out.errors
    assert NON_ADMIN_WARNING.format(name="Ada Admin", role="unknown") in warnings(out)
    assert api.paths("/event_types") == [{"user": [ADMIN_USER], "count": ["100"]}]


def test_the_account_is_whom_calendly_says_the_token_belongs_to(api: FakeCalendly) -> None:
    api.faults.append(own_membership(role="admin"))
    out = run_read(["event_types"])
    assert not warnings(out)
    assert api.paths("/event_types") == [{"organization": [ORG], "count": ["100"]}]
    assert api.paths("/organization_memberships") == [{"organization": [ORG], "user": [ADMIN_USER], "count": ["100"]}]
