"""Calendly's error answers mapped to Airbyte failures, on top of (never instead of) the CDK's defaults."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import requests
import urllib3.exceptions
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import HttpStatusErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.default_error_mapping import DEFAULT_ERROR_MAPPING
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.transport import Attempts, RequestDeadlineExceeded

TOKEN_HELP = (
    "Generate a new personal access token in Calendly > Integrations & Apps > API & Webhooks > "
    "Personal Access Tokens, and put it in this source's configuration."
)
UNAUTHORIZED = "Calendly rejected the personal access token (HTTP 401): it is invalid or expired. " + TOKEN_HELP
OAUTH_UNAUTHORIZED = (
    "Calendly rejected the OAuth access token (HTTP 401), also right after a new one was issued: the user's grant "
    'to the OAuth app was revoked. Re-authenticate the source ("Authenticate your account" in its settings).'
)
ORG_ACCESS = (
    "Calendly refused access (HTTP 403: {detail}). The token lacks organization access: the token's user needs "
    "the admin or owner role in the Calendly organization. Ask an owner to grant that role, or use a token of an "
    "admin or owner."
)
MISSING_SCOPES = (
    "The personal access token lacks the Calendly scopes {scopes} (HTTP 403: Insufficient scope). Create a token "
    "with these scopes in Calendly > Integrations & Apps > API & Webhooks > Personal Access Tokens."
)

# Cached on the response so that a body is parsed once, by whoever needs it first.
_BODY_ATTR = "_calendly_body"
_NOT_JSON = object()


def response_json(response: requests.Response) -> Any:
    """The parsed JSON body, or `_NOT_JSON`; parsed once per response."""
    body = getattr(response, _BODY_ATTR, None)
    if body is None:
        try:
            body = orjson.loads(response.content)
        except (orjson.JSONDecodeError, requests.RequestException):
            body = _NOT_JSON
        setattr(response, _BODY_ATTR, body)
    return body


def is_json(body: Any) -> bool:
    return body is not _NOT_JSON


def error_detail(response: requests.Response) -> str:
    """Calendly's `title: message (details)`, or a short excerpt of a non-JSON body (an HTML proxy page)."""
    body = response_json(response)
    if isinstance(body, Mapping):
        text = ": ".join(str(body[k]) for k in ("title", "message") if body.get(k))
        details = body.get("details")
        if isinstance(details, list) and details:
            parts = [
                f"{d.get('parameter', '')} {d.get('message', '')}".strip() for d in details if isinstance(d, Mapping)
            ]
            text += f" ({'; '.join(parts)})"
        return text or f"HTTP {response.status_code}"
    snippet = " ".join(response.text[:200].split())
    return f"HTTP {response.status_code}, non-JSON body: {snippet!r}"


def required_scopes(response: requests.Response) -> list[str]:
    body = response_json(response)
    scopes = body.get("required_scopes") if isinstance(body, Mapping) else None
    return [str(s) for s in scopes] if isinstance(scopes, list) else []


def forbidden_message(response: requests.Response) -> str:
    """What a 403 means for the user: the scopes the token lacks, else the organization role it lacks."""
    scopes = required_scopes(response)
    if scopes:
        return MISSING_SCOPES.format(scopes=", ".join(scopes))
    return ORG_ACCESS.format(detail=error_detail(response))


def rejected_parameters(response: requests.Response) -> set[str]:
    """The parameters a 400 `Invalid Argument` names in its details (empty for any other answer)."""
    if response.status_code != 400:
        return set()
    body = response_json(response)
    details = body.get("details") if isinstance(body, Mapping) else None
    if not isinstance(details, list):
        return set()
    return {str(d.get("parameter")) for d in details if isinstance(d, Mapping) and d.get("parameter")}


def is_page_token_rejection(response: requests.Response) -> bool:
    """Calendly answers 400 `page_token: is invalid` for a token redeemed too late (public integrations report it)."""
    if response.status_code != 400:
        return False
    body = response_json(response)
    details = body.get("details") if isinstance(body, Mapping) else None
    return isinstance(details, list) and any(
        isinstance(d, Mapping) and d.get("parameter") == "page_token" for d in details
    )


