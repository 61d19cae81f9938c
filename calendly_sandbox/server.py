"""HTTP transport: keep-alive HTTP/1.1 on a threading stdlib server, plus rate limiting and fault injection.

Responses are written in one ``write`` (status line, headers and body together) with Nagle disabled, and the
request path avoids anything per-request that is not needed: the server is the bottleneck of every benchmark
that runs against it.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl

import orjson

from . import errors
from .api import Api
from .errors import ApiError
from .faults import HTML as HTML_FAULT
from .faults import MISSING_URI, RESET, TRICKLE, TRUNCATED, TRUNCATED_JSON, FaultInjector
from .oauth import OAuthServer
from .ratelimit import RateLimiter
from .requestlog import RequestLog, RequestLogEntry


class ControlHandler(Protocol):
    """Serves ``/_sandbox/*`` (``control.Control``): (method, path, query string, body) -> (status, body)."""

    def handle(self, method: str, path: str, qs: str, raw: bytes) -> tuple[int, bytes]: ...


class Served(Protocol):
    """What the server answers from: ``sandbox.Sandbox`` (the control layer above) passes itself down."""

    api: Api
    oauth: OAuthServer
    limiter: RateLimiter
    injector: FaultInjector
    request_log_sink: RequestLog
    send_retry_after: bool
    control: ControlHandler


log = logging.getLogger("calendly_sandbox")

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
_REASONS = {s.value: s.phrase for s in HTTPStatus}

_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """RFC 7231 ``Date`` value, formatted once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int  # 0 for a reset connection
    label: str | None
    fault: str | None
    rate_limited: bool
    write: Callable[[], None]


def _readable(sock: socket.socket) -> bool:
    """Whether bytes (or the peer's close) wait in the socket, without taking them; False once it is closed."""
    fd = sock.fileno()
    if fd < 0:
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _RequestReader(io.RawIOBase):
    """A connection's raw reader: before it takes the bytes of a request off the socket, it tells the server
    the connection is busy. So a request is always visible to ``SandboxServer.idle``: still in the socket, or
    in hand, until the handler has answered it."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, arrived: Callable[[], None]) -> None:
        super().__init__()
        self._raw, self._sock, self._arrived = raw, sock, arrived

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        timeout = self._sock.gettimeout()
        poller = select.poll()
        poller.register(self._sock, select.POLLIN)
        if not poller.poll(-1 if timeout is None else int(timeout * 1000)):
            raise TimeoutError("timed out")  # what the socket's own timeout raises: the handler drops the connection
        self._arrived()
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class SandboxServer(ThreadingHTTPServer):
    """Threading server that tracks its connections so ``close_all`` can end idle keep-alive ones, and the
    requests in flight so ``wait_idle`` can tell when every request it was sent has been answered."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sandbox: Served) -> None:
        self.sandbox = sandbox
        self._conn_lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        # Injected latency waits on this event instead of time.sleep: stop() cuts waits short, and tests that
        # patch time.sleep (to skip client backoff) do not silently remove the server's latency.
        self.stopping = threading.Event()
        # A request passes through these stages in order: a connection waiting in the listen queue, one being
        # accepted (`_accepting`), bytes waiting in a connection's socket, a connection in `_busy` (from just
        # before its request is read until it is answered). `idle` checks them in the same order, so a request
        # moving on while it looks is still seen at a later stage.
        self._activity = threading.Condition()
        self._accepting = 0
        self._busy: set[socket.socket] = set()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        with self._activity:
            self._accepting += 1
        try:
            return super().get_request()
        except BaseException:
            self._end_accept()
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            thread = threading.Thread(
                target=self._serve_connection, args=(request, client_address), daemon=True, name="sandbox-conn"
            )
            with self._conn_lock:
                self._connections[request] = thread
            thread.start()
        finally:
            self._end_accept()

    def _end_accept(self) -> None:
        with self._activity:
            self._accepting -= 1
            self._activity.notify_all()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._conn_lock:
                self._connections.pop(request, None)
            self.request_done(request)
            self.shutdown_request(request)

    # -- requests in flight -----------------------------------------------------------------------------------
    def request_arrived(self, connection: socket.socket) -> None:
        with self._activity:
            self._busy.add(connection)

    def request_done(self, connection: socket.socket) -> None:
        with self._activity:
            self._busy.discard(connection)
            self._activity.notify_all()

    def in_flight(self) -> int:
        """Requests being read, handled or answered right now."""
        with self._activity:
            return len(self._busy)

    def idle(self) -> bool:
        """No request anywhere between a client's socket and its answer (the stages in ``__init__``, in order)."""
        if _readable(self.socket):
            return False
        with self._activity:
            if self._accepting:
                return False
        with self._conn_lock:
            connections = list(self._connections)
        if any(_readable(sock) for sock in connections):
            return False
        with self._activity:
            return not self._busy

    def wait_idle(self, timeout: float) -> None:
        """Return once ``idle``; TimeoutError if it is not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.idle():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"the sandbox still had {self.in_flight()} request(s) in flight {timeout:g} s after wait_idle"
                )
            with self._activity:
                # An answer wakes this at once; bytes still in a socket (not yet a request in hand) are polled.
                self._activity.wait(min(remaining, 0.01))

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)  # quiet: clients drop sockets

    def close_all(self, timeout: float) -> None:
        """Shut every open connection down and wait (bounded) for their threads."""
        self.stopping.set()
        with self._conn_lock:
            items = list(self._connections.items())
        for sock, _ in items:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in items:
            thread.join(max(0.0, deadline - time.monotonic()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response has a Content-Length
    server_version = "calendly-sandbox"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this many seconds
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log records what matters

    def setup(self) -> None:
        super().setup()
        arrived = partial(self.server.request_arrived, self.connection)
        raw = _RequestReader(self.rfile.detach(), self.connection, arrived)
        self.rfile = io.BufferedReader(raw)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            self.server.request_done(self.connection)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- wire helpers -------------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _head(self, status: int, content_type: str, length: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
            f"Date: {http_date()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {length}",
        ]
        lines.extend(f"{k}: {v}" for k, v in headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, status: int, content_type: str, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.wfile.write(self._head(status, content_type, len(body), headers) + body)

    def _send_truncated(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        # Announce the full length, deliver half, then close: the client sees an incomplete body.
        self.wfile.write(self._head(status, JSON, len(body), headers) + body[: len(body) // 2])
        self.close_connection = True

    def _send_trickle(self, status: int, body: bytes, headers: list[tuple[str, str]], interval: float) -> None:
        # Headers at once, then one byte per interval: a client whose read timeout restarts with every byte
        # never times out. Ends when the body is out, the client goes away, or the sandbox stops.
        self.wfile.write(self._head(status, JSON, len(body), headers))
        self.wfile.flush()
        for i in range(len(body)):
            if self.server.stopping.wait(interval):
                break
            try:
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
            except OSError:
                break
        self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST instead of a FIN: "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # -- dispatch -----------------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        path, _, qs = self.path.partition("?")
        sandbox = self.server.sandbox
        if path.startswith("/_sandbox/"):
            status, body = sandbox.control.handle(method, path, qs, self._read_body())
            self._send(status, JSON, body, [])
            return
        raw = self._read_body()  # read even when unused, so the keep-alive stream stays in sync
        query = dict(parse_qsl(qs, keep_blank_values=True))
        if path in ("/oauth/token", "/oauth/authorize"):
            outcome = self._oauth(sandbox, method, path, query, raw)
        else:
            outcome = self._api(sandbox, method, path, query)
        # Log before writing: once a client holds its response, the log and stats already include it.
        entry = RequestLogEntry(
            method,
            path,
            query,
            outcome.status,
            outcome.label,
            time.monotonic(),
            path if path.startswith("/oauth/") else sandbox.api.endpoint_label(path),
            outcome.fault,
        )
        sandbox.request_log_sink.add(entry, outcome.rate_limited)
        outcome.write()

    def _oauth(self, sandbox: Served, method: str, path: str, query: dict[str, str], raw: bytes) -> _Outcome:
        """Calendly's OAuth server (auth.calendly.com): not charged to the API's rate limit, no faults."""
        oauth = sandbox.oauth
        if path == "/oauth/authorize" and method == "GET":
            status, body, location = oauth.authorize(query)
            headers = [("Location", location)] if location else []
            return _Outcome(status, None, None, False, partial(self._send, status, JSON, orjson.dumps(body), headers))
        if path == "/oauth/token" and method == "POST":
            status, body, headers = oauth.token(self.headers.get("Authorization"), raw)
            send = partial(self._send, status, JSON, orjson.dumps(body), [("Cache-Control", "no-store"), *headers])
            return _Outcome(status, None, None, status == 429, send)
        return _Outcome(
            404, None, None, False, partial(self._send, 404, JSON, orjson.dumps(errors.not_found().body), [])
        )

    def _api(self, sandbox: Served, method: str, path: str, query: dict[str, str]) -> _Outcome:
        """Decide the response to one API request (written later by ``_Outcome.write``)."""
        sandbox.oauth.on_request(path)
        decision = sandbox.injector.decide(path)
        if decision.latency_s:
            self.server.stopping.wait(decision.latency_s)
        kind = decision.kind
        label = sandbox.api.label_of(self.headers.get("Authorization"))
        if kind == RESET:
            return _Outcome(0, label, RESET, False, self._reset)
        if isinstance(kind, int):
            return _Outcome(kind, label, str(kind), False, partial(self._send_fault, sandbox, kind))
        try:
            principal = sandbox.api.authenticate(self.headers.get("Authorization"))
        except ApiError as exc:  # 401s are not charged to any user's budget
            send = partial(self._send, exc.status, JSON, orjson.dumps(exc.body), sandbox.limiter.peek(None).headers())
            return _Outcome(exc.status, None, None, False, send)
        rate = sandbox.limiter.hit(principal.user)
        headers = rate.headers()
        if not rate.allowed:
            if sandbox.send_retry_after:
                headers.append(("Retry-After", str(rate.reset)))
            send = partial(self._send, 429, JSON, orjson.dumps(errors.TOO_MANY_REQUESTS_BODY), headers)
            return _Outcome(429, principal.label, None, True, send)
        try:
            if method != "GET":
                raise errors.not_found()  # this fake serves the read API only
            _, handler, ids = sandbox.api.route(path)
            status, body = 200, handler(principal, query, ids)
        except ApiError as exc:
            status, body = exc.status, orjson.dumps(exc.body)
        except Exception:
            log.exception("sandbox bug while serving %s", path)
            status, body = 500, orjson.dumps(errors.INTERNAL_ERROR_BODY)
        if kind == TRUNCATED:
            return _Outcome(
                status, principal.label, TRUNCATED, False, partial(self._send_truncated, status, body, headers)
            )
        if kind == TRUNCATED_JSON:
            send = partial(self._send, status, JSON, body[: len(body) // 2], headers)
            return _Outcome(status, principal.label, TRUNCATED_JSON, False, send)
        if kind == HTML_FAULT:
            send = partial(self._send, 200, HTML, errors.MAINTENANCE_HTML.encode(), [])
            return _Outcome(200, principal.label, HTML_FAULT, False, send)
        if kind == TRICKLE:
            send = partial(self._send_trickle, status, body, headers, decision.trickle_interval_s)
            return _Outcome(status, principal.label, TRICKLE, False, send)
        if kind == MISSING_URI:
            send = partial(self._send, status, JSON, _without_first_uri(body), headers)
            return _Outcome(status, principal.label, MISSING_URI, False, send)
        return _Outcome(status, principal.label, None, False, partial(self._send, status, JSON, body, headers))

    def _send_fault(self, sandbox: Served, status: int) -> None:
        if status in errors.PROXY_HTML:
            # A proxy/load balancer answered, not Calendly: HTML body and no X-RateLimit-* headers.
            self._send(status, HTML, errors.PROXY_HTML[status].encode(), [])
            return
        limit = sandbox.limiter.peek(None).limit
        if status == 429:
            headers = [("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1")]
            if sandbox.send_retry_after:
                headers.append(("Retry-After", "1"))
            self._send(429, JSON, orjson.dumps(errors.TOO_MANY_REQUESTS_BODY), headers)
            return
        rate = sandbox.limiter.peek(sandbox.api.user_of(self.headers.get("Authorization")))
        self._send(status, JSON, orjson.dumps(errors.INTERNAL_ERROR_BODY), rate.headers())


def _without_first_uri(body: bytes) -> bytes:
    """The body with `uri` removed from the collection's first record (unchanged if there is none)."""
    data = orjson.loads(body)
    collection = data.get("collection") if isinstance(data, dict) else None
    if isinstance(collection, list) and collection and isinstance(collection[0], dict):
        collection[0].pop("uri", None)
    return orjson.dumps(data)
