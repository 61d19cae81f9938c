"""Routing forms and submissions, plan and scope gates, authentication errors."""

from __future__ import annotations

import pytest
from sandbox_helpers import Client

from calendly_sandbox import Sandbox

NO_ACCESS = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
INSUFFICIENT = {
    "title": "Insufficient scope",
    "message": "This operation requires the scopes listed in the 'required_scopes' array.",
    "required_scopes": ["routing_forms:read"],
}


def test_forms_sort_and_member_access(member: Client, ro: Sandbox, acme: str) -> None:
    truth = ro.truth.routing_forms("admin")
    assert {f["status"] for f in truth} == {"published", "draft"}
    assert member.all("/routing_forms", organization=acme) == truth  # any member of a Teams org
    assert member.all("/routing_forms", organization=acme, sort="created_at:desc") == list(reversed(truth))


def test_forms_require_organization(admin: Client) -> None:
    response = admin.get("/routing_forms")
    assert response.status_code == 400 and response.json()["details"][0]["parameter"] == "organization"


def test_forms_refused_without_teams_plan(ro: Sandbox, client, solo: str) -> None:
    response = client(ro, "no_teams").get("/routing_forms", organization=solo, count=1)
    assert response.status_code == 403 and response.json() == NO_ACCESS
    with pytest.raises(PermissionError):
        ro.truth.routing_forms("no_teams")


def test_forms_refused_without_scope(ro: Sandbox, client, acme: str) -> None:
    scoped = client(ro, "no_routing_scope")
    form = ro.truth.routing_forms("admin")[0]
    for path, params in (
        ("/routing_forms", {"organization": acme}),
        ("/routing_form_submissions", {"form": form["uri"]}),
    ):
        response = scoped.get(path, **params)
        assert response.status_code == 403 and response.json() == INSUFFICIENT
    assert scoped.get("/scheduled_events", organization=acme).status_code == 200  # other scopes still work


def test_submissions(admin: Client, ro: Sandbox) -> None:
    form = ro.truth.routing_forms("admin")[0]
    truth = ro.truth.routing_form_submissions("admin", form["uri"])
    assert len(truth) == ro.spec.submissions_per_form
    assert admin.all("/routing_form_submissions", form=form["uri"], count=4) == truth
    assert admin.all("/routing_form_submissions", form=form["uri"], sort="created_at:desc") == list(reversed(truth))
    assert admin.get("/routing_form_submissions", form=form["uri"], sort="updated_at:asc").status_code == 400


def test_submission_errors(admin: Client, ro: Sandbox, client) -> None:
    missing = admin.get("/routing_form_submissions")
    assert missing.status_code == 400 and missing.json()["details"][0]["parameter"] == "form"
    malformed = admin.get("/routing_form_submissions", form="abc")
    assert malformed.status_code == 400
    unknown = admin.get("/routing_form_submissions", form="https://api.calendly.com/routing_forms/0000")
    assert unknown.status_code == 404
    form = ro.truth.routing_forms("admin")[0]
    foreign = client(ro, "no_teams").get("/routing_form_submissions", form=form["uri"])
    assert foreign.status_code == 403 and foreign.json() == NO_ACCESS


def test_submission_variants_and_links(ro: Sandbox) -> None:
    subs = ro.truth.routing_form_submissions("admin")
    assert {s["result"]["type"] for s in subs if "result" in s} == {"event_type", "external_url", "custom_message"}
    invitees = {i["uri"]: i for i in ro.truth.event_invitees("admin")}
    linked = [s for s in subs if s["submitter"]]
    assert linked
    for s in linked:
        assert s["submitter_type"] == "Invitee"
        invitee = invitees[s["submitter"]]
        assert invitee["routing_form_submission"] == s["uri"]
        assert s["created_at"] < invitee["created_at"]


# -- authentication --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header", [None, "Bearer nope", "Basic c2FuZGJveA==", "Bearer ", "sandbox-admin-token-acme-owner-0c5e7d1a9b"]
)
def test_unauthenticated(ro: Sandbox, client, header: str | None) -> None:
    c = client(ro, None)
    headers = {"Authorization": header} if header is not None else {}
    response = c.session.get(f"{ro.url}/users/me", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"title": "Unauthenticated", "message": "The access token is invalid"}
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(response.headers)


def test_bearer_scheme_is_case_insensitive(ro: Sandbox, client) -> None:
    c = client(ro, None)
    response = c.session.get(f"{ro.url}/users/me", headers={"Authorization": f"bearer {ro.tokens.admin}"}, timeout=10)
    assert response.status_code == 200


def test_tokens_are_fixed_and_not_jwt(ro: Sandbox) -> None:
    for token in ro.tokens.by_label().values():
        assert not token.startswith("eyJ") and token.startswith("sandbox-")
    assert set(ro.tokens.by_label()) == {
        "admin",
        "member",
        "no_teams",
        "no_routing_scope",
        "no_availability_scope",
        "no_contacts_scope",
        "no_notetaker_scope",
    }
