"""Calendly's error answers: what each one means for the sync (the action and the failure type Airbyte acts
on) and the exact text the user reads."""

from __future__ import annotations

import logging
from collections import Counter
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import DEFAULT_ERROR_MAPPING
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction

from source_calendly import errors
from source_calendly.errors import (
    ORG_ACCESS,
    UNAUTHORIZED,
    CalendlyErrorHandler,
    connection_problem,
    describe_failure,
    error_detail,
    forbidden_message,
    give_up_early,
    is_json,
    is_page_token_rejection,
    malformed_response,
    rate_limit_exhausted,
    required_scopes,
    response_json,
    retries_exhausted,
)
from source_calendly.transport import Attempts, RequestDeadlineExceeded

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


def test_a_status_calendly_does_not_document_is_retried_naming_the_endpoint() -> None:
    """A Cloudflare 520 (or any status the CDK's mapping lacks) is retried like a 5xx; the message names where."""
    resolution = handler().interpret_response(response(520, "<html>Web server is returning an unknown error</html>"))
    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        ResponseAction.RETRY,
        FailureType.system_error,
        "Calendly answered GET /event_types (stream event_types) with HTTP 520, non-JSON body: "
        "'<html>Web server is returning an unknown error</html>'.",
    )


def test_other_statuses_keep_the_cdks_default() -> None:
    """The handler adds to the CDK's mapping, never replaces it: a 405 keeps the CDK's answer, message and all."""
    assert handler().interpret_response(response(405, {"title": "Method Not Allowed"})) == DEFAULT_ERROR_MAPPING[405]
    assert DEFAULT_ERROR_MAPPING[405].response_action == ResponseAction.FAIL


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


# --- transport failures -----------------------------------------------------------------------------------------

RESET = "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"
CUT_SHORT = "('Connection broken: IncompleteRead(120 bytes read, 880 more expected)', IncompleteRead(120, 880))"


@pytest.mark.parametrize(
    "exc, description",
    [
        (
            RequestDeadlineExceeded("no complete answer within 300 s"),
            "deadline exceeded: no complete answer within 300 s",
        ),
        (
            requests.exceptions.ConnectTimeout("connect timeout=10"),
            "connect timeout: connect timeout=10",
        ),
        (
            requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
            "read timeout: Read timed out. (read timeout=60)",
        ),
        (requests.exceptions.ConnectionError(RESET), f"connection reset: {RESET}"),
        (
            requests.exceptions.ChunkedEncodingError("Connection RESET mid-body"),
            "connection reset: Connection RESET mid-body",
        ),
        (requests.exceptions.ChunkedEncodingError(CUT_SHORT), f"body cut short: {CUT_SHORT}"),
        (requests.exceptions.ChunkedEncodingError("Connection broken"), "body cut short: Connection broken"),
        (requests.exceptions.ConnectionError(CUT_SHORT), f"body cut short: {CUT_SHORT}"),
        (
            requests.exceptions.ConnectionError("Failed to resolve 'api.calendly.com'"),
            "connection error: Failed to resolve 'api.calendly.com'",
        ),
        (requests.exceptions.SSLError("certificate verify failed"), "connection error: certificate verify failed"),
        (
            requests.exceptions.ContentDecodingError("incorrect header check"),
            "ContentDecodingError: incorrect header check",
        ),
    ],
)
def test_each_transport_failure_is_described_by_its_kind(exc: requests.RequestException, description: str) -> None:
    """The kind (before the colon) is what the message groups failures by when the retries run out."""
    assert describe_failure(exc) == description


def test_a_failure_description_is_one_line_of_at_most_300_characters() -> None:
    exc = requests.exceptions.ConnectionError("Failed to establish\n    a new connection:  " + "y" * 400)
    text = "Failed to establish a new connection: " + "y" * (300 - len("Failed to establish a new connection: "))
    assert describe_failure(exc) == f"connection error: {text}"


