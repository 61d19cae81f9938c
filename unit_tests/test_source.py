"""spec, check and discover through the entrypoint."""

import json
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.entrypoint_wrapper import _run_command, discover
from airbyte_cdk.test.models.outcome import ExpectedOutcome

from source_calendly import SourceCalendly
from source_calendly.context import NON_ADMIN_WARNING
from source_calendly.errors import ORG_ACCESS
from unit_tests.fake_api import ADMIN_USER, API, MEMBER_TOKEN, ORG, FakeCalendly, Fault, days, invitee, ts
from unit_tests.fake_api import event as ev
from unit_tests.helpers import config, error_messages, failure_types, run_read, uris

ALL_STREAMS = (
    "scheduled_events",
    "event_invitees",
    "event_types",
    "organization_memberships",
    "routing_forms",
    "routing_form_submissions",
)
SPEC = yaml.safe_load((Path(__file__).parents[1] / "source_calendly/spec.yaml").read_text())


def check(cfg: dict, tmp_path: Path) -> tuple[str, str | None, list[str]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = _run_command(SourceCalendly(), ["check", "--config", str(path)], ExpectedOutcome.EXPECT_SUCCESS)
    [status] = out.connection_status_messages
    logs = [m.log.message for m in out.logs]
    return status.connectionStatus.status.value, status.connectionStatus.message, logs


def test_spec_credentials_are_secret_and_only_they_are_required() -> None:
    props = SPEC["connectionSpecification"]["properties"]
    pat, oauth = props["credentials"]["oneOf"]
    assert pat["properties"]["personal_access_token"]["airbyte_secret"] is True
    assert "Integrations & Apps > API & Webhooks" in pat["properties"]["personal_access_token"]["description"]
    for key in ("client_id", "client_secret", "refresh_token", "access_token"):
        assert oauth["properties"][key]["airbyte_secret"] is True, key
    assert [pat["properties"]["auth_type"]["const"], oauth["properties"]["auth_type"]["const"]] == [
        "personal_access_token",
        "oauth2.0",
    ]
    assert SPEC["connectionSpecification"]["required"] == ["credentials"]
    assert (
        props["token_url"]["default"] == "https://auth.calendly.com/oauth/token"
        and props["token_url"]["airbyte_hidden"]
    )
    assert props["lookback_days"]["default"] == 7 and props["lookback_days"]["minimum"] == 0
    assert props["api_url"]["default"] == "https://api.calendly.com" and props["api_url"]["airbyte_hidden"]


def test_check_succeeds_and_says_who_the_token_belongs_to(api: FakeCalendly, tmp_path: Path) -> None:
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    assert any("Ada Admin" in line and "'owner'" in line for line in logs)


def test_check_with_a_non_admin_token_succeeds_with_the_warning(api: FakeCalendly, tmp_path: Path) -> None:
    status, _, logs = check(config(personal_access_token=MEMBER_TOKEN), tmp_path)
    assert status == "SUCCEEDED"
    # Once, although check's probes of the optional streams list the member's own event types too.
    assert len([line for line in logs if "will hold only that user's own data" in line]) == 1


def test_check_with_a_wrong_token_fails_saying_what_to_do(api: FakeCalendly, tmp_path: Path) -> None:
    status, message, _ = check(config(personal_access_token="nope"), tmp_path)
    assert status == "FAILED"
    assert "invalid or expired" in message and "Integrations & Apps > API & Webhooks" in message


@pytest.mark.parametrize("bad", [{"start_date": "2024-02-30T00:00:00Z"}, {"api_url": "http://example.com"}])
def test_check_with_bad_config_fails_clearly(api: FakeCalendly, tmp_path: Path, bad: dict) -> None:
    status, message, _ = check(config(**bad), tmp_path)
    assert status == "FAILED"
    assert ("start_date" in message) or ("api_url" in message)
    assert api.requests == []  # nothing was sent: the token never goes to a refused host


def test_discover_makes_no_request_and_declares_the_sync_modes(api: FakeCalendly) -> None:
    out = discover(SourceCalendly(), config())
    streams = {s.name: s for s in out.catalog.catalog.streams}
    assert api.requests == []
    modes = {name: sorted(m.value for m in s.supported_sync_modes) for name, s in streams.items()}
    assert modes == {
        "scheduled_events": ["full_refresh", "incremental"],
        "event_invitees": ["full_refresh", "incremental"],
        "event_types": ["full_refresh"],
        "organization_memberships": ["full_refresh"],
        "routing_forms": ["full_refresh"],
        "routing_form_submissions": ["full_refresh", "incremental"],
        "organization": ["full_refresh"],
        "users": ["full_refresh"],
        "groups": ["full_refresh"],
        "group_relationships": ["full_refresh"],
        "organization_invitations": ["full_refresh"],
        "event_type_memberships": ["full_refresh", "incremental"],
        "user_availability_schedules": ["full_refresh", "incremental"],
        "event_type_availability_schedules": ["full_refresh", "incremental"],
        "activity_log_entries": ["full_refresh", "incremental"],
        "contacts": ["full_refresh", "incremental"],
        "outgoing_communications": ["full_refresh", "incremental"],
        "webhook_subscriptions": ["full_refresh", "incremental"],
        "teams": ["full_refresh"],
        "meeting_recaps": ["full_refresh", "incremental"],
        "locations": ["full_refresh", "incremental"],
        "contact_custom_field_definitions": ["full_refresh"],
        "contact_lists": ["full_refresh"],
        "contact_list_memberships": ["full_refresh"],
    }
    keys = {"event_type_availability_schedules": [["event_type"], ["availability_rule_uri"]],
            "contact_list_memberships": [["contact_list"], ["contact"]], "locations": [["user"], ["kind"]],
            "outgoing_communications": [["communication_key"]]}  # fmt: skip
    cursors = {"activity_log_entries": "occurred_at", "outgoing_communications": "created_at"}
    cursors |= {name: "_ab_cdc_updated_at" for name in ("event_type_memberships", "user_availability_schedules",
                                                       "event_type_availability_schedules",
                                                       "webhook_subscriptions", "meeting_recaps",
                                                       "locations")}  # fmt: skip
    for name, stream in streams.items():
        assert stream.source_defined_primary_key == keys.get(name, [["uri"]])
        if "incremental" in modes[name]:
            assert stream.source_defined_cursor and stream.default_cursor_field == [cursors.get(name, "updated_at")]


def test_discover_declares_no_nested_primary_key_and_every_key_field_top_level(api: FakeCalendly) -> None:
    """PyAirbyte (and typed destinations) refuse a nested key path before writing anything (issue 18)."""
    streams = discover(SourceCalendly(), config()).catalog.catalog.streams
    assert len(streams) == 24  # contact_notes and meeting_recap_transcripts only when switched on
    for stream in streams:
        key = stream.source_defined_primary_key
        assert key and all(len(path) == 1 for path in key), f"{stream.name}: {key}"
        declared = stream.json_schema["properties"]
        assert all(declared[field]["type"] in ("string", ["null", "string"]) for [field] in key), stream.name


def test_check_with_a_token_lacking_users_read_names_the_scope(api: FakeCalendly, tmp_path: Path) -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["users:read"]}
    api.faults.append(Fault("/users/me", 403, body))
    status, message, _ = check(config(), tmp_path)
    assert status == "FAILED" and "users:read" in message


