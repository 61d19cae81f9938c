"""Activity log (Enterprise, admins, 90 days kept) and outgoing communications (Enterprise)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import DatasetSpec, Sandbox

UPGRADE = {"title": "Permission Denied", "message": "Please upgrade your Calendly account to Enterprise."}
NO_ACCESS = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def test_activity_log_listing(ro: Sandbox, admin: Client, acme: str) -> None:
    truth = ro.truth.records("activity_log_entries", "admin")
    kept_since = (ANCHOR - timedelta(days=90)).strftime(ISO)
    assert truth and all(e["occurred_at"] >= kept_since[:23] for e in truth)
    assert [e["occurred_at"] for e in truth] == sorted(e["occurred_at"] for e in truth)
    assert admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", count=7) == truth
    newest_first = admin.all("/activity_log_entries", organization=acme)  # default sort: occurred_at:desc
    assert newest_first == truth[::-1]
    page = admin.ok("/activity_log_entries", organization=acme, count=5)
    assert page["total_count"] == len(truth) and page["exceeds_max_total_count"] is False
    assert page["last_event_time"] == max(e["occurred_at"] for e in page["collection"])
    assert len(admin.ok("/activity_log_entries", organization=acme, count=1000)["collection"]) == len(truth)
    assert admin.get("/activity_log_entries", organization=acme, count=1001).status_code == 400
    entry = truth[0]
    assert entry["fully_qualified_name"] == f"{entry['namespace']}.{entry['action']}"
    assert len(entry["occurred_at"]) == len("2026-01-02T03:04:05.678Z")  # millisecond precision
    assert {e["actor"]["type"] for e in truth} == {"User", "System"}


@pytest.mark.parametrize("max_count", [1000, 100])
def test_activity_log_count_limit_runs_both_ways(make_sandbox, client, max_count: int) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    sb.set_behaviour(activity_log_max_count=max_count)
    admin, acme = client(sb, "admin"), sb.truth.organization("admin")["uri"]
    truth = sb.truth.records("activity_log_entries", "admin")
    assert len(admin.ok("/activity_log_entries", organization=acme, count=100)["collection"]) == min(100, len(truth))
    big = admin.get("/activity_log_entries", organization=acme, count=1000, sort="occurred_at:asc")
    if max_count == 1000:
        assert big.status_code == 200 and big.json()["collection"] == truth[:1000]
    else:
        assert big.status_code == 400 and big.json()["title"] == "Invalid Argument"
        assert [d["parameter"] for d in big.json()["details"]] == ["count"]
        assert "100" in big.json()["details"][0]["message"]


def test_activity_log_time_filters_and_retention(ro: Sandbox, admin: Client, acme: str) -> None:
    truth = ro.truth.records("activity_log_entries", "admin")
    cursor = truth[len(truth) // 2]["occurred_at"]
    since = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", min_occurred_at=cursor)
    assert since == [e for e in truth if e["occurred_at"] >= cursor]  # inclusive
    before = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", max_occurred_at=cursor)
    assert before == [e for e in truth if e["occurred_at"] < cursor]  # exclusive
    # Asking for older entries than Calendly keeps is not an error: they are just gone.
    ancient = (ANCHOR - timedelta(days=400)).strftime(ISO)
    assert (
        admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", min_occurred_at=ancient) == truth
    )
    assert admin.get("/activity_log_entries", organization=acme, min_occurred_at="yesterday").status_code == 400


def test_retention_follows_the_store_clock(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    admin = client(sb, "admin")
    generated = sb.store.org.activity_log[acme].rows
    assert generated[0].rec["occurred_at"] < (ANCHOR - timedelta(days=100)).strftime(ISO)  # older ones exist
    before = sb.truth.records("activity_log_entries", "admin")
    assert len(before) < len(generated)
    sb.advance_clock(days=30)
    after = sb.truth.records("activity_log_entries", "admin")
    assert 0 < len(after) < len(before) and after == before[len(before) - len(after) :]
    assert admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc") == after
    with pytest.raises(ValueError):
        sb.advance_clock(days=-1)


def test_activity_log_filters_and_sorts(ro: Sandbox, admin: Client, acme: str) -> None:
    truth = ro.truth.records("activity_log_entries", "admin")
    users = [e for e in truth if e["actor"]["type"] == "User"]
    actor = users[0]["actor"]["uri"]
    by_actor = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", **{"actor[]": actor})
    assert by_actor == [e for e in truth if e["actor"].get("uri") == actor]
    logins = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", **{"namespace[]": "User"})
    assert logins == [e for e in truth if e["namespace"] == "User"] and logins
    two = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", action="Create,Delete")
    assert two == [e for e in truth if e["action"] in ("Create", "Delete")]
    by_action = admin.all("/activity_log_entries", organization=acme, **{"sort[]": "action:asc"})
    assert [e["action"] for e in by_action] == sorted(e["action"] for e in truth)
    found = admin.all("/activity_log_entries", organization=acme, search_term="salesforce")
    assert found and all("salesforce" in str(e).lower() for e in found)
    assert admin.get("/activity_log_entries", organization=acme, sort="uri:asc").status_code == 400
    assert admin.get("/activity_log_entries", organization=acme, search_term="x" * 301).status_code == 400


def test_activity_log_gates(ro: Sandbox, client, member: Client, acme: str, solo: str) -> None:
    missing = client(ro, "admin").get("/activity_log_entries")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "organization"
    refused = member.get("/activity_log_entries", organization=acme)
    assert refused.status_code == 403 and refused.json() == NO_ACCESS
    standard = client(ro, "no_teams").get("/activity_log_entries", organization=solo)
    assert standard.status_code == 403 and standard.json() == UPGRADE
    foreign = client(ro, "admin").get("/activity_log_entries", organization=solo)
    assert foreign.status_code == 403 and foreign.json() == NO_ACCESS


def test_teams_plan_admin_is_refused_enterprise_features(make_sandbox, client) -> None:
    sb = make_sandbox(dataset=DatasetSpec.small(plan="teams", anchor=ANCHOR, events=30), rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    admin = client(sb, "admin")
    for path in ("/activity_log_entries", "/outgoing_communications"):
        refused = admin.get(path, organization=acme)
        assert refused.status_code == 403 and refused.json() == UPGRADE
    assert admin.get("/groups", organization=acme).status_code == 200  # Teams features stay
    with pytest.raises(PermissionError):
        sb.truth.records("activity_log_entries", "admin")


def test_activity_log_scope(make_sandbox, client, monkeypatch) -> None:
    from calendly_sandbox import tokens

    monkeypatch.setitem(tokens.TOKEN_SCOPES, "no_contacts_scope", tokens.ALL_SCOPES - {tokens.SCOPE_ACTIVITY_LOG})
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    refused = client(sb, "no_contacts_scope").get("/activity_log_entries", organization=acme)
    assert refused.status_code == 403 and refused.json()["required_scopes"] == ["activity_log:read"]


# -- outgoing communications ---------------------------------------------------------------------------------
def test_communications_listing(ro: Sandbox, admin: Client, member: Client, acme: str) -> None:
    truth = ro.truth.records("outgoing_communications", "admin")
    assert {c["type"] for c in truth} == {"email", "sms"}
    assert [c["created_at"] for c in truth] == sorted(c["created_at"] for c in truth)
    assert admin.all("/outgoing_communications", organization=acme, count=9) == truth
    assert member.all("/outgoing_communications", organization=acme) == truth  # any member of the org
    page = admin.ok("/outgoing_communications", organization=acme, count=2)
    assert page["total_count"] == len(truth) and len(page["collection"]) == 2
    events = {e["uri"]: e for e in ro.truth.scheduled_events("admin")}
    share = len({c["event_uri"] for c in truth}) / len(events)
    assert 0.1 < share < 0.9  # a share of the events
    for c in truth:
        assert c["event_uri"] in events and events[c["event_uri"]]["event_type"] == c["event_type_uri"]
        assert c["created_at"] <= c["sent_at"] <= ANCHOR.strftime(ISO)
        assert (c["subject"] is None) == (c["type"] == "sms")
    cursor = truth[len(truth) // 2]["created_at"]
    since = admin.all("/outgoing_communications", organization=acme, min_created_at=cursor)
    assert since == [c for c in truth if c["created_at"] >= cursor]
    until = admin.all("/outgoing_communications", organization=acme, max_created_at=cursor)
    assert until == [c for c in truth if c["created_at"] < cursor]
    missing = admin.get("/outgoing_communications")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "organization"


def test_communications_order_and_readers_knobs(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    admin, member = client(sb, "admin"), client(sb, "member")
    ascending = admin.all("/outgoing_communications", organization=acme)
    sb.set_behaviour(outgoing_communications_order="desc", outgoing_communications_readers="admins")
    descending = admin.all("/outgoing_communications", organization=acme, count=3)
    assert descending == ascending[::-1] == sb.truth.records("outgoing_communications", "admin")
    refused = member.get("/outgoing_communications", organization=acme)
    assert refused.status_code == 403 and refused.json() == NO_ACCESS


def test_communications_gates(ro: Sandbox, client, solo: str) -> None:
    refused = client(ro, "no_teams").get("/outgoing_communications", organization=solo)
    assert refused.status_code == 403 and refused.json() == UPGRADE


def _clash(c: dict) -> tuple:
    return c["event_uri"], c["type"], c["to"], c["created_at"]


def test_communications_that_share_event_type_recipient_and_instant_come_and_go_with_the_switch(
    make_sandbox, client
) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    admin, acme = client(sb, "admin"), sb.truth.organization("admin")["uri"]
    listed = admin.all("/outgoing_communications", organization=acme, count=100)
    assert listed == sb.truth.records("outgoing_communications", "admin")
    clashes = [c for c in listed if sum(_clash(o) == _clash(c) for o in listed) > 1]
    subjects = {c["subject"] for c in clashes}
    assert any(s.startswith("Confirmed") for s in subjects) and any(s.startswith("Reminder") for s in subjects)
    assert any(listed.count(c) > 1 for c in clashes)  # and now and then the very same message twice
    sb.set_behaviour(communication_collisions=False)
    plain = admin.all("/outgoing_communications", organization=acme, count=100)
    assert plain == sb.truth.records("outgoing_communications", "admin")
    assert len({_clash(c) for c in plain}) == len(plain) < len(listed)
    assert all(c in listed for c in plain)
