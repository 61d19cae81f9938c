"""The connector's own retry loop and the deadline adapter (the behaviour against a real server:
integration_tests/test_hostile_network.py).

The retry loop runs on requests-mock with a manual clock in place of the module's `time` (its backoff waits are
recorded, never slept). The adapter's deadline is exercised end to end over a socket pair: a scripted "server"
thread on one end, the connector's real adapter, pool, connection and response classes on the other. No network.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest.mock import patch

import pytest
import requests
import requests_mock
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.http_config import MAX_CONNECTION_POOL_SIZE
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly import transport
from source_calendly.errors import CalendlyErrorHandler, describe_failure, rate_limit_exhausted, retries_exhausted
from source_calendly.transport import (
    Attempts,
    DeadlineAdapter,
    RequestDeadlineExceeded,
    RetryPolicy,
    _DeadlineReader,
    _HTTPConnection,
    _HTTPPool,
    _HTTPSPool,
    send_with_retries,
)

API = "https://api.calendly.com"
URL = f"{API}/event_types"
TIMEOUT = (10.0, 60.0)
LOGGER = logging.getLogger("airbyte.test_transport")


class ManualTime:
    """Stands in for the module's `time`: `monotonic` reads a clock only the test (or `sleep`) moves."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Iterator[ManualTime]:
    manual = ManualTime()
    with patch.object(transport, "time", manual):
        yield manual


@pytest.fixture
def mock() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocker:
        yield mocker


def backoff_at_its_ceiling() -> Any:
    """The jitter drawn at its top: every wait is then the ceiling the policy documents."""
    return patch.object(transport.random, "uniform", side_effect=lambda low, high: high)


class Exhausted:
    """The callbacks the stream passes: the connector's real messages, and what they were called with."""

    def __init__(self) -> None:
        self.retries: list[Attempts] = []
        self.rate_limit: list[tuple[Attempts, requests.Response]] = []

    def on_retries(self, attempts: Attempts) -> AirbyteTracedException:
        self.retries.append(attempts)
        return retries_exhausted(attempts, "api.calendly.com")

    def on_rate_limit(self, attempts: Attempts, response: requests.Response) -> AirbyteTracedException:
        self.rate_limit.append((attempts, response))
        return rate_limit_exhausted(attempts, response, 0.0)


def send(
    max_retries: int = 10,
    handler: ErrorHandler | None = None,
    exhausted: Exhausted | None = None,
    logger: logging.Logger = LOGGER,
    url: str = URL,
) -> tuple[requests.Response, Attempts]:
    session = requests.Session()
    request = session.prepare_request(requests.Request("GET", url, params={"count": "100"}))
    attempts = Attempts(endpoint="GET /event_types", stream="event_types", started=transport.time.monotonic())
    exhausted = exhausted or Exhausted()
    response = send_with_retries(
        session,
        request,
        handler or CalendlyErrorHandler(logger, "event_types"),
        RetryPolicy(max_retries=max_retries),
        TIMEOUT,
        attempts,
        logger,
        describe=describe_failure,
        rate_limit_exhausted=exhausted.on_rate_limit,
        retries_exhausted=exhausted.on_retries,
    )
    return response, attempts


def ok(**json: Any) -> dict[str, Any]:
    return {"status_code": 200, "json": {"collection": [], "pagination": {}, **json}}


def status(code: int, **headers: str) -> dict[str, Any]:
    return {"status_code": code, "json": {"title": f"HTTP {code}", "message": "try later"}, "headers": headers}


RESET = {"exc": requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'reset'))")}


# -- the retry policy -----------------------------------------------------------------------------------------------