def test_a_member_whose_role_is_hidden_is_treated_as_non_admin(api: FakeCalendly, tmp_path: Path) -> None:
    api.faults.append(Fault("/organization_memberships", 403, {"title": "Permission Denied", "message": "no"}))
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    assert any("role 'unknown'" in line for line in logs) and any("admin or owner" in line for line in logs)


def test_a_token_lacking_the_scope_to_read_its_role_names_the_scope(api: FakeCalendly, tmp_path: Path) -> None:
    # Not a hidden role: an owner's token without organizations:read would otherwise sync only its own data.
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["organizations:read"]}
    api.faults.append(Fault("/organization_memberships", 403, body))
    status, message, _ = check(config(), tmp_path)
    assert status == "FAILED" and "organizations:read" in message


def test_check_names_the_token_owner_exactly(api: FakeCalendly, tmp_path: Path) -> None:
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    assert f"The token belongs to Ada Admin <u@example.com>, role 'owner' in organization {ORG}." in logs
    assert not [line for line in logs if "admin or owner" in line]


def test_check_with_a_member_token_warns_naming_the_user_and_role(api: FakeCalendly, tmp_path: Path) -> None:
    _, _, logs = check(config(personal_access_token=MEMBER_TOKEN), tmp_path)
    assert logs.count(NON_ADMIN_WARNING.format(name="Max Member", role="user")) == 1


def test_check_with_a_hidden_role_warns_with_role_unknown(api: FakeCalendly, tmp_path: Path) -> None:
    api.faults.append(Fault("/organization_memberships", 403, {"title": "Permission Denied", "message": "no"}))
    _, _, logs = check(config(), tmp_path)
    assert logs.count(NON_ADMIN_WARNING.format(name="Ada Admin", role="unknown")) == 1


