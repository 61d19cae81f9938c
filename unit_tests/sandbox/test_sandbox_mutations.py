"""Mutations: records change exactly as Calendly changes them, visible through the API and truth."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests

from calendly_sandbox import API_BASE, Behaviour, Sandbox


def _uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def _event(sb: Sandbox, uri: str) -> dict:
    return next(e for e in sb.truth.scheduled_events("admin") if e["uri"] == uri)


def _invitee(sb: Sandbox, uri: str) -> dict:
    event_uri = uri.split("/invitees/")[0]
    return next(i for i in sb.truth.invitees(event_uri) if i["uri"] == uri)


def _one_on_one_active(sb: Sandbox) -> dict:
    return next(
        e for e in sb.truth.scheduled_events("admin") if e["status"] == "active" and e["invitees_counter"]["limit"] == 1
    )


def _group_active(sb: Sandbox, min_active: int = 2) -> dict:
    return next(
        e
        for e in sb.truth.scheduled_events("admin")
        if e["status"] == "active"
        and e["invitees_counter"]["limit"] > 1
        and e["invitees_counter"]["active"] >= min_active
    )


def test_book_event_is_listed(make_sandbox, client) -> None:
    sb = make_sandbox()
    start = datetime(2027, 1, 5, 15, 30, tzinfo=UTC)
    out = sb.book_event(start, invitees=1, invitee_emails=["jane.roe@example.com"])
    event, invitees = out["event"], out["invitees"]
    assert event["status"] == "active" and event["start_time"] == "2027-01-05T15:30:00.000000Z"
    assert event["created_at"] == event["updated_at"] > sb.anchor.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert event["invitees_counter"] == {"total": 1, "active": 1, "limit": 1}
    assert invitees[0]["email"] == "jane.roe@example.com" and invitees[0]["event"] == event["uri"]
    assert invitees[0]["created_at"] >= event["created_at"]
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    listed = c.all("/scheduled_events", organization=acme, min_start_time="2027-01-05T15:30:00Z", count=100)
    assert listed[0] == event
    assert c.all(f"/scheduled_events/{_uuid(event['uri'])}/invitees") == invitees
    assert c.all("/scheduled_events", organization=acme, invitee_email="jane.roe@example.com") == [event]


def test_book_group_event(make_sandbox) -> None:
    sb = make_sandbox()
    out = sb.book_event(datetime(2027, 2, 1, 9, 0, tzinfo=UTC), invitees=3)
    assert out["event"]["invitees_counter"]["total"] == 3 and out["event"]["invitees_counter"]["limit"] > 1
    assert len(sb.truth.invitees(out["event"]["uri"])) == 3
    solo_type = next(t for t in sb.truth.event_types("admin") if t["kind"] == "solo")
    with pytest.raises(ValueError):
        sb.book_event(datetime(2027, 2, 1, tzinfo=UTC), event_type_uri=solo_type["uri"], invitees=2)


def test_book_event_for_member_host(make_sandbox) -> None:
    sb = make_sandbox()
    member_uri = sb.truth.user("member")["uri"]
    before = len(sb.truth.scheduled_events("member"))
    out = sb.book_event("2027-03-01T10:00:00Z", host_uri=member_uri)
    assert out["event"]["event_memberships"][0]["user"] == member_uri
    assert len(sb.truth.scheduled_events("member")) == before + 1
    with pytest.raises(ValueError):
        sb.book_event(
            "2027-03-01T10:00:00Z", host_uri=sb.truth.user("no_teams")["uri"], event_type_uri=out["event"]["event_type"]
        )


def test_cancel_event(make_sandbox, client) -> None:
    sb = make_sandbox()
    event = _group_active(sb)
    out = sb.cancel_event(event["uri"], reason="Host sick", canceled_by="Ops", canceler_type="host")
    canceled = out["event"]
    assert canceled["status"] == "canceled"
    cancellation = canceled["cancellation"]
    assert cancellation["canceled_by"] == "Ops" and cancellation["reason"] == "Host sick"
    assert cancellation["canceler_type"] == "host"
    assert canceled["updated_at"] == cancellation["created_at"] > event["updated_at"]
    assert canceled["invitees_counter"]["active"] == 0
    assert out["invitees"] and all(i["status"] == "canceled" for i in out["invitees"])
    assert all(i["updated_at"] >= cancellation["created_at"] for i in out["invitees"])
    assert _event(sb, event["uri"]) == canceled
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    assert canceled in c.all("/scheduled_events", organization=acme, status="canceled", count=100)
    assert all(
        e["uri"] != event["uri"] for e in c.all("/scheduled_events", organization=acme, status="active", count=100)
    )
    with pytest.raises(ValueError):
        sb.cancel_event(event["uri"])


def test_cancel_group_invitee_keeps_event_updated_at(make_sandbox) -> None:
    sb = make_sandbox()
    event = _group_active(sb)
    invitee = next(i for i in sb.truth.invitees(event["uri"]) if i["status"] == "active")
    out = sb.cancel_invitee(invitee["uri"], reason="Conflict")
    assert out["invitee"]["status"] == "canceled" and out["invitee"]["updated_at"] > invitee["updated_at"]
    assert out["invitee"]["cancellation"]["canceler_type"] == "invitee"
    after = _event(sb, event["uri"])
    assert after["status"] == "active"
    assert after["invitees_counter"]["active"] == event["invitees_counter"]["active"] - 1
    assert after["updated_at"] == event["updated_at"]  # the connector must catch this via the invitee fan-out


def test_cancel_one_on_one_invitee_cancels_event(make_sandbox) -> None:
    sb = make_sandbox()
    event = _one_on_one_active(sb)
    invitee = sb.truth.invitees(event["uri"])[0]
    out = sb.cancel_invitee(invitee["uri"])
    assert out["event"]["status"] == "canceled" and out["event"]["updated_at"] > event["updated_at"]
    assert out["event"]["cancellation"]["canceler_type"] == "invitee"
    assert _invitee(sb, invitee["uri"])["status"] == "canceled"


def test_reschedule(make_sandbox, client) -> None:
    sb = make_sandbox()
    event = _one_on_one_active(sb)
    old = sb.truth.invitees(event["uri"])[0]
    new_start = datetime(2027, 4, 2, 13, 0, tzinfo=UTC)
    out = sb.reschedule(old["uri"], new_start)
    old_after, new = out["old_invitee"], out["new_invitee"]
    assert old_after["status"] == "canceled" and old_after["rescheduled"] is True
    assert old_after["new_invitee"] == new["uri"] and old_after["cancellation"]["canceler_type"] == "invitee"
    assert old_after["updated_at"] > old["updated_at"]
    assert out["old_event"]["status"] == "canceled"
    assert new["old_invitee"] == old["uri"] and new["status"] == "active" and new["email"] == old["email"]
    assert new["event"] == out["new_event"]["uri"] != event["uri"]
    assert out["new_event"]["start_time"] == "2027-04-02T13:00:00.000000Z"
    assert _invitee(sb, old["uri"]) == old_after and _invitee(sb, new["uri"]) == new
    c = client(sb, "admin")
    assert c.ok(f"/scheduled_events/{_uuid(new['event'])}")["resource"] == out["new_event"]


def test_reschedule_group_invitee_joins_existing_slot(make_sandbox) -> None:
    sb = make_sandbox()
    target = sb.book_event(datetime(2027, 5, 1, 9, 0, tzinfo=UTC), invitees=2)["event"]
    source = sb.book_event(datetime(2027, 5, 8, 9, 0, tzinfo=UTC), event_type_uri=target["event_type"], invitees=2)
    moved = source["invitees"][0]
    out = sb.reschedule(moved["uri"], datetime(2027, 5, 1, 9, 0, tzinfo=UTC))
    assert out["new_event"]["uri"] == target["uri"]
    assert out["new_event"]["invitees_counter"]["total"] == 3
    assert out["old_event"]["status"] == "active" and out["old_event"]["invitees_counter"]["active"] == 1


def test_no_show_mark_and_unmark(make_sandbox, client) -> None:
    sb = make_sandbox()
    invitee = next(i for i in sb.truth.event_invitees("admin") if i["status"] == "active" and not i["no_show"])
    out = sb.mark_no_show(invitee["uri"])
    no_show = out["no_show"]
    assert no_show["uri"].startswith(f"{API_BASE}/invitee_no_shows/")
    assert out["invitee"]["no_show"] == no_show and out["invitee"]["updated_at"] == no_show["created_at"]
    assert out["invitee"]["updated_at"] > invitee["updated_at"]
    c = client(sb, "admin")
    assert c.ok(f"/invitee_no_shows/{_uuid(no_show['uri'])}")["resource"]["invitee"] == invitee["uri"]
    with pytest.raises(ValueError):
        sb.mark_no_show(invitee["uri"])
    cleared = sb.unmark_no_show(invitee["uri"])["invitee"]
    assert cleared["no_show"] is None and cleared["updated_at"] > out["invitee"]["updated_at"]
    assert c.get(f"/invitee_no_shows/{_uuid(no_show['uri'])}").status_code == 404


def test_add_form_submission(make_sandbox, client) -> None:
    sb = make_sandbox()
    form = sb.truth.routing_forms("admin")[0]
    sub = sb.add_form_submission(form["uri"])["submission"]
    assert sub["created_at"] == sub["updated_at"] and sub["routing_form"] == form["uri"]
    listed = client(sb, "admin").all("/routing_form_submissions", form=form["uri"], count=100)
    assert listed[-1] == sub


def test_unknown_records_raise(make_sandbox) -> None:
    sb = make_sandbox()
    with pytest.raises(KeyError):
        sb.cancel_event(f"{API_BASE}/scheduled_events/00000000-0000-4000-8000-000000000000")
    with pytest.raises(KeyError):
        sb.mark_no_show(f"{API_BASE}/scheduled_events/x/invitees/00000000-0000-4000-8000-000000000000")


def test_keyset_pagination_survives_inserts(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    first = c.ok("/scheduled_events", organization=acme, count=50)
    last_seen = first["collection"][-1]["start_time"]
    early = sb.book_event("2000-01-01T00:00:00Z")["event"]  # before the cursor: not in later pages
    late = sb.book_event("2099-01-01T00:00:00Z")["event"]  # after the cursor: appears at the end
    rest = c.all("/scheduled_events", organization=acme, count=50, page_token=first["pagination"]["next_page_token"])
    uris = [e["uri"] for e in first["collection"] + rest]
    assert len(uris) == len(set(uris))
    assert early["uri"] not in uris and rest[-1]["uri"] == late["uri"]
    assert all(e["start_time"] >= last_seen for e in rest)


def test_concurrent_mutations_and_reads(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=None)
    acme = sb.truth.organization("admin")["uri"]
    errors: list[BaseException] = []

    def book(n: int) -> None:
        try:
            for i in range(10):
                sb.book_event(datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=n * 100 + i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def read() -> None:
        try:
            c = client(sb, "admin")
            for _ in range(5):
                c.all("/scheduled_events", organization=acme, count=100)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    events = sb.truth.scheduled_events("admin")
    assert len(events) == sb.spec.events + 40
    stamps = [e["updated_at"] for e in events if e["start_time"] >= "2030"]
    assert len(set(stamps)) == 40  # the mutation clock never repeats


# -- the HTTP control API -------------------------------------------------------------------------------------------
def test_control_endpoints(make_sandbox) -> None:
    sb = make_sandbox()
    base = f"{sb.url}/_sandbox"
    booked = requests.post(f"{base}/book_event", json={"start_time": "2027-06-01T10:00:00Z"}, timeout=10)
    assert booked.status_code == 200
    event = booked.json()["event"]
    invitee = booked.json()["invitees"][0]
    assert requests.post(f"{base}/mark_no_show", json={"invitee_uri": invitee["uri"]}, timeout=10).ok
    assert (
        requests.post(f"{base}/cancel_event", json={"event_uri": event["uri"]}, timeout=10).json()["event"]["status"]
        == "canceled"
    )
    truth = requests.get(f"{base}/truth/scheduled_events", params={"token_label": "member"}, timeout=10).json()
    assert truth == sb.truth.scheduled_events("member")
    inv = requests.get(f"{base}/truth/invitees", params={"event_uri": event["uri"]}, timeout=10).json()
    assert inv == sb.truth.invitees(event["uri"])
    denied = requests.get(f"{base}/truth/routing_forms", params={"token_label": "no_teams"}, timeout=10)
    assert denied.status_code == 403
    bad = requests.post(f"{base}/cancel_event", json={"event_uri": event["uri"]}, timeout=10)
    assert bad.status_code == 400
    missing = requests.post(f"{base}/cancel_event", json={"event_uri": f"{API_BASE}/scheduled_events/x"}, timeout=10)
    assert missing.status_code == 404
    assert requests.post(f"{base}/book_event", json={"nope": 1}, timeout=10).status_code == 400
    assert requests.get(f"{base}/nope", timeout=10).status_code == 404
    assert requests.post(f"{base}/rate_limit", json={"limit": 1}, timeout=10).ok
    h = {"Authorization": f"Bearer {sb.tokens.admin}"}
    assert [requests.get(f"{sb.url}/users/me", headers=h, timeout=10).status_code for _ in range(2)] == [200, 429]
    assert requests.post(f"{base}/faults", json={"error_rate": 1, "error_weights": {"503": 1}}, timeout=10).ok
    assert requests.post(f"{base}/rate_limit", json={"limit": None}, timeout=10).ok
    assert requests.get(f"{sb.url}/users/me", headers=h, timeout=10).status_code == 503
    stats = requests.get(f"{base}/stats", timeout=10).json()
    assert stats["by_endpoint"]["/users/me"] == {"200": 1, "429": 1, "503": 1}
    assert requests.post(f"{base}/clear_request_log", timeout=10).ok
    assert requests.get(f"{base}/request_log", timeout=10).json() == []


@pytest.mark.parametrize("moves", [False, True])
def test_join_group_event_moves_the_counter_and_updated_at_only_if_told(make_sandbox, moves: bool) -> None:
    sb = make_sandbox(behaviour=Behaviour(group_changes_move_updated_at=moves))
    event = next(
        e
        for e in sb.truth.scheduled_events("admin")
        if e["status"] == "active" and 1 < e["invitees_counter"]["limit"] > e["invitees_counter"]["active"]
    )
    out = sb.join_group_event(event["uri"], email="late.joiner@example.com")
    assert out["invitee"]["email"] == "late.joiner@example.com" and out["invitee"]["event"] == event["uri"]
    after = _event(sb, event["uri"])
    counter = event["invitees_counter"]
    assert after["invitees_counter"] == {**counter, "total": counter["total"] + 1, "active": counter["active"] + 1}
    assert (after["updated_at"] > event["updated_at"]) is moves
    assert out["invitee"]["uri"] in {i["uri"] for i in sb.truth.invitees(event["uri"])}
    invitee = next(i for i in sb.truth.invitees(event["uri"]) if i["status"] == "active")
    sb.cancel_invitee(invitee["uri"])
    assert (_event(sb, event["uri"])["updated_at"] > after["updated_at"]) is moves
    with pytest.raises(ValueError):
        sb.join_group_event(_one_on_one_active(sb)["uri"])


@pytest.mark.parametrize("moves", [True, False])
def test_edit_meeting_notes_moves_updated_at_unless_told_not_to(make_sandbox, moves: bool) -> None:
    sb = make_sandbox(behaviour=Behaviour(notes_move_updated_at=moves))
    event = sb.truth.scheduled_events("admin")[0]
    sb.edit_meeting_notes(event["uri"], "Sent the proposal")
    after = _event(sb, event["uri"])
    assert after["meeting_notes_plain"] == "Sent the proposal"
    assert (after["updated_at"] > event["updated_at"]) is moves


def test_link_submission_sets_the_submitter_and_moves_updated_at(make_sandbox) -> None:
    sb = make_sandbox()
    form = sb.truth.routing_forms("admin")[0]["uri"]
    submission = next(s for s in sb.truth.routing_form_submissions("admin", form) if s["submitter"] is None)
    invitee = sb.truth.invitees(_one_on_one_active(sb)["uri"])[0]
    sb.link_submission(submission["uri"], invitee["uri"])
    after = next(s for s in sb.truth.routing_form_submissions("admin", form) if s["uri"] == submission["uri"])
    assert after["submitter"] == invitee["uri"] and after["submitter_type"] == "Invitee"
    assert after["updated_at"] > submission["updated_at"] and after["created_at"] == submission["created_at"]