@pytest.mark.parametrize(
    "outcome, description",
    [
        (
            response(200, "<html>Bad Gateway</html>"),
            "not JSON: HTTP 200, non-JSON body: '<html>Bad Gateway</html>'",
        ),
        (response(200, b" \n"), "empty body: HTTP 200, non-JSON body: ''"),
        (response(204, b'{"collection": ['), "malformed body: HTTP 204, non-JSON body: " + repr('{"collection": [')),
        (
            response(503, "<html>Service Unavailable</html>"),
            "HTTP 503: HTTP 503, non-JSON body: '<html>Service Unavailable</html>'",
        ),
        (response(500, {"title": "Internal Server Error", "message": "oops"}), "HTTP 500: Internal Server Error: oops"),
        # A refused redirect is a status, not a bad body (requests counts 3xx as ok).
        (response(302, ""), "HTTP 302: HTTP 302, non-JSON body: ''"),
        (response(300, ""), "HTTP 300: HTTP 300, non-JSON body: ''"),
    ],
)
def test_a_failed_answer_is_described_by_its_status_or_as_a_malformed_body(
    outcome: requests.Response, description: str
) -> None:
    assert describe_failure(outcome) == description


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.InvalidSchema("No connection adapters were found for 'ftp://x'"),
        requests.exceptions.InvalidURL("Invalid URL 'https://'"),
    ],
)
def test_a_url_requests_cannot_send_is_a_config_error_about_api_url(exc: requests.RequestException) -> None:
    resolution = handler().interpret_response(exc)
    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        ResponseAction.FAIL,
        FailureType.config_error,
        f"The request URL is not valid ({exc}). Check api_url (normally https://api.calendly.com).",
    )


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError(RESET),  # a subclass the CDK's mapping by exact class misses
        requests.exceptions.ReadTimeout("Read timed out."),
        RequestDeadlineExceeded("no complete answer within 300 s"),
        requests.exceptions.ChunkedEncodingError(CUT_SHORT),
    ],
)
def test_every_other_transport_failure_is_retried_as_transient(exc: requests.RequestException) -> None:
    resolution = handler().interpret_response(exc)
    assert (resolution.response_action, resolution.failure_type, resolution.error_message) == (
        ResponseAction.RETRY,
        FailureType.transient_error,
        describe_failure(exc),
    )


def test_anything_but_a_response_or_a_request_failure_is_left_to_the_cdk() -> None:
    resolution = handler().interpret_response(ValueError("not a request failure"))
    assert (resolution.response_action, resolution.failure_type) == (ResponseAction.RETRY, FailureType.system_error)
    assert resolution.error_message == "Unexpected exception in error handler: not a request failure"
    assert handler().interpret_response(None).response_action == ResponseAction.FAIL


# --- when the retries run out -----------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The monotonic clock errors.py reads for the time spent on a request; tests set `clock.now`."""
    fake = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(errors, "time", SimpleNamespace(monotonic=lambda: fake.now))
    return fake


def attempts(**fields: Any) -> Attempts:
    return Attempts(endpoint="GET /scheduled_events", stream="events", started=1000.0, **fields)


def test_retries_exhausted_names_the_request_what_failed_and_what_to_do(clock: SimpleNamespace) -> None:
    clock.now = 1045.4
    failed = attempts(
        transient=11,
        kinds=Counter({"HTTP 503": 5, "connection reset": 6}),
        last="HTTP 503: HTTP 503, non-JSON body: '<html>Service Unavailable</html>'",
    )
    error = retries_exhausted(failed, "api.calendly.com")
    assert error.failure_type == FailureType.transient_error
    assert (
        error.message
        == error.internal_message
        == (
            "Calendly did not answer GET /scheduled_events (stream events): it failed 11 times over 45 s "
            "(6 connection reset, 5 HTTP 503); the last failure: HTTP 503: HTTP 503, non-JSON body: "
            "'<html>Service Unavailable</html>'. This is usually temporary, at Calendly or on the network to "
            "api.calendly.com: run the sync again; it resumes from its last checkpoint."
        )
    )