class CalendlyErrorHandler(HttpStatusErrorHandler):
    """Maps Calendly's statuses and bodies to actions; anything it does not know falls to the CDK defaults.

    `tolerated` lists statuses the calling stream handles itself (it receives those responses and decides),
    such as 404 for one event's invitees or 403 for routing forms on a plan without them. `count_fallback`: the
    stream asks for more than 100 a page and handles a 400 that names `count` itself (it falls back to 100).
    """

    def __init__(
        self,
        logger: logging.Logger,
        stream_name: str,
        tolerated: frozenset[int] = frozenset(),
        unauthorized: str = UNAUTHORIZED,
        count_fallback: bool = False,
    ) -> None:
        super().__init__(
            logger=logger,
            error_mapping=dict(DEFAULT_ERROR_MAPPING),
        )
        self._stream_name = stream_name
        self._tolerated = tolerated
        self._unauthorized = unauthorized  # what a 401 means depends on the kind of credentials
        self._count_fallback = count_fallback

    def interpret_response(self, response_or_exception: requests.Response | Exception | None = None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.RequestException):
            return self._interpret_exception(response_or_exception)
        if not isinstance(response_or_exception, requests.Response):
            return super().interpret_response(response_or_exception)
        response = response_or_exception
        status = response.status_code
        endpoint = f"GET {requests.utils.urlparse(response.url).path}"
        if status in self._tolerated or is_page_token_rejection(response):
            return ErrorResolution(ResponseAction.IGNORE, None, None)
        if self._count_fallback and "count" in rejected_parameters(response):
            return ErrorResolution(ResponseAction.IGNORE, None, None)
        if status == 401:
            return ErrorResolution(ResponseAction.FAIL, FailureType.config_error, self._unauthorized)
        if status == 403:
            return ErrorResolution(ResponseAction.FAIL, FailureType.config_error, forbidden_message(response))
        if 200 <= status < 300:
            if is_json(response_json(response)):
                return ErrorResolution(ResponseAction.SUCCESS, None, None)
            # A truncated or HTML body behind a 200 is a transport fault: retry it, then fail naming the endpoint.
            return ErrorResolution(
                ResponseAction.RETRY,
                FailureType.transient_error,
                f"Calendly returned a malformed (non-JSON) response for stream {self._stream_name} at {endpoint}: "
                f"{error_detail(response)}. This is usually temporary; run the sync again.",
            )
        if 300 <= status < 400:
            return ErrorResolution(
                ResponseAction.FAIL,
                FailureType.config_error,
                f"Calendly answered {endpoint} with a redirect (HTTP {status}); redirects are not followed so that "
                "the token is only sent to the configured host. Check api_url (normally https://api.calendly.com).",
            )
        if status == 400:
            return ErrorResolution(
                ResponseAction.FAIL,
                FailureType.system_error,
                f"Calendly rejected the request of stream {self._stream_name} at {endpoint}: {error_detail(response)}.",
            )
        if status == 404:
            return ErrorResolution(
                ResponseAction.FAIL,
                FailureType.system_error,
                f"Calendly answered 404 Not Found for stream {self._stream_name} at {endpoint}. Check api_url.",
            )
        resolution = super().interpret_response(response)
        if resolution.response_action in (ResponseAction.RETRY, ResponseAction.RATE_LIMITED):
            # Name the stream and endpoint: the message is what the user sees if the retries run out.
            return ErrorResolution(
                resolution.response_action,
                resolution.failure_type,
                f"Calendly answered {endpoint} (stream {self._stream_name}) with {error_detail(response)}.",
            )
        return resolution

    def _interpret_exception(self, exc: requests.RequestException) -> ErrorResolution:
        # The CDK maps exceptions by exact class, so a ConnectionError (a reset) fell through to "Unexpected
        # exception in error handler". Subclasses are matched here; every transport failure is transient.
        if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.InvalidURL):
            return ErrorResolution(
                ResponseAction.FAIL,
                FailureType.config_error,
                f"The request URL is not valid ({exc}). Check api_url (normally https://api.calendly.com).",
            )
        return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, describe_failure(exc))


