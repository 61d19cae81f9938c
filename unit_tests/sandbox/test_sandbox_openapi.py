"""Responses validate against Calendly's official OpenAPI 2023 schemas (speakeasy-sdks/calendly-python).

The spec is OpenAPI 3.0: ``nullable`` is turned into ``anyOf [null, ...]`` and vendor keys are dropped, then
each response is checked with jsonschema (draft 2020-12) including formats (date-time, uri, email, uuid).
Where the 2023 spec is known to be outdated against the current API (current OpenAPI, real responses), exactly
that point is relaxed in ``_relax`` with the reason. Everything else must validate as published.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from sandbox_helpers import Client

from calendly_sandbox import Sandbox

# Carried in the repository (unit_tests/resources, with its source). A missing spec fails these tests: never a skip.
SPEC = Path(
    os.environ.get(
        "CALENDLY_OPENAPI_2023", Path(__file__).resolve().parents[1] / "resources/calendly-openapi-2023.yaml"
    )
)
if not SPEC.exists():
    raise FileNotFoundError(f"Calendly's OpenAPI 2023 spec is not at {SPEC} (set CALENDLY_OPENAPI_2023)")

_DROP = {"example", "examples", "nullable", "discriminator", "externalDocs", "xml"}
_NAMED_MAPS = {"properties", "patternProperties", "schemas"}  # keys of these maps are names, not keywords
CONFERENCES = (
    "GoogleConference",
    "ZoomConference",
    "GotoMeetingConference",
    "MicrosoftTeamsConference",
    "WebExConference",
)


def _relax(spec: dict[str, Any]) -> None:
    s = spec["components"]["schemas"]
    # The current OpenAPI's plan enum now includes "standard" (Solo Co's plan); the 2023 enum lacks it.
    s["Organization"]["properties"]["plan"]["enum"].append("standard")
    # `kind_description` exists only in the 2023 spec; the current OpenAPI dropped it.
    s["EventType"]["required"].remove("kind_description")
    # Events report Zoom locations as type "zoom" (real responses); the 2023 enum copied the event-type
    # configuration's "zoom_conference".
    s["ZoomConference"]["properties"]["type"]["enum"] = ["zoom"]
    # Conference status is processing|initiated|pushed|failed|null today: Calendly drops conference details
    # 6 months after the event (current OpenAPI), which the 2023 non-null enum cannot express.
    for name in CONFERENCES:
        s[name]["properties"]["status"]["nullable"] = True
    # Spec typos, fixed towards strictness: the shared error responses write `value: X` or a bare-string
    # `enum: X` where they mean `const: X` (a bare-string enum is not even valid JSON Schema).
    for response in spec["components"]["responses"].values():
        for part in response["content"]["application/json"]["schema"].get("allOf", []):
            for prop in part.get("properties", {}).values():
                if "value" in prop:
                    prop["const"] = prop.pop("value")
                if isinstance(prop.get("enum"), str):
                    prop["const"] = prop.pop("enum")
    # Not relaxed: invitee payment.amount is a number here (numeric in real responses), which is
    # what the 2023 spec says; the current spec's "string" typing is the outlier.


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _NAMED_MAPS and isinstance(value, dict):
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in _DROP or key.startswith("x-"):
            continue
        else:
            out[key] = _convert(value)
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_TIME.match(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value))


@FORMATS.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


class Spec:
    def __init__(self) -> None:
        raw = yaml.safe_load(SPEC.read_text())
        _relax(raw)
        self.raw = raw
        self.components = _convert(raw["components"])

    def _validate(self, instance: Any, schema: dict[str, Any]) -> None:
        root = {**schema, "components": self.components}
        jsonschema.Draft202012Validator(root, format_checker=FORMATS).validate(instance)

    def component(self, name: str, instance: Any) -> None:
        self._validate(instance, {"$ref": f"#/components/schemas/{name}"})

    def response(self, path: str, status: str, instance: Any) -> None:
        """Validate against the response schema declared for (GET path, status)."""
        response = self.raw["paths"][path]["get"]["responses"][status]
        if "$ref" in response:  # e.g. '#/components/responses/NOT_FOUND'
            response = self.raw["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema = copy.deepcopy(response["content"]["application/json"]["schema"])
        self._validate(instance, _convert(schema))


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


def _uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def test_users(spec: Spec, admin: Client, member: Client) -> None:
    me = admin.ok("/users/me")
    spec.response("/users/me", "200", me)
    spec.component("User", me["resource"])
    spec.response("/users/{uuid}", "200", admin.ok(f"/users/{_uuid(member.ok('/users/me')['resource']['uri'])}"))


def test_organization(spec: Spec, admin: Client, acme: str) -> None:
    spec.component("Organization", admin.ok(f"/organizations/{_uuid(acme)}")["resource"])


def test_organization_memberships(spec: Spec, admin: Client, acme: str) -> None:
    for page in admin.pages("/organization_memberships", organization=acme, count=3):
        spec.response("/organization_memberships", "200", page)
        spec.component("Pagination", page["pagination"])
    first = page["collection"][0]
    spec.response(
        "/organization_memberships/{uuid}", "200", admin.ok(f"/organization_memberships/{_uuid(first['uri'])}")
    )


def test_event_types(spec: Spec, ro: Sandbox, admin: Client, acme: str) -> None:
    for page in admin.pages("/event_types", organization=acme, count=4):
        spec.response("/event_types", "200", page)
    spec.response("/event_types/{uuid}", "200", admin.ok(f"/event_types/{_uuid(page['collection'][0]['uri'])}"))
    for event_type in ro.truth.event_types("no_teams"):
        spec.component("EventType", event_type)


def test_scheduled_events_and_invitees(spec: Spec, ro: Sandbox, admin: Client, acme: str) -> None:
    for page in admin.pages("/scheduled_events", organization=acme, count=100):
        spec.response("/scheduled_events", "200", page)
    for event in ro.truth.scheduled_events("admin") + ro.truth.scheduled_events("no_teams"):
        spec.component("Event", event)
        for invitee in ro.truth.invitees(event["uri"]):
            spec.component("Invitee", invitee)
    event = ro.truth.scheduled_events("admin")[0]
    spec.response("/scheduled_events/{uuid}", "200", admin.ok(f"/scheduled_events/{_uuid(event['uri'])}"))
    path = f"/scheduled_events/{_uuid(event['uri'])}/invitees"
    page = admin.ok(path, count=1)
    spec.response("/scheduled_events/{uuid}/invitees", "200", page)
    invitee = admin.ok(f"{path}/{_uuid(page['collection'][0]['uri'])}")
    spec.response("/scheduled_events/{event_uuid}/invitees/{invitee_uuid}", "200", invitee)
    with_no_show = next(i for i in ro.truth.event_invitees("admin") if i["no_show"])
    no_show = admin.ok(f"/invitee_no_shows/{_uuid(with_no_show['no_show']['uri'])}")
    spec.response("/invitee_no_shows/{uuid}", "200", no_show)


def test_invitees_created_by_mutations(spec: Spec, make_sandbox) -> None:
    sb = make_sandbox()
    booked = sb.book_event("2027-01-01T10:00:00Z", invitees=2)
    single = sb.book_event("2027-01-02T10:00:00Z")
    moved = sb.reschedule(single["invitees"][0]["uri"], "2027-01-09T10:00:00Z")
    canceled = sb.cancel_event(booked["event"]["uri"])
    marked = sb.mark_no_show(moved["new_invitee"]["uri"])
    for event in (canceled["event"], moved["old_event"], moved["new_event"]):
        spec.component("Event", event)
    for invitee in (*canceled["invitees"], moved["old_invitee"], marked["invitee"]):
        spec.component("Invitee", invitee)
    form = sb.truth.routing_forms("admin")[0]
    spec.component("RoutingFormSubmission", sb.add_form_submission(form["uri"])["submission"])


def test_routing(spec: Spec, admin: Client, acme: str) -> None:
    forms = admin.ok("/routing_forms", organization=acme, count=1)
    spec.response("/routing_forms", "200", forms)
    form = forms["collection"][0]
    spec.response("/routing_forms/{uuid}", "200", admin.ok(f"/routing_forms/{_uuid(form['uri'])}"))
    for page in admin.pages("/routing_form_submissions", form=form["uri"], count=100):
        spec.response("/routing_form_submissions", "200", page)
    sub = page["collection"][0]
    spec.response("/routing_form_submissions/{uuid}", "200", admin.ok(f"/routing_form_submissions/{_uuid(sub['uri'])}"))


def test_error_bodies(spec: Spec, ro: Sandbox, client, acme: str) -> None:
    admin, member, nobody = client(ro, "admin"), client(ro, "member"), client(ro, None)
    bad = admin.get("/scheduled_events", organization=acme, count=500)
    spec.response("/scheduled_events", "400", bad.json())
    spec.response("/scheduled_events", "401", nobody.get("/scheduled_events", organization=acme).json())
    spec.response("/scheduled_events", "404", admin.get("/scheduled_events/nope/invitees").json())
    # 403 bodies against the endpoint-specific enums of the spec
    spec.response("/scheduled_events", "403", member.get("/scheduled_events", organization=acme).json())
    spec.response(
        "/scheduled_events", "403", admin.get("/scheduled_events", user=ro.truth.user("member")["uri"]).json()
    )
    outsider = ro.truth.user("no_teams")["uri"]
    spec.response("/scheduled_events", "403", admin.get("/scheduled_events", organization=acme, user=outsider).json())
    spec.response("/event_types", "403", member.get("/event_types", organization=acme).json())
    spec.response("/event_types", "403", admin.get("/event_types", user=outsider).json())
    me = ro.truth.user("member")["uri"]
    foreign = next(
        e for e in ro.truth.scheduled_events("admin") if all(m["user"] != me for m in e["event_memberships"])
    )
    denied = member.get(f"/scheduled_events/{_uuid(foreign['uri'])}/invitees")
    spec.response("/scheduled_events/{uuid}/invitees", "403", denied.json())
    spec.response("/routing_forms", "403", client(ro, "no_teams").get("/routing_forms", organization=acme).json())
    scope = client(ro, "no_routing_scope").get("/routing_forms", organization=acme).json()
    spec.component("ErrorResponse", scope)


def test_500_and_429_bodies(spec: Spec, make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=1)
    c = client(sb, "admin")
    sb.queue_faults(500)
    spec.response("/users/me", "500", c.get("/users/me").json())
    c.get("/users/me")
    throttled = c.get("/users/me")
    assert throttled.status_code == 429
    spec.component("ErrorResponse", throttled.json())  # the 429 body is undocumented; keep the common envelope


def test_the_validator_is_strict(spec: Spec, ro: Sandbox) -> None:
    """Guard against a vacuous pass: broken records must fail."""
    event = ro.truth.scheduled_events("admin")[0]
    invitee = ro.truth.invitees(event["uri"])[0]
    broken = [
        ("Event", {**event, "status": "done"}),
        ("Event", {**event, "start_time": "2026-01-01 10:00"}),
        (
            "Event",
            {**event, "location": {"type": "zoom_conference", "status": "pushed", "join_url": None, "data": None}},
        ),
        ("Event", {k: v for k, v in event.items() if k != "invitees_counter"}),
        ("Invitee", {**invitee, "email": "not-an-email"}),
        ("Invitee", {**invitee, "tracking": None}),
        ("Invitee", {**invitee, "event": "/scheduled_events/x"}),
        ("Pagination", {"count": 1, "next_page": None, "previous_page": None, "next_page_token": None}),
    ]
    for name, record in broken:
        with pytest.raises(jsonschema.ValidationError):
            spec.component(name, record)
    spec.component("Invitee", {**invitee, "timezone": None})  # nullable fields accept null


# -- endpoints added to the API since the 2023 spec; those the 2023 spec already has are checked against it ----
def _relax_2026(spec: Spec) -> None:
    """Calendly's 2026 OpenAPI: webhook subscriptions gained `group`, scope `group` and eight event names."""
    hook = spec.components["schemas"]["WebhookSubscription"]["properties"]
    hook["events"]["items"].pop("enum", None)
    if "group" not in hook["scope"]["enum"]:
        hook["scope"]["enum"].append("group")


