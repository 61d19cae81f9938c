"""Dataset: determinism, preset sizes, and the invariants real Calendly data keeps."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sandbox_helpers import ANCHOR

from calendly_sandbox import DatasetSpec, Sandbox
from calendly_sandbox.dataset import build

LABELS = ("admin", "member", "no_teams", "no_routing_scope")


def _everything(sb: Sandbox) -> dict:
    t = sb.truth
    return {
        "events": t.scheduled_events("admin") + t.scheduled_events("no_teams"),
        "invitees": t.event_invitees("admin") + t.event_invitees("no_teams"),
        "types": t.event_types("admin") + t.event_types("no_teams"),
        "memberships": t.organization_memberships("admin") + t.organization_memberships("no_teams"),
        "forms": t.routing_forms("admin"),
        "submissions": t.routing_form_submissions("admin"),
        "users": [t.user(label) for label in LABELS],
    }


@pytest.fixture(scope="module")
def data(ro: Sandbox) -> dict:
    return _everything(ro)


def test_same_seed_same_data_other_seed_other_data(ro: Sandbox, data: dict) -> None:
    again = Sandbox(DatasetSpec.small(seed=7, anchor=ANCHOR))
    assert _everything(again) == data
    other = Sandbox(DatasetSpec.small(seed=8, anchor=ANCHOR))
    assert _everything(other)["events"] != data["events"]


def test_default_anchor_is_now_floored_to_the_minute() -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    anchor = Sandbox(DatasetSpec.small(events=5)).anchor
    assert anchor.second == 0 and anchor.microsecond == 0 and before <= anchor <= datetime.now(UTC)


def test_small_preset_sizes(ro: Sandbox, data: dict) -> None:
    spec = ro.spec
    assert (spec.members, spec.event_types, spec.events, spec.past_days, spec.future_days) == (8, 6, 150, 120, 30)
    assert len(ro.truth.scheduled_events("admin")) == 150
    assert len(ro.truth.organization_memberships("admin")) == 8
    assert len(ro.truth.event_types("admin")) == 6
    assert len(data["forms"]) == 2 and len(data["submissions"]) == 30


def test_reference_preset() -> None:
    spec = DatasetSpec.reference(anchor=ANCHOR)
    ds = build(spec)
    acme = ds.organizations[0]["uri"]
    acme_events = [
        e
        for e in ds.events
        if e["event_memberships"][0]["user"] in {m["user"]["uri"] for m in ds.memberships if m["organization"] == acme}
    ]
    assert len(acme_events) == 2000
    assert len([m for m in ds.memberships if m["organization"] == acme]) == 60
    invitees = sum(len(i) for i, e in zip(ds.invitees, ds.events, strict=True) if e in acme_events)
    assert 1.15 < invitees / 2000 < 1.45
    assert len(ds.routing_forms) == 5 and len(ds.submissions) == 1000


def test_large_build_is_fast() -> None:
    # CPU time of this process, not wall time: other processes on a loaded machine do not count against it.
    t = time.process_time()
    ds = build(DatasetSpec.large(events=100_000, anchor=ANCHOR))
    elapsed = time.process_time() - t
    assert len(ds.events) == 100_000 + ds.spec.solo_co_events
    assert len(ds.org.contacts) > 10_000 and len(ds.org.communications) > 10_000
    assert elapsed < 20, elapsed  # about 4 s of CPU on one core (core data 3 s, newer resources 1 s)


def test_timestamps_are_consistent(data: dict) -> None:
    anchor = ANCHOR.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for kind in ("events", "invitees", "types", "memberships", "forms", "submissions", "users"):
        for record in data[kind]:
            assert record["created_at"] <= record["updated_at"] <= anchor, (kind, record["uri"])
    for event in data["events"]:
        assert event["created_at"] <= event["start_time"] < event["end_time"]
        if event["status"] == "canceled":
            assert event["updated_at"] == event["cancellation"]["created_at"]
        else:
            assert "cancellation" not in event
    for inv in data["invitees"]:
        if inv["status"] == "canceled":
            assert inv["cancellation"]["created_at"] <= inv["updated_at"]
        if inv["no_show"]:
            assert inv["no_show"]["created_at"] <= inv["updated_at"]
    assert any(e["start_time"] > anchor for e in data["events"])  # future events exist
    assert any(e["start_time"] < anchor for e in data["events"])


def test_invitees_and_counters_agree(ro: Sandbox, data: dict) -> None:
    for event in data["events"]:
        invitees = ro.truth.invitees(event["uri"])
        counter = event["invitees_counter"]
        assert counter["total"] == len(invitees) >= 1
        assert counter["active"] == sum(i["status"] == "active" for i in invitees)
        assert counter["total"] <= counter["limit"]
        assert all(i["event"] == event["uri"] and i["uri"].startswith(event["uri"] + "/invitees/") for i in invitees)
        if event["status"] == "canceled":
            assert counter["active"] == 0
        for inv in invitees:
            assert inv["created_at"] >= event["created_at"]
    assert any(e["invitees_counter"]["total"] >= 3 for e in data["events"])  # group events


def test_variety(data: dict) -> None:
    events, invitees = data["events"], data["invitees"]
    assert len({e["location"]["type"] for e in events}) >= 5
    assert {e["cancellation"]["canceler_type"] for e in events if "cancellation" in e} == {"host", "invitee"}
    assert any(i["no_show"] for i in invitees)
    assert any(i["questions_and_answers"] for i in invitees)
    assert any(i["tracking"]["utm_source"] for i in invitees)
    assert any(i["payment"] for i in invitees)  # the seeded organization has paid event types
    assert Counter(i["scheduling_method"] for i in invitees).keys() >= {None, "instant_book"}
    group_partial = [
        e
        for e in events
        if e["status"] == "active" and e["invitees_counter"]["active"] < e["invitees_counter"]["total"]
    ]
    assert group_partial  # group events where one invitee canceled
    for key in ("scheduling_method", "invitee_scheduled_by", "reconfirmation", "no_show", "payment"):
        assert all(key in i for i in invitees)


def test_reschedules_are_linked(data: dict) -> None:
    invitees = {i["uri"]: i for i in data["invitees"]}
    old = [i for i in data["invitees"] if i["rescheduled"]]
    assert old
    for inv in old:
        assert inv["status"] == "canceled" and inv["cancellation"]["canceler_type"] == "invitee"
        new = invitees[inv["new_invitee"]]
        assert new["old_invitee"] == inv["uri"] and new["event"] != inv["event"] and new["email"] == inv["email"]


def test_member_hosts_events_and_solo_co_has_data(ro: Sandbox) -> None:
    assert ro.truth.scheduled_events("member")
    assert ro.truth.event_types("member")
    assert ro.truth.scheduled_events("no_teams") and ro.truth.event_types("no_teams")
    assert ro.truth.organization("no_teams")["plan"] == "standard"
    assert ro.truth.organization("admin")["plan"] == "enterprise"  # DatasetSpec.plan
    assert Sandbox(DatasetSpec.small(plan="teams", events=5)).truth.organization("admin")["plan"] == "teams"


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        build(DatasetSpec.small(members=2))
    with pytest.raises(ValueError):
        build(DatasetSpec.small(event_types=1))