# Kinds of a success status whose body is not Calendly's JSON. A body cut short is a network fault and retried
# patiently; an empty body or a page that is not JSON at all comes from something between us and Calendly
# (a captive portal, a proxy's block page) and is named after NOT_CALENDLY_AFTER of them on one request.
EMPTY_BODY = "empty body"
NOT_JSON_PAGE = "not JSON"
CUT_SHORT = "malformed body"
NOT_CALENDLY_AFTER = 3


def body_kind(response: requests.Response) -> str:
    text = response.content.strip()
    if not text:
        return EMPTY_BODY
    return CUT_SHORT if text[:1] in (b"{", b"[") else NOT_JSON_PAGE


def describe_failure(outcome: requests.Response | requests.RequestException) -> str:
    """`kind: detail` for one failed attempt; the kind groups failures in the message when retries run out."""
    if isinstance(outcome, requests.Response):
        if 200 <= outcome.status_code < 300:  # a success status: only the body can have been wrong
            return f"{body_kind(outcome)}: {error_detail(outcome)}"
        return f"HTTP {outcome.status_code}: {error_detail(outcome)}"
    text = " ".join(str(outcome).split())[:300]
    if isinstance(outcome, RequestDeadlineExceeded):
        kind = "deadline exceeded"
    elif isinstance(outcome, requests.exceptions.ConnectTimeout):
        kind = "connect timeout"
    elif isinstance(outcome, requests.exceptions.ReadTimeout):
        kind = "read timeout"
    elif "reset" in text.lower():
        kind = "connection reset"
    elif isinstance(outcome, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        kind = "body cut short"
    elif isinstance(outcome, requests.exceptions.ConnectionError):
        kind = "connection error"
    else:
        kind = type(outcome).__name__
    return f"{kind}: {text}"


def _elapsed(attempts: Attempts) -> str:
    seconds = time.monotonic() - attempts.started
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what urllib3 wrapped in it (MaxRetryError.reason) and its chained causes."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo += [link for link in linked if isinstance(link, BaseException)]


def connection_problem(exc: requests.RequestException, api_url: str, deadline: float) -> str | None:
    """What is wrong with the way to `api_url`, for a failure that retrying within a check will not cure."""
    host = requests.utils.urlparse(api_url).hostname or api_url
    causes = list(_causes(exc))
    text = " ".join(" ".join(str(c) for c in causes).split())
    if isinstance(exc, requests.exceptions.ProxyError):
        refused = "Tunnel connection failed" in text  # the proxy answered CONNECT with an error status
        what = f"the proxy refused to connect to {host}" if refused else "the proxy does not answer"
        return (
            f"{what} ({_excerpt(exc)}): check HTTPS_PROXY, HTTP_PROXY and NO_PROXY in this connector's "
            "environment, and that the proxy allows this host"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return (
                f"the certificate of {host} is not trusted ({_excerpt(exc)}): set REQUESTS_CA_BUNDLE to a PEM file "
                "holding the certificate of the authority that signed it (a TLS-inspecting proxy's or firewall's CA) "
                "in this connector's environment, or check api_url (normally https://api.calendly.com)"
            )
        return f"the TLS handshake with {host} failed ({_excerpt(exc)}): check api_url and any proxy in between"
    if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in causes):
        return f"the name {host} does not resolve (DNS): check api_url (normally https://api.calendly.com) and DNS"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"nothing answers at {api_url}: connecting timed out; check api_url and that a firewall lets it through"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"{api_url} accepted the connection but sent no complete answer within {deadline:g} s"
    if isinstance(exc, requests.exceptions.ConnectionError) and (
        "refused" in text.lower() or any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes)
    ):
        return f"nothing answers at {api_url} (the connection was refused): check api_url"
    return None


def _excerpt(exc: BaseException) -> str:
    deepest = list(_causes(exc))[-1]
    return " ".join(str(deepest).split())[:160]