def test_newer_endpoints_in_the_2023_spec(spec: Spec, ro: Sandbox, admin: Client, acme: str) -> None:
    _relax_2026(spec)
    org_id = _uuid(acme)
    for page in admin.pages(f"/organizations/{org_id}/invitations", count=4):
        spec.response("/organizations/{uuid}/invitations", "200", page)
    me = ro.truth.user("admin")["uri"]
    spec.response("/user_availability_schedules", "200", admin.ok("/user_availability_schedules", user=me))
    for page in admin.pages("/activity_log_entries", organization=acme, count=100):
        spec.response("/activity_log_entries", "200", page)
    for scope in ("organization", "user"):
        params = {"organization": acme, "scope": scope, **({"user": me} if scope == "user" else {})}
        spec.response("/webhook_subscriptions", "200", admin.ok("/webhook_subscriptions", **params))


def test_newer_endpoint_errors_in_the_2023_spec(spec: Spec, ro: Sandbox, client, acme: str, solo: str) -> None:
    member, admin = client(ro, "member"), client(ro, "admin")
    spec.response(
        "/organizations/{uuid}/invitations", "403", member.get(f"/organizations/{_uuid(acme)}/invitations").json()
    )
    outsider = ro.truth.user("no_teams")["uri"]
    spec.response(
        "/user_availability_schedules", "403", admin.get("/user_availability_schedules", user=outsider).json()
    )
    spec.response(
        "/activity_log_entries", "403", client(ro, "no_teams").get("/activity_log_entries", organization=solo).json()
    )
    spec.response("/activity_log_entries", "403", member.get("/activity_log_entries", organization=acme).json())
    spec.response("/activity_log_entries", "400", admin.get("/activity_log_entries").json())
    for params in ({"organization": acme, "scope": "organization"}, {"organization": solo, "scope": "organization"}):
        spec.response("/webhook_subscriptions", "403", member.get("/webhook_subscriptions", **params).json())
    admin_uri = ro.truth.user("admin")["uri"]
    other = member.get("/webhook_subscriptions", organization=acme, scope="user", user=admin_uri).json()
    spec.response("/webhook_subscriptions", "403", other)