def test_a_403_on_the_token_owner_itself_is_a_config_error_not_a_hidden_role(api: FakeCalendly) -> None:
    api.faults.append(Fault("/users/me", 403, {"title": "Permission Denied", "message": "no"}))
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0] == ORG_ACCESS.format(detail="Permission Denied: no")
    assert failure_types(out)[0] == FailureType.config_error
    assert api.paths("/event_types") == []


def test_an_unexpected_answer_about_the_token_owner_fails_naming_it(api: FakeCalendly) -> None:
    api.faults.append(Fault("/users/me", 200, {"data": {}}))
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0] == (
        "Calendly returned an unexpected response for stream account at GET /users/me: 'resource' is not an object. "
        "Run the sync again; if it persists, Calendly's API may have changed: report it with this message."
    )
    assert failure_types(out)[0] == FailureType.system_error


def test_the_role_is_looked_up_in_the_users_own_membership_once(api: FakeCalendly) -> None:
    run_read(["event_types", "organization_memberships"])
    lookups = [q for q in api.paths("/organization_memberships") if "user" in q]
    assert lookups == [{"organization": [ORG], "user": [ADMIN_USER], "count": ["100"]}]
    assert len(api.paths("/users/me")) == 1


def test_every_stream_lists_the_tokens_own_organization(api: FakeCalendly) -> None:
    out = run_read(["organization_memberships"])
    assert uris(out, "organization_memberships") == [m["uri"] for m in api.memberships]
    listing = [q for q in api.paths("/organization_memberships") if "user" not in q]
    assert listing == [{"organization": [ORG], "count": ["100"]}]


def test_a_sync_of_every_stream_gives_each_its_own_records_with_each_listing_requested_once(
    api: FakeCalendly,
) -> None:
    event = api.add_event(ev("e1", days(1), days(-1)))
    api.invitees[event["uri"]].append(invitee(event, "i1", days(-1)))
    api.event_types = [{"uri": f"{API}/event_types/t1", "name": "Intro"}]
    api.routing_forms = [{"uri": f"{API}/routing_forms/f1", "created_at": ts(days(-9)), "updated_at": ts(days(-9))}]
    api.submissions[api.routing_forms[0]["uri"]] = [
        {"uri": f"{API}/routing_form_submissions/s1", "created_at": ts(days(-2)), "updated_at": ts(days(-2))}
    ]
    out = run_read(list(ALL_STREAMS))
    assert uris(out, "scheduled_events") == [event["uri"]]
    assert uris(out, "event_invitees") == [f"{event['uri']}/invitees/i1"]
    assert uris(out, "event_types") == [f"{API}/event_types/t1"]
    assert uris(out, "organization_memberships") == [m["uri"] for m in api.memberships]
    assert uris(out, "routing_forms") == [f"{API}/routing_forms/f1"]
    assert uris(out, "routing_form_submissions") == [f"{API}/routing_form_submissions/s1"]
    assert len(api.paths("/scheduled_events")) == len(api.paths("/routing_forms")) == 1


def test_check_reports_once_which_optional_streams_the_token_can_read(api: FakeCalendly, tmp_path: Path) -> None:
    api.plan, api.missing_scopes = "teams", {"contacts:read"}
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    [report] = [line for line in logs if "Gated streams this token can read" in line]
    readable = report.split("can read: ", 1)[1].split(".", 1)[0].split(", ")
    assert "groups" in readable and "users" in readable and "user_availability_schedules" in readable
    refused = report.split("cannot read", 1)[1]
    assert "activity_log_entries: it needs the Enterprise plan" in refused
    assert "outgoing_communications: it needs the Enterprise plan" in refused
    assert "contacts: the token lacks the scope contacts:read" in refused
    for name in CONTACT_BOOK:
        assert f"{name}: the token lacks the scope contacts:read" in refused
    assert "groups" not in refused


def test_check_reports_routing_forms_refused_for_the_plan_with_one_request(api: FakeCalendly, tmp_path: Path) -> None:
    api.routing_forms = None  # a plan without routing forms
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    [report] = [line for line in logs if "Gated streams this token can read" in line]
    refused = dict(line.split(": ", 1) for line in report.split("\n- ")[1:])
    assert set(refused) == {"routing_forms", "routing_form_submissions"}
    assert refused["routing_forms"] == refused["routing_form_submissions"]
    assert refused["routing_forms"].startswith("it needs the Teams or Enterprise plan")
    assert len(api.paths("/routing_forms")) == 1


