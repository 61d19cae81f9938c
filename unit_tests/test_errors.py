"""Calendly's error answers: what each one means for the sync (the action and the failure type Airbyte acts
on) and the exact text the user reads."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_calendly.errors import (
    ORG_ACCESS,
    UNAUTHORIZED,
    CalendlyErrorHandler,
    error_detail,
    forbidden_message,
    is_json,
    is_page_token_rejection,
    malformed_response,
    required_scopes,
    response_json,
)

URL = "https://api.calendly.com/event_types?count=100"
EXPIRED_TOKEN = {"title": "Invalid Argument", "message": "The supplied parameters are invalid.",
                 "details": [{"parameter": "page_token", "message": "is invalid"}]}  # fmt: skip


def response(status: int, body: Any = None, url: str = URL, **headers: str) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.url = url
    r._content = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else orjson.dumps(body)
    r.headers.update(headers)
    return r


def handler(tolerated: frozenset[int] = frozenset()) -> CalendlyErrorHandler:
    return CalendlyErrorHandler(logging.getLogger("test"), "event_types", tolerated)


# --- error_detail ---------------------------------------------------------------------------------------------


def test_detail_is_calendlys_title_message_and_each_parameter() -> None:
    details = [*EXPIRED_TOKEN["details"], "junk", {"message": "count is too large"}, {"parameter": "sort"}]
    assert error_detail(response(400, {**EXPIRED_TOKEN, "details": details})) == (
        "Invalid Argument: The supplied parameters are invalid. (page_token is invalid; count is too large; sort)"
    )
    assert error_detail(response(403, {"title": "Permission Denied"})) == "Permission Denied"
    assert error_detail(response(400, {"message": "no title", "details": []})) == "no title"
    assert error_detail(response(500, {"details": "not a list"})) == "HTTP 500"


def test_detail_of_a_non_json_body_is_a_short_excerpt_on_one_line() -> None:
    page = "<html>\n  <body>" + "x" * 300 + "</body></html>"
    detail = error_detail(response(502, page))
    excerpt = "<html> <body>" + "x" * (200 - len("<html>\n  <body>"))
    assert detail == f"HTTP 502, non-JSON body: {excerpt!r}"


def test_the_body_is_parsed_once_and_a_non_json_body_is_told_apart() -> None:
    r = response(200, {"collection": []})
    assert response_json(r) is response_json(r) and is_json(response_json(r))
    assert not is_json(response_json(response(200, "<html>")))
    assert not is_json(response_json(response(200, b"")))


# --- 403: scopes or role ----------------------------------------------------------------------------------------


def test_a_403_naming_scopes_asks_for_a_token_with_them() -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["users:read", "routing_forms:read"]}
    assert required_scopes(response(403, body)) == ["users:read", "routing_forms:read"]
    assert forbidden_message(response(403, body)) == (
        "The personal access token lacks the Calendly scopes users:read, routing_forms:read (HTTP 403: Insufficient "
        "scope). Create a token with these scopes in Calendly > Integrations & Apps > API & Webhooks > Personal "
        "Access Tokens."
    )


@pytest.mark.parametrize("body", [{"title": "Permission Denied"}, {"required_scopes": "users:read"}, ["x"], "<html>"])
def test_a_403_without_a_scope_list_is_about_the_role(body: Any) -> None:
    r = response(403, body)
    assert required_scopes(r) == []
    assert forbidden_message(r) == ORG_ACCESS.format(detail=error_detail(r))
    assert "admin or owner role" in forbidden_message(r)


# --- page tokens Calendly no longer accepts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body, rejected",
    [
        (400, EXPIRED_TOKEN, True),
        (400, {**EXPIRED_TOKEN, "details": [{"parameter": "count", "message": "is invalid"}]}, False),
        (400, {**EXPIRED_TOKEN, "details": {"parameter": "page_token"}}, False),
        (400, {"title": "Invalid Argument"}, False),
        (400, "<html>page_token</html>", False),
        (404, EXPIRED_TOKEN, False),
    ],
)
def test_only_a_400_naming_the_page_token_is_a_token_rejection(status: int, body: Any, rejected: bool) -> None:
    assert is_page_token_rejection(response(status, body)) is rejected


# --- what each answer means -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body, action, failure, message",
    [
        (200, {"collection": []}, ResponseAction.SUCCESS, None, None),
        (
            200,
            "<html>Bad Gateway</html>",
            ResponseAction.RETRY,
            FailureType.transient_error,
            "Calendly returned a malformed (non-JSON) response for stream event_types at GET /event_types: HTTP 200, "
            "non-JSON body: '<html>Bad Gateway</html>'. This is usually temporary; run the sync again.",
        ),
        (
            302,
            "",
            ResponseAction.FAIL,
            FailureType.config_error,
            "Calendly answered GET /event_types with a redirect (HTTP 302); redirects are not followed so that the "
            "token is only sent to the configured host. Check api_url (normally https://api.calendly.com).",
        ),
        (
            300,
            "",
            ResponseAction.FAIL,
            FailureType.config_error,
            "Calendly answered GET /event_types with a redirect (HTTP 300); redirects are not followed so that the "
            "token is only sent to the configured host. Check api_url (normally https://api.calendly.com).",
        ),
        (
            400,
            {"title": "Invalid Argument", "message": "bad"},
            ResponseAction.FAIL,
            FailureType.system_error,
            "Calendly rejected the request of stream event_types at GET /event_types: Invalid Argument: bad.",
        ),
        (400, EXPIRED_TOKEN, ResponseAction.IGNORE, None, None),  # the listing restarts itself
        (401, {"title": "Unauthenticated"}, ResponseAction.FAIL, FailureType.config_error, UNAUTHORIZED),
        (
            403,
            {"title": "Permission Denied", "message": "no"},
            ResponseAction.FAIL,
            FailureType.config_error,
            ORG_ACCESS.format(detail="Permission Denied: no"),
        ),
        (
            404,
            {"title": "Resource Not Found"},
            ResponseAction.FAIL,
            FailureType.system_error,
            "Calendly answered 404 Not Found for stream event_types at GET /event_types. Check api_url.",
        ),
        (
            429,
            {"title": "Too Many Requests", "message": "slow down"},
            ResponseAction.RATE_LIMITED,
            FailureType.transient_error,
            "Calendly answered GET /event_types (stream event_types) with Too Many Requests: slow down.",
        ),
        (
            503,
            "<html>Service Unavailable</html>",
            ResponseAction.RETRY,
            FailureType.transient_error,
            "Calendly answered GET /event_types (stream event_types) with HTTP 503, non-JSON body: "
            "'<html>Service Unavailable</html>'.",
        ),
    ],
)
def test_each_answer_maps_to_an_action_a_failure_type_and_a_message(
    status: int, body: Any, action: ResponseAction, failure: FailureType | None, message: str | None
) -> None:
    resolution = handler().interpret_response(response(status, body))
    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        action,
        failure,
        message,
    )


def test_statuses_a_stream_handles_itself_reach_it() -> None:
    resolution = handler(frozenset({403, 404})).interpret_response(response(404, {"title": "Resource Not Found"}))
    assert resolution.response_action == ResponseAction.IGNORE
    assert handler(frozenset({404})).interpret_response(response(403, {})).response_action == ResponseAction.FAIL


def test_an_unexpected_response_is_a_system_error_that_says_what_to_do() -> None:
    error = malformed_response("event_types", "GET /event_types", "'collection' is not a list of objects")
    assert error.failure_type == FailureType.system_error
    assert (
        error.message
        == error.internal_message
        == (
            "Calendly returned an unexpected response for stream event_types at GET /event_types: 'collection' is not "
            "a list of objects. Run the sync again; if it persists, Calendly's API may have changed: report it with "
            "this message."
        )
    )
