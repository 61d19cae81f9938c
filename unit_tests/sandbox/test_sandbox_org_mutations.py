"""Changing the newer resources between syncs (Python and control API), and the cross-cutting machinery
(request log, rate limit, presets) on the new endpoints."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sandbox_helpers import ANCHOR

from calendly_sandbox import Behaviour, DatasetSpec, Sandbox
from calendly_sandbox.dataset import build


def test_new_activity_entry_is_listed_after_the_cursor(make_sandbox, client) -> None:
    sb = make_sandbox(dataset=DatasetSpec.small(anchor=None), rate_limit_per_minute=None)  # anchored at now
    acme = sb.truth.organization("admin")["uri"]
    admin = client(sb, "admin")
    before = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", count=1000)
    cursor = before[-1]["occurred_at"]
    entry = sb.add_activity_log_entry("EventType", "Create", actor_uri=sb.truth.user("member")["uri"])["entry"]
    assert entry["occurred_at"] > cursor and entry["actor"]["organization"]["role"] == "user"
    since = admin.all("/activity_log_entries", organization=acme, sort="occurred_at:asc", min_occurred_at=cursor)
    assert since[-1] == entry and since[:-1] == [e for e in before if e["occurred_at"] >= cursor]
    truth = sb.truth.records("activity_log_entries", "admin")  # the clock moved: the oldest may have expired
    assert truth[-1] == entry and truth[:-1] == before[len(before) - len(truth) + 1 :]
    system = sb.add_activity_log_entry(details={"note": "nightly"})["entry"]
    assert system["actor"] == {"type": "System", "display_name": "Calendly System"} and system["organization"] == acme


def test_an_entry_older_than_90_days_is_not_served(make_sandbox) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    old = sb.add_activity_log_entry(occurred_at="2025-01-01T00:00:00Z")["entry"]
    assert old not in sb.truth.records("activity_log_entries", "admin")


def test_contacts_change_between_syncs(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    admin = client(sb, "admin")
    first = admin.all("/contacts", sort="updated_at:desc", count=100)
    created = sb.create_contact("new.lead@example.com", name="New Lead", company="Initech")["contact"]
    assert created["created_at"] == created["updated_at"] and created["last_meeting_date"] is None
    old = first[-1]
    updated = sb.update_contact(old["uri"], job_title="VP Data")["contact"]
    assert updated["job_title"] == "VP Data" and updated["updated_at"] > created["updated_at"]
    assert updated["created_at"] == old["created_at"]
    second = admin.all("/contacts", sort="updated_at:desc", count=2)
    assert second[:2] == [updated, created] and len(second) == len(first) + 1
    assert second == sb.truth.records("contacts", "admin")
    member_contact = sb.create_contact("m@example.com", owner_uri=sb.truth.user("member")["uri"])["contact"]
    assert member_contact not in sb.truth.records("contacts", "admin")
    assert member_contact in sb.truth.records("contacts", "member")
    with pytest.raises(ValueError):
        sb.update_contact(old["uri"], uri="x")
    with pytest.raises(KeyError):
        sb.update_contact("https://api.calendly.com/contacts/nope", name="x")


def test_a_revoked_invitation_is_listed_no_more(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    path = f"/organizations/{acme.rsplit('/', 1)[1]}/invitations"
    before = client(sb, "admin").all(path, count=100)
    revoked = sb.revoke_invitation(before[0]["uri"])["invitation"]
    assert revoked == before[0]
    after = client(sb, "admin").all(path, count=100)
    assert after == before[1:] == sb.truth.records("organization_invitations", "admin")
    with pytest.raises(KeyError):
        sb.revoke_invitation(before[0]["uri"])
    again = requests.post(f"{sb.url}/_sandbox/revoke_invitation", json={"invitation_uri": before[1]["uri"]}, timeout=10)
    assert again.json()["invitation"] == before[1] and len(sb.truth.records("organization_invitations", "admin")) == (
        len(before) - 2
    )


def test_new_outgoing_communication(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    before = sb.truth.records("outgoing_communications", "admin")
    event = sb.truth.scheduled_events("admin")[0]
    sms = sb.add_outgoing_communication(event["uri"], type="sms")["communication"]
    assert sms["event_uri"] == event["uri"] and sms["subject"] is None
    email = sb.add_outgoing_communication()["communication"]
    assert email["type"] == "email" and email["created_at"] > sms["created_at"]
    listed = client(sb, "admin").all("/outgoing_communications", organization=acme, min_created_at=sms["created_at"])
    assert listed == [sms, email] == sb.truth.records("outgoing_communications", "admin")[len(before) :]
    with pytest.raises(ValueError):
        sb.add_outgoing_communication(type="fax")


def test_control_endpoints(make_sandbox) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    base = f"{sb.url}/_sandbox"

    def post(name: str, body: dict) -> requests.Response:
        return requests.post(f"{base}/{name}", json=body, timeout=10)

    entry = post("add_activity_log_entry", {"namespace": "User", "action": "Logout"}).json()["entry"]
    contact = post("create_contact", {"email": "ctl@example.com", "name": "Ctl"}).json()["contact"]
    changed = post("update_contact", {"contact_uri": contact["uri"], "city": "Lisbon"}).json()["contact"]
    comm = post("add_outgoing_communication", {}).json()["communication"]
    assert entry["action"] == "Logout" and changed["city"] == "Lisbon" and comm["type"] == "email"
    assert post("update_contact", {"contact_uri": "https://api.calendly.com/contacts/x"}).status_code == 404
    assert post("behaviour", {"contacts_visibility": "organization"}).json()["contacts_visibility"] == "organization"
    assert post("behaviour", {"contacts_visibility": "nobody"}).status_code == 400
    assert requests.get(f"{base}/behaviour", timeout=10).json()["contacts_visibility"] == "organization"
    clock = post("advance_clock", {"days": 1}).json()["clock"]
    assert clock > entry["occurred_at"]
    truth = requests.get(f"{base}/truth/contacts", params={"token_label": "member"}, timeout=10).json()
    assert truth == sb.truth.records("contacts", "member")
    assert any(c["uri"] == contact["uri"] for c in truth)  # organization-wide now
    denied = requests.get(f"{base}/truth/activity_log_entries", params={"token_label": "member"}, timeout=10)
    assert denied.status_code == 403
    org = requests.get(f"{base}/truth/organization", timeout=10).json()
    assert org["plan"] == "enterprise"  # the record itself, as before


def test_new_endpoints_are_logged_and_rate_limited(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=3, rate_window_seconds=3600)
    acme = sb.truth.organization("admin")["uri"]
    admin = client(sb, "admin")
    assert admin.get("/groups", organization=acme).status_code == 200
    assert admin.get("/contacts").status_code == 200
    user = sb.truth.user("admin")["uri"]
    last = admin.get("/user_availability_schedules", user=user)
    assert last.status_code == 200 and last.headers["X-RateLimit-Remaining"] == "0"
    throttled = admin.get("/teams")
    assert throttled.status_code == 429
    log = sb.request_log
    assert [e.endpoint for e in log] == ["/groups", "/contacts", "/user_availability_schedules", "/teams"]
    assert [e.status for e in log] == [200, 200, 200, 429]
    assert sb.stats()["by_endpoint"]["/groups"] == {"200": 1}
    org_id = acme.rsplit("/", 1)[1]
    assert sb.api.endpoint_label(f"/organizations/{org_id}/invitations") == "/organizations/{uuid}/invitations"


def test_reference_preset_sizes_and_speed() -> None:
    t = time.process_time()
    ds = build(DatasetSpec.reference(anchor=ANCHOR))
    elapsed = time.process_time() - t
    acme = ds.organizations[0]["uri"]
    org = ds.org
    assert len([g for g in org.groups if g["organization"] == acme]) == 4
    assert len([t for t in org.teams if t["organization"] == acme]) == 4
    pending = [i for i in org.invitations if i["organization"] == acme and i["status"] == "pending"]
    assert len(pending) == 5
    per_user: dict[str, int] = {}
    for s in org.user_schedules:
        per_user[s["user"]] = per_user.get(s["user"], 0) + 1
    assert set(per_user.values()) <= {1, 2} and len(per_user) == len(ds.users)
    assert len([e for e in org.activity_log if e["organization"] == acme]) == 400
    owners_book = [c for c in org.contacts if org.contact_owner[c["uri"]] == ds.token_users["admin"]]
    assert 200 <= len(owners_book) <= 1000  # what the admin token lists by default: a few hundred
    assert len(org.contacts) > len(owners_book)
    assert len([c for o, c in org.communications if o == acme]) >= 200
    assert 2 <= len([w for w in org.webhooks if w["organization"] == acme and w["scope"] == "organization"]) <= 3
    assert elapsed < 10, elapsed  # about 0.2 s of CPU; bound far above it (CPU time, not wall time)


def test_same_seed_same_new_data() -> None:
    a = build(DatasetSpec.small(anchor=ANCHOR)).org
    b = build(DatasetSpec.small(anchor=ANCHOR)).org
    assert a == b
    assert build(DatasetSpec.small(seed=8, anchor=ANCHOR)).org.contacts != a.contacts


def test_core_data_is_unchanged_by_the_plan(ro: Sandbox) -> None:
    teams = Sandbox(DatasetSpec.small(anchor=ANCHOR, plan="teams"))
    assert teams.truth.scheduled_events("admin") == ro.truth.scheduled_events("admin")
    with pytest.raises(ValueError):
        build(DatasetSpec.small(plan="platinum"))


@pytest.mark.parametrize("moves", [False, True])
def test_a_contacts_meeting_dates_follow_its_meetings(make_sandbox, client, moves: bool) -> None:
    sb = make_sandbox(rate_limit_per_minute=None, behaviour=Behaviour(contact_meetings_move_updated_at=moves))
    admin = client(sb, "admin")
    contact = sb.create_contact("regular@example.com", name="Regular")["contact"]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    booked = sb.book_event(start, invitee_emails=["regular@example.com"])
    [after] = admin.all("/contacts", email="regular@example.com")
    assert after["next_meeting_date"] == booked["event"]["start_time"] and after["last_meeting_date"] is None
    assert (after["updated_at"] > contact["updated_at"]) is moves
    sb.cancel_event(booked["event"]["uri"])
    [canceled] = admin.all("/contacts", email="regular@example.com")
    assert canceled["next_meeting_date"] is None
    assert (canceled["updated_at"] > after["updated_at"]) is moves
    assert canceled == next(c for c in sb.truth.records("contacts", "admin") if c["uri"] == contact["uri"])