def check_failed(problem: str) -> AirbyteTracedException:
    message = f"The check could not reach Calendly: {problem}."
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def not_calendly(attempts: Attempts, api_url: str) -> AirbyteTracedException:
    """A success status with an empty body, or a page that is not JSON, on every attempt so far."""
    kind = attempts.last.split(":")[0]
    what = "an empty body" if kind == EMPTY_BODY else "a page that is not JSON"
    message = (
        f"Something other than Calendly answers at {api_url}: {attempts.endpoint} (stream {attempts.stream}) got "
        f"HTTP 200 with {what} {attempts.streak} times in a row ({attempts.last.split(': ', 1)[-1]}). A "
        "captive portal (a hotel or guest network's login page), a proxy's block page or a wrong api_url answers "
        "like this: log in to the network or allow the host in the proxy, and check api_url (normally "
        "https://api.calendly.com)."
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def give_up_early(
    attempts: Attempts,
    outcome: requests.Response | requests.RequestException,
    api_url: str,
    checking: bool,
    deadline: float,
) -> AirbyteTracedException | None:
    """The error that ends a request's retries now, or None to go on retrying (see `send_with_retries`).

    A read is patient with the network: a sync that waits out an outage finishes. A check is answered while
    the user waits, so a failure that tells what is wrong (no answer, no name, an untrusted certificate, a
    refusing proxy) ends it at once. Both stop retrying a body that is persistently not Calendly's.
    """
    attempts.diagnosis = None
    if isinstance(outcome, requests.RequestException):
        attempts.diagnosis = connection_problem(outcome, api_url, deadline)
        if checking and attempts.diagnosis is not None:
            return check_failed(attempts.diagnosis)
    kind = attempts.last.split(":")[0]
    if kind in (EMPTY_BODY, NOT_JSON_PAGE) and attempts.streak >= NOT_CALENDLY_AFTER:
        return not_calendly(attempts, api_url)
    return None


def retries_exhausted(attempts: Attempts, host: str, checking: bool = False) -> AirbyteTracedException:
    advice = (
        "run the check again in a few minutes; if it keeps failing, check api_url and Calendly's status."
        if checking
        else "run the sync again; it resumes from its last checkpoint."
    )
    message = (
        f"Calendly did not answer {attempts.endpoint} (stream {attempts.stream}): it failed "
        f"{attempts.transient} times over {_elapsed(attempts)} ({attempts.summary()}); the last failure: "
        f"{attempts.last}."
        + (f" That is: {attempts.diagnosis}." if attempts.diagnosis else "")
        + f" This is usually temporary, at Calendly or on the network to {host}: {advice}"
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.transient_error)


def rate_limit_exhausted(
    attempts: Attempts, response: requests.Response, waited_seconds: float, checking: bool = False
) -> AirbyteTracedException:
    limit = response.headers.get("X-RateLimit-Limit", "unknown")
    remaining = response.headers.get("X-RateLimit-Remaining", "0")
    reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("Retry-After") or "unknown"
    message = (
        f"Calendly's rate limit stayed exhausted: {attempts.endpoint} (stream {attempts.stream}) was refused with "
        f"HTTP 429 {attempts.rate_limited} times in {_elapsed(attempts)}. Calendly allows the token's user {limit} "
        f"requests per minute and reported {remaining} left, resetting in {reset} s; this sync waited "
        f"{waited_seconds:.0f} s in all for the limit. The limit is shared by every integration of the same Calendly "
        "user (other syncs, automations, scripts): pause or slow those down, or run this sync when they are idle "
        "(set requests_per_minute on this source to leave them room)."
        + ("" if checking else " The sync resumes from its last checkpoint.")
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.transient_error)


def malformed_response(stream_name: str, endpoint: str, problem: str) -> AirbyteTracedException:
    message = (
        f"Calendly returned an unexpected response for stream {stream_name} at {endpoint}: {problem}. "
        "Run the sync again; if it persists, Calendly's API may have changed: report it with this message."
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)
