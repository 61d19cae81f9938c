"""The gating and fan-out mechanism: a refused optional stream ends empty with one warning; parents are read once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airbyte_cdk.test.entrypoint_wrapper import _run_command
from airbyte_cdk.test.models.outcome import ExpectedOutcome

from source_calendly import SourceCalendly
from unit_tests.fake_api import ADMIN_USER, API, EXPIRED_TOKEN, MEMBER_TOKEN, ORG, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, error_messages, final_states, records, run_read, uris, warnings


def event_type(i: int) -> dict:
    return {"uri": f"{API}/event_types/et{i}", "name": f"Type {i}", "active": True,
            "created_at": ts(days(-100 + i)), "updated_at": ts(days(-50 + i))}  # fmt: skip


def skips(out: object, stream: str) -> list[str]:
    return [w for w in warnings(out) if w.startswith(f"Skipping stream {stream}:")]


@pytest.mark.parametrize(
    ("stream", "plan", "named"),
    [
        ("groups", "standard", "Teams or Enterprise plan"),
        ("group_relationships", "professional", "Teams or Enterprise plan"),
        ("activity_log_entries", "teams", "Enterprise plan"),
        ("outgoing_communications", "teams", "Enterprise plan"),
    ],
)
def test_a_plan_without_the_feature_skips_only_that_stream_with_one_warning(
    api: FakeCalendly, stream: str, plan: str, named: str
) -> None:
    api.plan = plan
    api.teams = [{"uri": f"{API}/teams/t1", "name": "Sales", "organization": ORG}]
    out = run_read([stream, "teams", "organization_memberships"])
    assert not out.errors
    assert records(out, stream) == []
    [warning] = skips(out, stream)
    assert named in warning and "Upgrade" in warning
    assert uris(out, "teams") == [f"{API}/teams/t1"] and len(uris(out, "organization_memberships")) == 2


@pytest.mark.parametrize(
    ("stream", "scope"),
    [
        ("organization", "organizations:read"),
        ("groups", "groups:read"),
        ("event_type_memberships", "event_types:read"),
        ("user_availability_schedules", "availability:read"),
        ("event_type_availability_schedules", "availability:read"),
        ("activity_log_entries", "activity_log:read"),
        ("contacts", "contacts:read"),
        ("outgoing_communications", "outgoing_communications:read"),
        ("webhook_subscriptions", "webhooks:read"),
    ],
)
def test_a_token_missing_a_scope_skips_the_stream_naming_the_exact_scope(
    api: FakeCalendly, stream: str, scope: str
) -> None:
    api.missing_scopes = {scope}
    api.event_types = [event_type(1)]
    out = run_read([stream, "event_types"])
    assert not out.errors and records(out, stream) == []
    [warning] = skips(out, stream)
    assert f"lacks the scope {scope}" in warning and "Personal Access Tokens" in warning
    assert uris(out, "event_types") == [f"{API}/event_types/et1"]


@pytest.mark.parametrize("stream", ["organization_invitations", "activity_log_entries"])
def test_a_member_token_skips_admin_streams_naming_the_role(api: FakeCalendly, stream: str) -> None:
    out = run_read([stream], config(personal_access_token=MEMBER_TOKEN))
    assert not out.errors and records(out, stream) == []
    [warning] = skips(out, stream)
    assert "admin or owner role" in warning


def test_a_refused_incremental_stream_leaves_its_state_as_found(api: FakeCalendly) -> None:
    saved = {"activity_log_entries": {"occurred_at": "2026-11-20T00:00:00.000000Z"}}
    api.plan = "teams"
    out = run_read(["activity_log_entries"], state=saved)
    assert not out.errors and skips(out, "activity_log_entries")
    assert final_states(out)["activity_log_entries"] == saved["activity_log_entries"]


def test_event_types_are_listed_once_for_every_stream_that_fans_out_over_them(api: FakeCalendly) -> None:
    api.event_types = [event_type(i) for i in range(150)]
    for t in api.event_types:
        api.hosts[t["uri"]] = [{"uri": t["uri"].replace("event_types", "event_type_memberships"), "event_type": t}]
        api.event_type_schedules[t["uri"]] = [{"event_type": t["uri"], "availability_setting": "host"}]
    out = run_read(["event_type_memberships", "event_types", "event_type_availability_schedules"])
    assert len(uris(out, "event_types")) == 150
    assert len(records(out, "event_type_memberships")) == 150
    assert len(records(out, "event_type_availability_schedules")) == 150
    assert len(api.paths("/event_types")) == 2  # two pages, once: replayed for the other two streams
    assert len(api.paths("/event_type_memberships")) == 150


def test_a_parent_deleted_during_the_sync_is_skipped_with_a_warning(api: FakeCalendly) -> None:
    api.event_types = [event_type(1), event_type(2)]
    api.event_type_schedules[api.event_types[1]["uri"]] = [{"availability_setting": "host"}]
    out = run_read(["event_type_availability_schedules"])
    assert not out.errors
    assert [
        {k: v for k, v in r.items() if k != "_ab_cdc_updated_at"}
        for r in records(out, "event_type_availability_schedules")
    ] == [{"availability_setting": "host", "event_type": f"{API}/event_types/et2"}]
    assert any("et1 no longer exists" in w for w in warnings(out))


def test_a_rejected_request_is_still_an_error_not_a_skip(api: FakeCalendly) -> None:
    api.faults.append(Fault("/groups", 400, {"title": "Invalid Argument", "message": "bad"}))
    out = run_read(["groups"], expect_error=True)
    assert any("groups" in m for m in error_messages(out)) and not skips(out, "groups")


def test_a_server_error_that_persists_is_an_error_not_a_skip(api: FakeCalendly) -> None:
    api.faults.append(Fault("/groups", 500, {"title": "Internal Server Error", "message": "x"}, times=100))
    out = run_read(["groups"], config(max_retries=1), expect_error=True)
    assert any("groups" in m for m in error_messages(out)) and not skips(out, "groups")
    assert len(api.paths("/groups")) == 2  # the request and its one retry


def test_a_refused_fan_out_costs_one_request_however_many_workers(api: FakeCalendly) -> None:
    api.missing_scopes = {"availability:read"}
    api.event_types = [event_type(i) for i in range(30)]
    out = run_read(["event_type_availability_schedules"], config(num_workers=8))
    assert not out.errors and len(skips(out, "event_type_availability_schedules")) == 1
    assert len(api.paths("/event_type_availability_schedules")) == 1


def test_a_token_refused_the_parent_listing_skips_the_stream_and_the_sync_succeeds(api: FakeCalendly) -> None:
    # A token without event_types:read: Calendly refuses GET /event_types itself, not only the hosts.
    api.event_types = [event_type(1)]
    body = {"title": "Permission Denied", "message": "Insufficient scope", "required_scopes": ["event_types:read"]}
    api.faults.append(Fault(r"^/event_types$", 403, body))
    out = run_read(["event_type_memberships"])
    assert not out.errors
    [skip] = skips(out, "event_type_memberships")
    assert "event_types:read" in skip
    assert api.paths("/event_type_memberships") == []


def test_a_refusal_after_the_first_parent_skips_that_parent_only(api: FakeCalendly) -> None:
    api.event_types = [event_type(i) for i in range(1, 5)]
    api.hosts = {t["uri"]: [{"uri": f"{t['uri']}/host", "event_type": {"uri": t["uri"]}}] for t in api.event_types}
    body = {"title": "Permission Denied", "message": "You do not have permission"}
    refused = api.event_types[2]["uri"]  # the first is asked alone, then the rest on the workers
    api.faults.append(Fault(r"^/event_type_memberships$", 403, body, query_has=f"event_type={refused}"))
    out = run_read(["event_type_memberships"], config(num_workers=2))
    assert not out.errors and skips(out, "event_type_memberships") == []
    assert len(records(out, "event_type_memberships")) == 3
    assert [w for w in warnings(out) if f"Calendly refused the records of {refused}" in w]


def check_logs(cfg: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = _run_command(SourceCalendly(), ["check", "--config", str(path)], ExpectedOutcome.EXPECT_SUCCESS)
    [status] = out.connection_status_messages
    assert status.connectionStatus.status.value == "SUCCEEDED"
    return [m.log.message for m in out.logs]


def test_check_probes_each_optional_stream_with_its_own_cheapest_request(api: FakeCalendly, tmp_path: Path) -> None:
    api.event_types = [event_type(1), event_type(2)]
    check_logs(config(), tmp_path)
    probes = [(p, q) for p, q in api.requests if p not in ("/users/me", "/organization_memberships")]
    first = [f"{API}/event_types/et1"]
    assert probes == [
        # routing forms and their submissions: one request for both
        ("/routing_forms", {"organization": [ORG], "sort": ["created_at:asc"], "count": ["1"]}),
        ("/organizations/org-1", {}),  # organization: the one record itself
        ("/groups", {"organization": [ORG], "count": ["1"]}),
        ("/group_relationships", {"organization": [ORG], "count": ["1"]}),
        ("/organizations/org-1/invitations", {"count": ["1"]}),
        # event_type_memberships: the first event type, then its hosts, one of them
        ("/event_types", {"organization": [ORG], "count": ["1"]}),
        ("/event_type_memberships", {"event_type": first, "count": ["1"]}),
        ("/user_availability_schedules", {"user": [ADMIN_USER]}),  # not paginated: no count
        ("/event_types", {"organization": [ORG], "count": ["1"]}),
        ("/event_type_availability_schedules", {"event_type": first}),  # not paginated: no count
        ("/activity_log_entries", {"organization": [ORG], "count": ["1"]}),
        ("/contacts", {"count": ["1"]}),
        ("/outgoing_communications", {"organization": [ORG], "count": ["1"]}),
        ("/webhook_subscriptions", {"organization": [ORG], "scope": ["organization"], "count": ["1"]}),
        ("/teams", {"count": ["1"]}),
        ("/meeting_recaps", {"count": ["1"]}),
        ("/locations", {"user": [ADMIN_USER]}),  # not paginated: no count
    ]


def test_check_without_any_event_type_asks_nothing_per_event_type_and_counts_them_readable(
    api: FakeCalendly, tmp_path: Path
) -> None:
    logs = check_logs(config(), tmp_path)
    assert api.paths("/event_type_memberships") == api.paths("/event_type_availability_schedules") == []
    [report] = [line for line in logs if line.startswith("Gated streams this token can read")]
    assert "event_type_memberships" in report and "event_type_availability_schedules" in report


def test_check_reports_a_refused_parent_listing_as_the_fan_out_streams_refusal(
    api: FakeCalendly, tmp_path: Path
) -> None:
    api.event_types = [event_type(1)]
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["event_types:read"]}
    api.faults.append(Fault(r"^/event_types$", 403, body, times=2))
    logs = check_logs(config(), tmp_path)
    [report] = [line for line in logs if line.startswith("Gated streams this token can read")]
    refused = dict(line.split(": ", 1) for line in report.split("\n- ")[1:])
    assert set(refused) == {"event_type_memberships", "event_type_availability_schedules"}
    assert refused["event_type_memberships"].startswith("the token lacks the scope event_types:read")
    assert api.paths("/event_type_memberships") == api.paths("/event_type_availability_schedules") == []


def test_a_fan_out_over_no_parent_is_empty(api: FakeCalendly) -> None:
    out = run_read(["event_type_memberships", "event_type_availability_schedules"])
    assert not out.errors and not warnings(out)
    assert records(out, "event_type_memberships") == records(out, "event_type_availability_schedules") == []


def test_the_parents_are_read_a_page_ahead_of_their_children_not_all_at_once(api: FakeCalendly) -> None:
    # The first parent alone, then a hundred at a time: the third page of event types is asked only after the
    # hosts of the first 101, so the hosts waiting in memory are those of a hundred event types at most.
    api.event_types = [event_type(i) for i in range(202)]
    out = run_read(["event_type_memberships"])
    assert not out.errors
    order = [(p, q.get("page_token", [None])[0], q.get("event_type", [""])[0]) for p, q in api.requests]
    listing = [i for i, (p, _, _) in enumerate(order) if p == "/event_types"]
    hosts = [i for i, (p, _, _) in enumerate(order) if p == "/event_type_memberships"]
    assert len(listing) == 3 and len(hosts) == 202
    assert hosts[0] < listing[1] < hosts[1]  # page 2 when the first batch is taken (its hundredth parent)
    assert hosts[100] < listing[2] < hosts[101]  # page 3 only for the second batch


def test_an_expired_page_token_on_the_parent_listing_loses_and_repeats_no_parent(api: FakeCalendly) -> None:
    # The parents are told apart by their own key (uri), not by the fan-out stream's (event type, rule).
    api.event_types = [event_type(i) for i in range(150)]
    api.event_type_schedules = {t["uri"]: [{"availability_setting": "host"}] for t in api.event_types}
    api.faults.append(Fault(r"^/event_types$", 400, EXPIRED_TOKEN, query_has="page_token"))
    out = run_read(["event_type_availability_schedules"])
    assert not out.errors
    assert [r["event_type"] for r in records(out, "event_type_availability_schedules")] == [
        t["uri"] for t in api.event_types
    ]
    assert len(api.paths("/event_types")) == 4  # page 1, page 2 refused, page 1 again, page 2
