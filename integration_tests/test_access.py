"""Tokens with less than full access: a plain member, an organization without Teams, a wrong token."""

from __future__ import annotations

import pytest

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, catalog, run_connector


def test_a_member_token_syncs_its_own_events_with_one_warning(shared_sandbox: Sandbox) -> None:
    member = shared_sandbox.tokens.member
    run = run_connector("read", sandbox_config(shared_sandbox, member), catalog(ALL_STREAMS))
    assert run.returncode == 0 and run.errors() == []
    own = {e["uri"] for e in shared_sandbox.truth.scheduled_events(member)}
    assert own and set(run.uris("scheduled_events")) == own
    assert set(run.uris("event_types")) == {t["uri"] for t in shared_sandbox.truth.event_types(member)}
    invitee_events = {i["event_uri"] for i in run.records("event_invitees")}
    assert invitee_events <= own
    # One warning about the core streams' scope; the optional streams a member may not read warn for themselves.
    scope_warnings = [w for w in run.warnings() if "admin or owner" in w and not w.startswith("Skipping stream")]
    assert len(scope_warnings) == 1


def test_an_organization_without_teams_skips_routing_streams_and_succeeds(shared_sandbox: Sandbox) -> None:
    token = shared_sandbox.tokens.no_teams
    run = run_connector("read", sandbox_config(shared_sandbox, token), catalog(ALL_STREAMS))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.errors() == []
    assert run.records("routing_forms") == [] and run.records("routing_form_submissions") == []
    assert run.counts()["scheduled_events"] == len(shared_sandbox.truth.scheduled_events(token))
    assert [w for w in run.warnings() if "Teams or Enterprise" in w]


def test_a_token_without_the_routing_scope_fails_naming_the_scope(shared_sandbox: Sandbox) -> None:
    token = shared_sandbox.tokens.no_routing_scope
    run = run_connector("read", sandbox_config(shared_sandbox, token), catalog(["routing_forms", "event_types"]))
    assert run.returncode != 0
    assert any("routing_forms:read" in e["message"] for e in run.errors())
    assert run.counts().get("event_types")  # the other stream still synced


@pytest.mark.parametrize(
    ("label", "named"), [("no_routing_scope", "routing_forms:read"), ("no_teams", "Teams or Enterprise")]
)
def test_check_reports_routing_forms_a_token_cannot_read_like_the_other_gated_streams(
    shared_sandbox: Sandbox, label: str, named: str
) -> None:
    run = run_connector("check", sandbox_config(shared_sandbox, getattr(shared_sandbox.tokens, label)))
    [status] = [m["connectionStatus"] for m in run.of("CONNECTION_STATUS")]
    assert status["status"] == "SUCCEEDED"
    [report] = [line for line in run.logs() if "Gated streams this token can read" in line]
    lines = dict(line.split(": ", 1) for line in report.split("\n- ")[1:])
    assert named in lines["routing_forms"] and lines["routing_form_submissions"] == lines["routing_forms"]
    forms = [e for e in shared_sandbox.request_log if e.path == "/routing_forms" and e.query.get("count") == "1"]
    assert forms  # the probe


def test_check_with_a_wrong_token_fails_with_what_to_do(shared_sandbox: Sandbox) -> None:
    run = run_connector("check", sandbox_config(shared_sandbox, "not-a-real-token"))
    [status] = [m["connectionStatus"] for m in run.of("CONNECTION_STATUS")]
    assert status["status"] == "FAILED"
    assert "invalid or expired" in status["message"]
    assert "Calendly > Integrations & Apps > API & Webhooks" in status["message"]


def test_check_succeeds_and_names_the_token_owner_and_role(shared_sandbox: Sandbox) -> None:
    run = run_connector("check", sandbox_config(shared_sandbox))
    [status] = [m["connectionStatus"] for m in run.of("CONNECTION_STATUS")]
    assert status["status"] == "SUCCEEDED"
    assert any("role 'owner'" in line for line in run.logs())


def test_a_bad_start_date_fails_check_with_the_format(shared_sandbox: Sandbox) -> None:
    run = run_connector("check", sandbox_config(shared_sandbox, start_date="2024-02-30T00:00:00Z"))
    [status] = [m["connectionStatus"] for m in run.of("CONNECTION_STATUS")]
    assert status["status"] == "FAILED" and "YYYY-MM-DDTHH:MM:SSZ" in status["message"]


def test_a_corrupt_state_file_ends_in_a_trace_error_not_a_crash(shared_sandbox: Sandbox) -> None:
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "scheduled_events"},
                                           "stream_state": {"updated_at": "yesterday"}}}]  # fmt: skip
    run = run_connector("read", sandbox_config(shared_sandbox), catalog(["scheduled_events"]), state)
    assert run.returncode != 0
    assert any("saved state of stream scheduled_events" in e["message"] for e in run.errors())
    assert run.records("scheduled_events") == []