@pytest.mark.parametrize(
    "seconds, shown", [(0.4, "0 s"), (119.4, "119 s"), (120.0, "2.0 min"), (150.0, "2.5 min"), (754.0, "12.6 min")]
)
def test_the_time_spent_reads_in_seconds_then_in_minutes(clock: SimpleNamespace, seconds: float, shown: str) -> None:
    clock.now = 1000.0 + seconds
    error = retries_exhausted(attempts(transient=3, kinds=Counter({"read timeout": 3}), last="read timeout: x"), "h")
    assert f"it failed 3 times over {shown} (3 read timeout);" in error.message


def test_rate_limit_exhausted_names_calendlys_limit_the_wait_and_the_shared_budget(clock: SimpleNamespace) -> None:
    clock.now = 1000.0 + 185
    refused = response(
        429,
        {"title": "Too Many Requests"},
        **{"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "42", "Retry-After": "7"},
    )
    error = rate_limit_exhausted(attempts(rate_limited=11), refused, 171.6)
    assert error.failure_type == FailureType.transient_error
    assert (
        error.message
        == error.internal_message
        == (
            "Calendly's rate limit stayed exhausted: GET /scheduled_events (stream events) was refused with HTTP 429 "
            "11 times in 3.1 min. Calendly allows the token's user 500 requests per minute and reported 0 left, "
            "resetting in 42 s; this sync waited 172 s in all for the limit. The limit is shared by every integration "
            "of the same Calendly user (other syncs, automations, scripts): pause or slow those down, or run this "
            "sync when they are idle (set requests_per_minute on this source to leave them room). The sync resumes "
            "from its last checkpoint."
        )
    )


@pytest.mark.parametrize(
    "headers, said",
    [
        (
            {"Retry-After": "7"},
            "allows the token's user unknown requests per minute and reported 0 left, resetting in 7 s",
        ),
        (
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "", "Retry-After": "9"},
            "allows the token's user 100 requests per minute and reported 3 left, resetting in 9 s",
        ),
        ({}, "allows the token's user unknown requests per minute and reported 0 left, resetting in unknown s"),
    ],
)
def test_rate_limit_exhausted_says_what_calendly_reported_and_unknown_for_what_it_did_not(
    clock: SimpleNamespace, headers: dict[str, str], said: str
) -> None:
    error = rate_limit_exhausted(attempts(rate_limited=2), response(429, {}, **headers), 0.0)
    assert said in error.message
    assert "was refused with HTTP 429 2 times in 0 s." in error.message
    assert "this sync waited 0 s in all" in error.message


# check: what retrying will not cure -------------------------------------------------------------------------------

API = "https://api.calendly.com"


@pytest.mark.parametrize(
    ("exc", "problem"),
    [
        (
            requests.exceptions.ConnectTimeout("timed out"),
            f"nothing answers at {API}: connecting timed out; check api_url and that a firewall lets it through",
        ),
        (
            requests.exceptions.ReadTimeout("read timed out"),
            f"{API} accepted the connection but sent no complete answer within 10 s",
        ),
        (requests.exceptions.ConnectionError("Connection reset by peer"), None),  # a hiccup: retried
        (requests.exceptions.ChunkedEncodingError("IncompleteRead"), None),
    ],
)
def test_a_check_names_what_retrying_will_not_cure(exc: requests.RequestException, problem: str | None) -> None:
    assert connection_problem(exc, API, 10.0) == problem


def test_only_a_check_gives_up_on_the_network_at_once_a_read_keeps_retrying() -> None:
    exc = requests.exceptions.ConnectTimeout("timed out")
    attempts = Attempts(endpoint="GET /users/me", stream="account", started=0.0, last=describe_failure(exc))
    attempts.streak = 1
    assert give_up_early(attempts, exc, API, checking=False, deadline=10.0) is None
    error = give_up_early(attempts, exc, API, checking=True, deadline=10.0)
    assert error is not None and error.failure_type == FailureType.config_error
    assert error.message == (
        f"The check could not reach Calendly: nothing answers at {API}: connecting timed out; check api_url and "
        "that a firewall lets it through."
    )
