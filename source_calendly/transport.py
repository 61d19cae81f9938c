"""One GET, sent until it is answered: a total deadline per attempt, and retry budgets kept per kind of failure.

The CDK's HTTP client nests three retry loops whose budgets and backoff cannot be set apart: a connection
reset counted against the same few tries as everything else, its backoff doubled without a cap, and its
exception class missed the error mapping ("Unexpected exception in error handler"). Here one loop decides:

- a transient failure (5xx, reset, timeout, a body cut short or not JSON) is retried with capped, jittered
  exponential backoff, at most `max_retries` times per request;
- a 429 is retried once the shared rate budget lets a request through (it waits for Calendly's reset), and
  never spends the transient budget; more than `max_retries` of them on one request ends the sync with a
  message about the exhausted rate limit.

`requests` restarts its read timeout with every byte, so a server that sends one byte every few seconds
keeps a request open forever. `DeadlineAdapter` reads the status line, the headers and the body under one
total deadline per attempt.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from socket import socket
from typing import Any, Protocol

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.http_config import MAX_CONNECTION_POOL_SIZE
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CONNECT_TIMEOUT = 10.0
# Longest silence between two reads of one answer; the total deadline below bounds the whole answer.
READ_TIMEOUT = 60.0

_attempt = threading.local()  # the deadline of the attempt this thread is sending, read by its socket reads


class RequestDeadlineExceeded(requests.exceptions.Timeout):
    """The answer did not arrive in full within the request's total deadline."""


