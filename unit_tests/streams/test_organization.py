"""Pagination for the remaining lists: memberships, routing forms, and one event's invitees."""

from unit_tests.fake_api import API, ORG, FakeCalendly, days, event, invitee, ts
from unit_tests.helpers import records, run_read, uris


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