def test_check_reports_routing_forms_refused_for_the_scope_and_what_a_sync_then_does(
    api: FakeCalendly, tmp_path: Path
) -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["routing_forms:read"]}
    api.faults.append(Fault(r"^/routing_forms$", 403, body))
    status, _, logs = check(config(), tmp_path)
    assert status == "SUCCEEDED"
    [report] = [line for line in logs if "Gated streams this token can read" in line]
    refused = dict(line.split(": ", 1) for line in report.split("\n- ")[1:])
    assert set(refused) == {"routing_forms", "routing_form_submissions"}
    assert refused["routing_forms"].startswith("the token lacks the scope routing_forms:read")
    assert "fails until it has it" in refused["routing_forms"] and "Personal Access Tokens" in refused["routing_forms"]


def test_check_for_a_member_names_the_role_for_admin_streams(api: FakeCalendly, tmp_path: Path) -> None:
    status, _, logs = check(config(personal_access_token=MEMBER_TOKEN), tmp_path)
    assert status == "SUCCEEDED"
    [report] = [line for line in logs if "Gated streams this token can read" in line]
    refused = dict(line.split(": ", 1) for line in report.split("\n- ")[1:])
    assert set(refused) == {"organization_invitations", "activity_log_entries"}
    assert all("admin or owner role" in reason for reason in refused.values())


def test_check_probes_each_optional_endpoint_at_most_once_with_count_1(api: FakeCalendly, tmp_path: Path) -> None:
    check(config(), tmp_path)
    probed = [(p, q) for p, q in api.requests if p not in ("/users/me", "/organization_memberships")]
    assert len(probed) == len({p for p, _ in probed}) + 1  # the event types listing is asked twice (two probes)
    assert all(q.get("count", ["1"]) == ["1"] for _, q in probed)


OPTIONAL = (
    "routing_forms, routing_form_submissions, organization, users, groups, group_relationships, "
    "organization_invitations, event_type_memberships, "
    "user_availability_schedules, event_type_availability_schedules, activity_log_entries, contacts, "
    "outgoing_communications, webhook_subscriptions, teams, meeting_recaps, locations, "
    "contact_custom_field_definitions, contact_lists, contact_list_memberships"
)
CONTACT_BOOK = ("contact_custom_field_definitions", "contact_lists", "contact_list_memberships")


def check_log_levels(cfg: dict, tmp_path: Path) -> list[tuple[str, str]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    out = _run_command(SourceCalendly(), ["check", "--config", str(path)], ExpectedOutcome.EXPECT_SUCCESS)
    [status] = out.connection_status_messages
    assert status.connectionStatus.status.value == "SUCCEEDED"
    return [(m.log.level.value, m.log.message) for m in out.logs]


def test_check_with_every_optional_stream_readable_says_so_in_order_without_a_warning(
    api: FakeCalendly, tmp_path: Path
) -> None:
    logs = check_log_levels(config(), tmp_path)
    assert ("INFO", f"Gated streams this token can read: {OPTIONAL}.") in logs
    assert not [message for level, message in logs if level in ("WARN", "WARNING")]


def test_an_optional_stream_that_cannot_be_checked_is_reported_as_such_and_check_succeeds(
    api: FakeCalendly, tmp_path: Path
) -> None:
    api.faults.append(Fault("^/contacts$", 400, {"title": "Invalid Argument", "message": "bad"}))
    logs = check_log_levels(config(), tmp_path)
    [(level, report)] = [(lv, m) for lv, m in logs if m.startswith("Gated streams this token can read")]
    readable = OPTIONAL.replace("contacts, ", "").replace(", " + ", ".join(CONTACT_BOOK), "")
    head, *tails = report.split("\n- ")
    assert level == "WARN"
    assert head == (
        f"Gated streams this token can read: {readable}. Gated streams it cannot read (they will sync empty, "
        "with a warning):"
    )
    # The contact book shares the contacts' gate and its one probe (source.check_connection).
    assert [tail.split(":")[0] for tail in tails] == ["contacts", *CONTACT_BOOK]
    for tail in tails:
        assert "it could not be checked (Calendly rejected the request of stream contacts" in tail
        assert tail.endswith("Invalid Argument: bad.)")


def test_check_for_a_member_lists_each_refused_stream_on_its_own_line_in_full(
    api: FakeCalendly, tmp_path: Path
) -> None:
    logs = check_log_levels(config(personal_access_token=MEMBER_TOKEN), tmp_path)
    [report] = [m for _, m in logs if m.startswith("Gated streams this token can read")]
    said = "Calendly answered HTTP 403: Permission Denied: You do not have permission to access this resource."
    use = "Use a token of a user with the admin or owner role in the Calendly organization."
    assert report.split("\n")[1:] == [
        f"- organization_invitations: it needs the admin or owner role ({said}). {use}",
        f"- activity_log_entries: it needs the admin or owner role (and an organization on the Enterprise plan) "
        f"({said}). {use}",
    ]