class _DeadlineReader(io.RawIOBase):
    """The socket as the response reads it: no single read may run past the attempt's deadline."""

    def __init__(self, sock: socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        # As `socket.makefile` does: the connection may close its socket while the answer is still read (an
        # HTTP/1.0 or `Connection: close` answer); the descriptor then stays open until this reader closes.
        if hasattr(sock, "_io_refs"):
            sock._io_refs += 1

    def close(self) -> None:
        if not self.closed:
            super().close()
            release = getattr(self._sock, "_decref_socketios", None)
            if release is not None:
                release()

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._sock.fileno()

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the answer did not finish before the request's deadline")
        timeout = self._sock.gettimeout()
        self._sock.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            return self._sock.recv_into(buffer)
        finally:
            # The connection is reused: leave its timeout as urllib3 set it (unless the read closed it).
            with contextlib.suppress(OSError):
                self._sock.settimeout(timeout)


class _SocketWithDeadline:
    """What `http.client.HTTPResponse` is given instead of the socket: it only ever calls `makefile`."""

    def __init__(self, sock: socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: Any, debuglevel: int = 0, method: str | None = None, url: str | None = None) -> None:
        deadline: float | None = getattr(_attempt, "deadline", None)
        if deadline is not None:
            sock = _SocketWithDeadline(sock, deadline)
        super().__init__(sock, debuglevel, method, url)


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An adapter whose every attempt, from sending to the body's last byte, ends within `total_seconds`."""

    def __init__(self, total_seconds: float) -> None:
        self.total_seconds = total_seconds
        super().__init__(pool_connections=MAX_CONNECTION_POOL_SIZE, pool_maxsize=MAX_CONNECTION_POOL_SIZE)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # a SOCKS manager brings its own connection classes
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any) -> requests.Response:
        deadline = time.monotonic() + self.total_seconds
        _attempt.deadline = deadline
        try:
            response = super().send(request, stream=True, **kwargs)
            if not stream:
                response.content  # noqa: B018 - read the body here, under the same deadline as the headers
            return response
        except requests.RequestException as exc:
            if time.monotonic() >= deadline:
                raise RequestDeadlineExceeded(
                    f"no complete answer within {self.total_seconds:g} s", request=request
                ) from exc
            raise
        finally:
            _attempt.deadline = None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 10  # transient failures per request; separately, 429s per request
    first_backoff: float = 0.25  # seconds before the first transient retry; doubles each time
    max_backoff: float = 30.0

    def backoff(self, failures: int) -> float:
        ceiling = min(self.max_backoff, self.first_backoff * 2 ** (failures - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter: workers that failed together retry apart


@dataclass
class Attempts:
    """What happened to one request, for the message when it is given up and for the retry log."""

    endpoint: str
    stream: str
    started: float
    transient: int = 0
    rate_limited: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # transient failures by kind
    last: str = ""
    streak: int = 0  # transient failures in a row of the last one's kind
    diagnosis: str | None = None  # what the last failure says about the way to Calendly, if anything

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.kinds.most_common())


class TransportEvents(Protocol):
    """Told what happens to requests, for progress lines (see `source_calendly.progress`)."""

    def request_sent(self) -> None: ...

    def retried(self) -> None: ...

    def rate_limited(self) -> None: ...


GiveUp = Callable[[Attempts, requests.Response | requests.RequestException], AirbyteTracedException | None]


def send_with_retries(
    session: requests.Session,
    request: requests.PreparedRequest,
    handler: ErrorHandler,
    policy: RetryPolicy,
    timeout: tuple[float, float],
    attempts: Attempts,
    logger: logging.Logger,
    describe: Callable[[requests.Response | requests.RequestException], str],
    rate_limit_exhausted: Callable[[Attempts, requests.Response], AirbyteTracedException],
    retries_exhausted: Callable[[Attempts], AirbyteTracedException],
    give_up: GiveUp | None = None,
    events: TransportEvents | None = None,
    reauthorize: Callable[[requests.PreparedRequest], requests.PreparedRequest | None] | None = None,
) -> requests.Response:
    """Send `request` until the handler accepts the answer (or tolerates it), it fails, or a budget runs out.

    `give_up` sees every failure that would be retried, and ends the retries early with its error when the
    failure will not go away by retrying (a certificate `check` does not trust; a proxy page instead of JSON).
    `reauthorize` is asked once per request after a 401: a request with a new OAuth access token, or None.
    """
    debug = logger.isEnabledFor(logging.DEBUG)
    reauthorized = False
    while True:
        outcome: requests.Response | requests.RequestException
        if debug:  # as the CDK's client logs them (the CDK masks the token in everything it prints)
            logger.debug("Making outbound API request", extra={"headers": request.headers, "url": request.url})
        if events is not None:
            events.request_sent()
        try:
            outcome = session.send(request, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            outcome = exc
        if debug and isinstance(outcome, requests.Response):
            extra = {"headers": outcome.headers, "status": outcome.status_code, "body": outcome.text}
            logger.debug("Receiving response", extra=extra)
        if (
            reauthorize is not None
            and not reauthorized
            and isinstance(outcome, requests.Response)
            and outcome.status_code == 401
        ):
            reauthorized = True
            renewed = reauthorize(request)
            if renewed is not None:
                request = renewed
                continue
        resolution = handler.interpret_response(outcome)
        action = resolution.response_action
        if action in (ResponseAction.SUCCESS, ResponseAction.IGNORE) and isinstance(outcome, requests.Response):
            return outcome
        if action == ResponseAction.RATE_LIMITED and isinstance(outcome, requests.Response):
            attempts.rate_limited += 1
            if events is not None:
                events.rate_limited()
            if attempts.rate_limited > policy.max_retries:
                raise rate_limit_exhausted(attempts, outcome)
            logger.info(f"{attempts.endpoint} (stream {attempts.stream}): HTTP 429; retrying when the limit resets.")
            continue  # the shared rate budget holds the retry until Calendly's window resets
        if action == ResponseAction.RETRY:
            attempts.transient += 1
            previous_kind = attempts.last.split(":")[0]
            attempts.last = describe(outcome)
            kind = attempts.last.split(":")[0]
            attempts.kinds[kind] += 1
            attempts.streak = attempts.streak + 1 if kind == previous_kind else 1
            early = give_up(attempts, outcome) if give_up is not None else None
            if early is not None:
                raise early
            if attempts.transient > policy.max_retries:
                raise retries_exhausted(attempts)
            if events is not None:
                events.retried()
            wait = policy.backoff(attempts.transient)
            logger.info(
                f"{attempts.endpoint} (stream {attempts.stream}) failed ({attempts.last}); retry "
                f"{attempts.transient} of {policy.max_retries} in {wait:.1f} s."
            )
            time.sleep(wait)
            continue
        detail = describe(outcome)
        message = resolution.error_message or f"{attempts.endpoint} (stream {attempts.stream}) failed: {detail}"
        raise AirbyteTracedException(
            message=message,
            internal_message=f"{message} [{detail}]",
            failure_type=resolution.failure_type or FailureType.system_error,
            exception=outcome if isinstance(outcome, Exception) else None,
        )
