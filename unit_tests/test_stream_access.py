"""source_calendly/access.py (named apart from integration_tests/test_access.py, which pytest would confuse with it).

What a refusal says: the scope when Calendly names it, else the role for a non-admin, else the plan.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import requests
import yaml

from calendly_sandbox.tokens import ALL_SCOPES
from source_calendly.access import Access, refusal_reason, skip_warning
from source_calendly.streams import OPTIONAL_STREAMS


def forbidden(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 403
    response._content = orjson.dumps(body)
    response.url = "https://api.calendly.com/activity_log_entries"
    return response


ENTERPRISE_ADMIN = Access(scope="activity_log:read", plan="the Enterprise plan", admin=True)
UPGRADE = {"title": "Permission Denied", "message": "Please upgrade your Calendly account to Enterprise."}


def test_insufficient_scope_names_the_scopes_calendly_lists_whatever_the_role() -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["activity_log:read"]}
    for is_admin in (True, False):
        reason = refusal_reason(ENTERPRISE_ADMIN, forbidden(body), is_admin)
        assert reason.startswith("the token lacks the scope activity_log:read")
        assert "Personal Access Tokens" in reason and "plan" not in reason


def test_a_non_admin_is_told_about_the_role_and_the_plan_it_also_needs() -> None:
    reason = refusal_reason(ENTERPRISE_ADMIN, forbidden(UPGRADE), token_is_admin=False)
    assert reason.startswith("it needs the admin or owner role (and an organization on the Enterprise plan)")
    assert "Please upgrade your Calendly account to Enterprise." in reason


def test_an_admin_is_told_about_the_plan() -> None:
    reason = refusal_reason(ENTERPRISE_ADMIN, forbidden(UPGRADE), token_is_admin=True)
    assert reason.startswith("it needs the Enterprise plan") and "Upgrade the Calendly organization's plan" in reason


@pytest.mark.parametrize(
    ("access", "needs"),
    [
        (Access(scope="contacts:read"), "the contacts:read scope"),
        (
            Access(scope="groups:read", plan="the Teams or Enterprise plan"),
            "the groups:read scope and the Teams or Enterprise plan",
        ),
        (ENTERPRISE_ADMIN, "the activity_log:read scope, the Enterprise plan and the admin or owner role"),
    ],
)
def test_a_refusal_nothing_explains_says_everything_the_stream_needs(access: Access, needs: str) -> None:
    body = {"title": "Permission Denied", "message": "You do not have permission"}
    reason = refusal_reason(Access(scope=access.scope), forbidden(body), token_is_admin=True)
    assert reason.endswith(f"It needs the {access.scope} scope.")
    assert access.needs() == needs


def test_the_skip_warning_names_the_stream_and_says_the_sync_goes_on() -> None:
    warning = skip_warning("groups", "it needs the Teams or Enterprise plan (…).")
    assert warning.startswith("Skipping stream groups: it needs") and "other streams sync" in warning


SAID = "Calendly answered HTTP 403: Permission Denied: Please upgrade your Calendly account to Enterprise."
DENIED = {"title": "Permission Denied", "message": "You do not have permission"}
HOW_TO_GET_A_SCOPE = (
    "in Calendly > Integrations & Apps > API & Webhooks > Personal Access Tokens, and put it in this source's "
    "configuration."
)


def test_an_insufficient_scope_refusal_in_full_listing_every_scope() -> None:
    body = {"title": "Insufficient scope", "message": "Needs more.", "required_scopes": ["a:read", "b:read"]}
    assert refusal_reason(ENTERPRISE_ADMIN, forbidden(body), token_is_admin=True) == (
        "the token lacks the scope a:read, b:read (Calendly answered HTTP 403: Insufficient scope: Needs more.). "
        f"Create a token that has a:read, b:read {HOW_TO_GET_A_SCOPE}"
    )


def test_a_role_refusal_in_full_for_a_stream_that_also_needs_a_plan() -> None:
    assert refusal_reason(ENTERPRISE_ADMIN, forbidden(UPGRADE), token_is_admin=False) == (
        f"it needs the admin or owner role (and an organization on the Enterprise plan) ({SAID}). "
        "Use a token of a user with the admin or owner role in the Calendly organization."
    )


def test_a_role_refusal_in_full_for_a_stream_on_every_plan() -> None:
    invitations = Access(scope="organizations:read", admin=True)
    assert refusal_reason(invitations, forbidden(DENIED), token_is_admin=False) == (
        "it needs the admin or owner role (Calendly answered HTTP 403: Permission Denied: You do not have "
        "permission). Use a token of a user with the admin or owner role in the Calendly organization."
    )


def test_a_plan_refusal_in_full_for_an_admin_stream_says_an_admins_token_is_needed_too() -> None:
    assert refusal_reason(ENTERPRISE_ADMIN, forbidden(UPGRADE), token_is_admin=True) == (
        f"it needs the Enterprise plan ({SAID}). Upgrade the Calendly organization's plan to read it, with a token "
        "of an admin or owner."
    )


def test_a_plan_refusal_in_full_for_a_stream_any_member_may_read() -> None:
    groups = Access(scope="groups:read", plan="the Teams or Enterprise plan")
    for is_admin in (True, False):
        assert refusal_reason(groups, forbidden(UPGRADE), token_is_admin=is_admin) == (
            f"it needs the Teams or Enterprise plan ({SAID}). Upgrade the Calendly organization's plan to read it."
        )


def test_an_unexplained_refusal_in_full_lists_what_the_stream_needs() -> None:
    invitations = Access(scope="organizations:read", admin=True)
    assert refusal_reason(invitations, forbidden(DENIED), token_is_admin=True) == (
        "Calendly answered HTTP 403: Permission Denied: You do not have permission. It needs the organizations:read "
        "scope and the admin or owner role."
    )


def test_the_skip_warning_in_full() -> None:
    assert skip_warning("groups", "it needs the Teams or Enterprise plan (…).") == (
        "Skipping stream groups: it needs the Teams or Enterprise plan (…). The other streams sync as usual."
    )


def test_the_token_help_names_the_scope_of_every_stream_and_the_sandbox_agrees() -> None:
    # Since 2026-03-03 a new token has only the scopes chosen at creation: the help text must name each one.
    spec = yaml.safe_load((Path(__file__).parents[1] / "source_calendly" / "spec.yaml").read_text())
    help_text = spec["connectionSpecification"]["properties"]["credentials"]["description"]
    core = ["users:read", "scheduled_events:read", "event_types:read", "organizations:read", "routing_forms:read"]
    assert "The core streams need " + ", ".join(core[:-1]) + " and " + core[-1] in help_text
    for stream in OPTIONAL_STREAMS:
        assert stream.access.scope in help_text, stream.name
        assert stream.name in help_text, stream.name
    assert set(core) | {stream.access.scope for stream in OPTIONAL_STREAMS} == ALL_SCOPES