def test_backoff_doubles_from_the_first_wait_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(first_backoff=0.25, max_backoff=30.0)
    for failures, ceiling in ((1, 0.25), (2, 0.5), (5, 4.0), (8, 30.0), (20, 30.0)):
        waits = [policy.backoff(failures) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 10  # jittered, not constant


def test_the_default_backoff_is_the_documented_one() -> None:
    # README: "retried with capped, jittered backoff (0.25 s doubling to 30 s)"; streams set only max_retries.
    policy = RetryPolicy(max_retries=10)
    with backoff_at_its_ceiling():
        assert [policy.backoff(n) for n in (1, 2, 3, 8, 9, 50)] == [0.25, 0.5, 1.0, 30.0, 30.0, 30.0]
    assert all(0.125 <= policy.backoff(1) <= 0.25 for _ in range(50))


def test_the_summary_counts_failures_by_kind_most_frequent_first() -> None:
    attempts = Attempts(endpoint="GET /event_types", stream="event_types", started=0.0)
    assert attempts.summary() == ""
    attempts.kinds.update(["HTTP 503", "connection reset", "connection reset", "read timeout", "connection reset"])
    assert attempts.summary() == "3 connection reset, 1 HTTP 503, 1 read timeout"


# -- the retry loop -------------------------------------------------------------------------------------------------


def test_an_answer_is_returned_at_once_sent_without_following_redirects_and_with_the_timeouts(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, [ok(page=1)])
    response, attempts = send()
    assert response.json()["page"] == 1
    assert mock.call_count == 1 and clock.slept == []
    assert mock.last_request.timeout == TIMEOUT
    assert mock.last_request.qs == {"count": ["100"]}
    assert (attempts.transient, attempts.rate_limited, attempts.kinds) == (0, 0, Counter())


def test_transient_failures_are_retried_with_growing_waits_and_logged(
    clock: ManualTime, mock: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER.name)
    mock.get(URL, [status(503), RESET, status(502), ok(page=1)])
    with backoff_at_its_ceiling():
        response, attempts = send(max_retries=5)
    assert response.json()["page"] == 1
    assert mock.call_count == 4
    assert clock.slept == [0.25, 0.5, 1.0]  # before each retry, doubling from the first wait
    assert attempts.transient == 3 and attempts.rate_limited == 0
    assert attempts.kinds == Counter({"HTTP 503": 1, "connection reset": 1, "HTTP 502": 1})
    assert attempts.last.startswith("HTTP 502: ")
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 3
    assert retries[0].startswith("GET /event_types (stream event_types) failed (HTTP 503: ")
    assert retries[0].endswith("; retry 1 of 5 in 0.2 s.")  # 0.25 s, shown to a tenth
    assert "failed (connection reset: " in retries[1] and retries[1].endswith("; retry 2 of 5 in 0.5 s.")
    assert retries[2].endswith("; retry 3 of 5 in 1.0 s.")


def test_as_many_transient_failures_as_max_retries_are_ridden_out(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, [status(500)] * 3 + [ok(page=1)])
    exhausted = Exhausted()
    response, attempts = send(max_retries=3, exhausted=exhausted)
    assert response.json()["page"] == 1
    assert attempts.transient == 3 and len(clock.slept) == 3
    assert exhausted.retries == []


def test_one_transient_failure_more_than_max_retries_ends_the_sync_as_transient(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, [status(503)] * 2 + [RESET] * 2 + [ok()])
    exhausted = Exhausted()
    with pytest.raises(AirbyteTracedException) as raised:
        send(max_retries=3, exhausted=exhausted)
    assert mock.call_count == 4  # the first try and three retries; the answer after them is never asked for
    assert len(clock.slept) == 3  # no wait after the last failure
    [attempts] = exhausted.retries
    assert attempts.transient == 4 and attempts.kinds == Counter({"HTTP 503": 2, "connection reset": 2})
    assert attempts.last.startswith("connection reset: ")
    error = raised.value
    assert error.failure_type == FailureType.transient_error
    assert "GET /event_types (stream event_types): it failed 4 times" in error.message
    assert "(2 HTTP 503, 2 connection reset)" in error.message or "(2 connection reset, 2 HTTP 503)" in error.message


def test_no_retries_at_all_when_max_retries_is_zero(clock: ManualTime, mock: requests_mock.Mocker) -> None:
    mock.get(URL, [status(503), ok()])
    exhausted = Exhausted()
    with pytest.raises(AirbyteTracedException):
        send(max_retries=0, exhausted=exhausted)
    assert mock.call_count == 1 and clock.slept == []
    assert exhausted.retries[0].transient == 1


def test_429s_are_retried_without_backoff_and_spend_none_of_the_transient_budget(
    clock: ManualTime, mock: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER.name)
    limited = status(429, **{"X-RateLimit-Reset": "20"})
    # Two transient failures and two 429s with max_retries=2: each budget is used up exactly, never exceeded.
    mock.get(URL, [status(503), limited, RESET, limited, ok(page=1)])
    with backoff_at_its_ceiling():
        response, attempts = send(max_retries=2)
    assert response.json()["page"] == 1
    assert mock.call_count == 5
    assert (attempts.transient, attempts.rate_limited) == (2, 2)
    assert attempts.kinds == Counter({"HTTP 503": 1, "connection reset": 1})  # a 429 is not a transient failure
    assert clock.slept == [0.25, 0.5]  # only the transient failures back off; the rate budget holds the 429s
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("GET /event_types (stream event_types): HTTP 429; retrying when the limit resets.") == 2


def test_429s_beyond_max_retries_end_the_sync_with_the_rate_limit_message(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    headers = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "31"}
    mock.get(URL, [status(429, **headers)] * 3 + [ok()])
    exhausted = Exhausted()
    with pytest.raises(AirbyteTracedException) as raised:
        send(max_retries=2, exhausted=exhausted)
    assert mock.call_count == 3
    assert clock.slept == []
    [(attempts, response)] = exhausted.rate_limit
    assert attempts.rate_limited == 3 and attempts.transient == 0
    assert response.status_code == 429
    assert exhausted.retries == []
    assert raised.value.failure_type == FailureType.transient_error
    assert "rate limit stayed exhausted" in raised.value.message and "HTTP 429 3 times" in raised.value.message
    assert "500 requests per minute and reported 0 left, resetting in 31 s" in raised.value.message


def test_a_redirect_is_refused_not_followed(clock: ManualTime, mock: requests_mock.Mocker) -> None:
    elsewhere = mock.get("https://evil.example/steal", json={"collection": [], "pagination": {}})
    mock.get(URL, status_code=302, headers={"Location": "https://evil.example/steal"})
    with pytest.raises(AirbyteTracedException) as raised:
        send()
    assert not elsewhere.called
    assert mock.call_count == 1
    assert raised.value.failure_type == FailureType.config_error
    assert "redirect (HTTP 302)" in raised.value.message and "api_url" in raised.value.message


def test_a_failure_is_raised_with_the_handlers_message_and_type_and_the_detail_kept_internal(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, status_code=404, json={"title": "Resource Not Found", "message": "no such thing"})
    with pytest.raises(AirbyteTracedException) as raised:
        send()
    assert mock.call_count == 1 and clock.slept == []
    error = raised.value
    message = "Calendly answered 404 Not Found for stream event_types at GET /event_types. Check api_url."
    assert error.message == message
    assert error.internal_message is not None
    assert error.internal_message.startswith(f"{message} [HTTP 404: ") and error.internal_message.endswith("]")
    assert "no such thing" in error.internal_message
    assert error.failure_type == FailureType.system_error
    assert error._exception is None


def test_a_failed_request_that_is_not_retryable_keeps_its_exception(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    bad = requests.exceptions.InvalidURL("Invalid URL 'https://api.calendly.com:x/': port")
    mock.get(URL, exc=bad)
    with pytest.raises(AirbyteTracedException) as raised:
        send()
    assert mock.call_count == 1
    assert raised.value.failure_type == FailureType.config_error
    assert "Check api_url" in raised.value.message
    assert raised.value._exception is bad


class Always(ErrorHandler):
    """A handler that answers every outcome with one resolution (what the loop does with each kind)."""

    def __init__(self, resolution: ErrorResolution) -> None:
        self.resolution = resolution

    @property
    def max_retries(self) -> int | None:
        return None

    @property
    def max_time(self) -> int | None:
        return None

    def interpret_response(self, response: requests.Response | Exception | None = None) -> ErrorResolution:
        return self.resolution


def test_a_failure_the_handler_gives_no_message_or_type_is_named_by_endpoint_and_a_system_error(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, status_code=418, json={"title": "I'm a teapot", "message": "short and stout"})
    with pytest.raises(AirbyteTracedException) as raised:
        send(handler=Always(ErrorResolution(ResponseAction.FAIL, None, None)))
    detail = describe_failure(requests.get(URL))  # the same answer, as the loop describes it
    assert detail.startswith("HTTP 418: ") and "short and stout" in detail
    assert raised.value.message == f"GET /event_types (stream event_types) failed: {detail}"
    assert raised.value.internal_message == f"{raised.value.message} [{detail}]"
    assert raised.value.failure_type == FailureType.system_error


def test_an_answer_the_handler_tolerates_is_returned_to_the_stream(
    clock: ManualTime, mock: requests_mock.Mocker
) -> None:
    mock.get(URL, status_code=404, json={"title": "Resource Not Found"})
    handler = CalendlyErrorHandler(LOGGER, "event_types", frozenset({404}))
    response, attempts = send(handler=handler)
    assert response.status_code == 404
    assert mock.call_count == 1 and attempts.transient == 0


@pytest.mark.parametrize("action", [ResponseAction.SUCCESS, ResponseAction.IGNORE, ResponseAction.RATE_LIMITED])
def test_an_exception_is_never_returned_as_an_answer(
    clock: ManualTime, mock: requests_mock.Mocker, action: ResponseAction
) -> None:
    # Only a response can be accepted or waited out; a handler that says otherwise of an exception fails the read.
    mock.get(URL, exc=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(AirbyteTracedException) as raised:
        send(handler=Always(ErrorResolution(action, None, None)))
    assert mock.call_count == 1
    assert raised.value.message == "GET /event_types (stream event_types) failed: connection error: refused"
    assert raised.value.failure_type == FailureType.system_error
    assert isinstance(raised.value._exception, requests.exceptions.ConnectionError)


def test_with_debug_logging_each_request_and_answer_is_logged_as_the_cdk_logs_them(
    clock: ManualTime, mock: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER.name)
    mock.get(URL, [status(503, **{"X-Request-Id": "r-1"}), RESET, ok(page=1)])
    send()
    sent = [r for r in caplog.records if r.getMessage() == "Making outbound API request"]
    received = [r for r in caplog.records if r.getMessage() == "Receiving response"]
    assert len(sent) == 3 and len(received) == 2  # a reset brings no answer to log
    assert all(r.levelno == logging.DEBUG for r in sent + received)
    assert sent[0].url == f"{URL}?count=100"  # type: ignore[attr-defined]
    assert "headers" in sent[0].__dict__
    assert [r.status for r in received] == [503, 200]  # type: ignore[attr-defined]
    assert "try later" in received[0].body and '"page": 1' in received[1].body  # type: ignore[attr-defined]
    assert received[0].headers["X-Request-Id"] == "r-1"  # type: ignore[attr-defined]


def test_without_debug_logging_nothing_is_logged_per_request(
    clock: ManualTime, mock: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER.name)
    mock.get(URL, [ok()])
    send()
    assert caplog.records == []


# -- the deadline adapter -------------------------------------------------------------------------------------------


def test_the_adapter_builds_connections_whose_responses_read_under_the_deadline() -> None:
    adapter = DeadlineAdapter(total_seconds=2.0)
    session = requests.Session()
    session.mount("http://", adapter)
    assert adapter.total_seconds == 2.0
    assert adapter.poolmanager.pool_classes_by_scheme == {"http": _HTTPPool, "https": _HTTPSPool}
    proxied = adapter.proxy_manager_for("http://proxy.example:3128")
    assert proxied.pool_classes_by_scheme == {"http": _HTTPPool, "https": _HTTPSPool}


@pytest.mark.parametrize("framing", ["Content-Length: 11\r\n", ""])
def test_an_answer_that_closes_the_connection_is_read_whole(framing: str) -> None:
    # HTTP/1.0 and `Connection: close` answers: the connection closes its socket as soon as the headers are
    # read, so the body's reader must hold the descriptor open (it read "Bad file descriptor" before).
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(f"HTTP/1.0 200 OK\r\n{framing}Connection: close\r\n\r\n".encode() + b'{"ok": true}'[:11])

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    session = requests.Session()
    session.mount("http://", DeadlineAdapter(total_seconds=5.0))
    try:
        response = session.get(f"http://127.0.0.1:{listener.getsockname()[1]}/users/me", timeout=(5, 5))
    finally:
        server.join(5)
        listener.close()
    assert response.status_code == 200 and response.content == b'{"ok": true'


def test_the_adapter_keeps_as_many_connections_as_the_cdk_allows_workers() -> None:
    # One pool per host, each keeping up to MAX_CONNECTION_POOL_SIZE connections: concurrent workers reuse them.
    adapter = DeadlineAdapter(total_seconds=300.0)
    assert adapter.poolmanager.pools._maxsize == MAX_CONNECTION_POOL_SIZE
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == MAX_CONNECTION_POOL_SIZE


@pytest.mark.parametrize("proxy", ["socks5://proxy.example:1080", "SOCKS5H://proxy.example:1080"])
def test_a_socks_proxy_keeps_its_own_connection_classes(proxy: str) -> None:
    # The SOCKS manager's pools open their connections through the proxy; the deadline classes would bypass it.
    # PySocks is a runtime dependency: without it requests refuses SOCKS proxies with a message about the URL.
    from urllib3.contrib.socks import SOCKSHTTPConnectionPool, SOCKSHTTPSConnectionPool, SOCKSProxyManager

    manager = DeadlineAdapter(total_seconds=2.0).proxy_manager_for(proxy)
    assert isinstance(manager, SOCKSProxyManager)
    assert manager.pool_classes_by_scheme == {"http": SOCKSHTTPConnectionPool, "https": SOCKSHTTPSConnectionPool}


class FakeSocket:
    """What `_DeadlineReader` reads from: records the timeout each read ran under."""

    def __init__(self, data: bytes = b"", timeout: float | None = 60.0, closes_on_read: bool = False) -> None:
        self.data = data
        self.timeout = timeout
        self.read_under: list[float | None] = []
        self.closes_on_read = closes_on_read
        self.closed = False

    def gettimeout(self) -> float | None:
        return self.timeout

    def settimeout(self, value: float | None) -> None:
        if self.closed:
            raise OSError(9, "Bad file descriptor")
        self.timeout = value

    def recv_into(self, buffer: Any) -> int:
        self.read_under.append(self.timeout)
        size = min(len(buffer), len(self.data))
        buffer[:size] = self.data[:size]
        self.data = self.data[size:]
        self.closed = self.closes_on_read
        return size

    def fileno(self) -> int:
        return 7


@pytest.mark.parametrize(
    "socket_timeout, remaining, read_under", [(60.0, 2.5, 2.5), (1.5, 2.5, 1.5), (None, 0.5, 0.5), (60.0, 60.0, 60.0)]
)
def test_a_read_waits_no_longer_than_the_deadline_leaves_and_the_socket_keeps_its_timeout(
    clock: ManualTime, socket_timeout: float | None, remaining: float, read_under: float
) -> None:
    sock = FakeSocket(b"HTTP/1.1 200 OK\r\n", timeout=socket_timeout)
    reader = _DeadlineReader(sock, deadline=clock.now + remaining)  # type: ignore[arg-type]
    buffer = bytearray(64)
    assert reader.readinto(buffer) == 17
    assert bytes(buffer[:17]) == b"HTTP/1.1 200 OK\r\n"
    assert sock.read_under == [read_under]
    assert sock.timeout == socket_timeout  # the pooled connection is reused with urllib3's own timeout
    assert reader.readable() and reader.fileno() == 7


@pytest.mark.parametrize("late", [0.0, 0.5])
def test_no_read_starts_once_the_deadline_has_passed(clock: ManualTime, late: float) -> None:
    sock = FakeSocket(b"more", timeout=60.0)
    reader = _DeadlineReader(sock, deadline=clock.now - late)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError, match=r"^the answer did not finish before the request's deadline$"):
        reader.readinto(bytearray(8))
    assert sock.read_under == [] and sock.timeout == 60.0


def test_a_read_that_closed_the_socket_does_not_fail_restoring_its_timeout(clock: ManualTime) -> None:
    sock = FakeSocket(b"last", closes_on_read=True)
    reader = _DeadlineReader(sock, deadline=clock.now + 5)  # type: ignore[arg-type]
    assert reader.readinto(bytearray(8)) == 4


def test_the_adapter_raises_a_deadline_error_for_a_failure_at_or_past_the_deadline(clock: ManualTime) -> None:
    adapter = DeadlineAdapter(total_seconds=1.5)
    request = requests.Request("GET", URL).prepare()

    def slow_then_reset(self: Any, request: Any, **kwargs: Any) -> requests.Response:
        clock.now += 1.5
        raise requests.exceptions.ConnectionError("reset")

    with (
        patch.object(requests.adapters.HTTPAdapter, "send", slow_then_reset),
        pytest.raises(RequestDeadlineExceeded, match=r"^no complete answer within 1.5 s$") as raised,
    ):
        adapter.send(request)
    assert isinstance(raised.value, requests.exceptions.Timeout)  # mapped as transient, retried
    assert raised.value.request is request
    assert isinstance(raised.value.__cause__, requests.exceptions.ConnectionError)
    assert describe_failure(raised.value).startswith("deadline exceeded: no complete answer within 1.5 s")


def test_the_adapter_passes_a_failure_before_the_deadline_on_unchanged(clock: ManualTime) -> None:
    adapter = DeadlineAdapter(total_seconds=1.5)
    reset = requests.exceptions.ConnectionError("reset")

    def quick_reset(self: Any, request: Any, **kwargs: Any) -> requests.Response:
        clock.now += 1.4
        raise reset

    with patch.object(requests.adapters.HTTPAdapter, "send", quick_reset), pytest.raises(Exception) as raised:
        adapter.send(requests.Request("GET", URL).prepare())
    assert raised.value is reset


# A scripted server on the far end of a socket pair: the real adapter, pool, connection and response classes read
# from it. Time passes only when the client has received a part of the answer: the client's socket moves the
# clock then, and only after that does the server send the next part.


class ClockedSocket(socket.socket):
    """The client's end: once it has received `at` bytes in all, the clock moves `seconds` and the server goes on."""

    def setup(self, clock: ManualTime, schedule: list[tuple[int, float, threading.Event]]) -> None:
        self.clock = clock
        self.schedule = schedule
        self.received = 0

    def recv_into(self, buffer: Any, *args: Any) -> int:
        count = super().recv_into(buffer, *args)
        self.received += count
        while self.schedule and self.received >= self.schedule[0][0]:
            _, seconds, reached = self.schedule.pop(0)
            self.clock.now += seconds
            reached.set()
        return count


class ScriptedServer:
    def __init__(self, clock: ManualTime, answers: list[list[tuple[bytes, float]]]) -> None:
        """`answers`: one per request on the connection, each as parts: bytes sent, then seconds that pass."""
        self.clock = clock
        self.answers = answers
        self.requests: list[bytes] = []
        self.sockets: list[socket.socket] = []
        self.events: list[threading.Event] = []
        self.threads: list[threading.Thread] = []

    def connect(self, connection: Any) -> socket.socket:
        client_end, server_end = socket.socketpair()
        client = ClockedSocket(fileno=client_end.detach())
        schedule: list[tuple[int, float, threading.Event]] = []
        total = 0
        for answer in self.answers:
            for data, seconds in answer:
                total += len(data)
                schedule.append((total, seconds, threading.Event()))
        self.events += [event for _, _, event in schedule]
        client.setup(self.clock, list(schedule))
        self.sockets += [client, server_end]
        thread = threading.Thread(target=self._serve, args=(server_end, schedule), daemon=True)
        self.threads.append(thread)
        thread.start()
        return client

    def _serve(self, sock: socket.socket, schedule: list[tuple[int, float, threading.Event]]) -> None:
        events = iter(schedule)
        pending = b""
        try:
            for answer in self.answers:
                while b"\r\n\r\n" not in pending:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    pending += chunk
                request, pending = pending.split(b"\r\n\r\n", 1)
                self.requests.append(request)
                for data, _ in answer:
                    sock.sendall(data)
                    next(events)[2].wait(5)  # until the client has it (and the clock has moved)
        except OSError:  # the client hung up: the test is over
            return

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        for event in self.events:
            event.set()
        for thread in self.threads:
            thread.join(5)


@pytest.fixture
def serve(clock: ManualTime) -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(*answers: list[tuple[bytes, float]]) -> ScriptedServer:
        server = ScriptedServer(clock, list(answers))
        servers.append(server)
        return server

    with patch.object(_HTTPConnection, "_new_conn", lambda connection: servers[-1].connect(connection)):
        yield start
    for server in servers:
        server.close()


def get(session: requests.Session, **kwargs: Any) -> requests.Response:
    return session.get("http://calendly.test/event_types", timeout=(1.0, 1.0), **kwargs)


def session_with_deadline(total_seconds: float) -> requests.Session:
    session = requests.Session()
    session.mount("http://", DeadlineAdapter(total_seconds))
    return session


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n"
BODY = b'{"collection": [], "n": 1}'


def test_a_complete_answer_within_the_deadline_is_read_whole(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve([(HEAD + BODY[:10], 1.0), (BODY[10:], 0.5)])
    response = get(session_with_deadline(2.0))
    assert response.status_code == 200 and response.content == BODY
    assert capsys.readouterr().out == ""  # no http.client debug lines: stdout carries only Airbyte messages
    assert server.requests[0].startswith(b"GET /event_types HTTP/1.1\r\n")
    assert server.sockets[0].gettimeout() == 1.0  # the connection keeps the silence timeout it was given


def test_an_answer_that_does_not_finish_by_the_deadline_fails_as_a_deadline_error(serve: Any) -> None:
    # The headers and part of the body, then the deadline passes, then the rest arrives at once: too late.
    serve([(HEAD + BODY[:10], 2.5), (BODY[10:], 0.0)])
    with pytest.raises(RequestDeadlineExceeded, match=r"^no complete answer within 2 s$"):
        get(session_with_deadline(2.0))


def test_an_answer_ending_exactly_at_the_deadline_is_too_late(serve: Any) -> None:
    serve([(HEAD + BODY[:10], 2.0), (BODY[10:], 0.0)])
    with pytest.raises(RequestDeadlineExceeded):
        get(session_with_deadline(2.0))


def test_headers_that_do_not_arrive_by_the_deadline_fail_as_a_deadline_error(serve: Any) -> None:
    serve([(b"HTTP/1.1 200 OK\r\n", 3.0), (HEAD[17:] + BODY, 0.0)])
    with pytest.raises(RequestDeadlineExceeded, match=r"^no complete answer within 2 s$"):
        get(session_with_deadline(2.0))


def test_each_attempt_has_its_own_deadline(serve: Any) -> None:
    # Two requests on one connection, 1.5 s each under a 2 s deadline: the second is timed from its sending.
    server = serve([(HEAD + BODY, 1.5)], [(HEAD + BODY, 1.5)])
    session = session_with_deadline(2.0)
    assert get(session).content == BODY
    assert get(session).content == BODY
    assert len(server.requests) == 2
