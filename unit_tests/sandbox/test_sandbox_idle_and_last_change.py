"""What a test harness needs to avoid two races: when a record last changed (a sync must not start in that
second) and whether every request sent has been answered (a count must not miss the last ones)."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests
from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import Faults, Sandbox
from calendly_sandbox.sandbox import seconds_until_past


@pytest.mark.parametrize(
    "last_change, now, expected",
    [
        (100.02, 100.02, 0.98),  # a change 20 ms into a second: the rest of that second
        (100.02, 100.5, 0.5),
        (100.0, 100.0, 1.0),  # right at the start of a second: all of it
        (100.02, 101.0, 0.0),  # the next second has begun
        (100.99, 103.2, 0.0),
    ],
)
def test_the_wait_is_what_is_left_of_the_second_of_the_change(last_change: float, now: float, expected: float) -> None:
    assert seconds_until_past(last_change, now) == pytest.approx(expected)


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_last_change_is_when_a_mutation_changed_a_record_and_reads_do_not_move_it(make_sandbox, client) -> None:
    sb: Sandbox = make_sandbox()
    assert sb.last_change is None  # the data as built: nothing changed yet
    before = time.time()
    booked = sb.book_event(ANCHOR + timedelta(days=2))
    after = time.time()
    last = sb.last_change
    assert last is not None and before <= last.timestamp() <= after
    assert last >= _timestamp(booked["event"]["updated_at"])  # never earlier than what the change wrote
    client(sb, "admin").ok("/users/me")
    sb.set_faults(Faults())
    sb.clear_request_log()
    assert sb.last_change == last  # reads and knobs change no record


def test_a_mutation_through_the_control_api_and_a_failed_one_count_as_changes(make_sandbox) -> None:
    sb: Sandbox = make_sandbox()
    response = requests.post(f"{sb.url}/_sandbox/add_activity_log_entry", json={}, timeout=10)
    assert response.status_code == 200
    first = sb.last_change
    assert first is not None
    with pytest.raises(LookupError):
        sb.cancel_event("https://api.calendly.com/scheduled_events/no-such-event")
    assert sb.last_change is not None and sb.last_change >= first  # it may have changed something on its way


def test_after_the_wait_the_sandboxs_date_header_is_past_the_second_of_the_change(make_sandbox, client) -> None:
    sb: Sandbox = make_sandbox()
    assert sb.wait_past_last_change() == 0.0  # nothing changed: no wait
    sb.book_event(ANCHOR + timedelta(days=2))
    last = sb.last_change
    assert last is not None
    waited = sb.wait_past_last_change()
    assert 0.0 <= waited <= 1.0
    # What a connector takes as its sync's start: the Date header of its first answer.
    date = parsedate_to_datetime(client(sb, "admin").get("/users/me").headers["Date"])
    assert date > last.replace(microsecond=0)
    assert sb.wait_past_last_change() == 0.0  # already past: no second wait


def test_a_running_sandbox_is_found_by_its_url_until_it_stops(make_sandbox) -> None:
    sb: Sandbox = make_sandbox()
    url = sb.url
    assert Sandbox.serving(url) is sb and Sandbox.serving(url + "/") is sb
    assert Sandbox.serving("http://127.0.0.1:1") is None
    sb.stop()
    assert Sandbox.serving(url) is None
    sb.wait_idle()  # stopped: nothing to wait for


def _raw_request(sb: Sandbox, path: str = "/users/me") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {sb.host}:{sb.port}\r\nAuthorization: Bearer {sb.tokens.admin}\r\n\r\n"
    ).encode()


def test_a_request_whose_client_went_away_is_counted_once_the_sandbox_is_idle(make_sandbox) -> None:
    # A killed connector's last requests: sent, the client gone, the sandbox still answering (300 ms here).
    sb: Sandbox = make_sandbox(faults=Faults(latency_ms_median=300, latency_sigma=0))
    for _ in range(3):
        with socket.create_connection((sb.host, sb.port), timeout=5) as sock:
            sock.sendall(_raw_request(sb))
    sb.wait_idle()
    assert len(sb.request_log) == 3
    assert sb.stats()["requests"] == 3


def test_a_request_still_arriving_keeps_the_sandbox_busy_until_it_is_answered(make_sandbox) -> None:
    sb: Sandbox = make_sandbox()
    request = _raw_request(sb)
    with socket.create_connection((sb.host, sb.port), timeout=5) as sock:
        sock.sendall(request[:30])  # the request line and part of the headers
        with pytest.raises(TimeoutError, match="in flight"):
            sb.wait_idle(timeout=0.3)
        assert sb.request_log == []
        sock.sendall(request[30:])
        sb.wait_idle()
        assert [e.path for e in sb.request_log] == ["/users/me"]
        assert sock.recv(100).startswith(b"HTTP/1.1 200")


def test_an_open_keep_alive_connection_with_nothing_to_answer_is_idle(make_sandbox) -> None:
    sb: Sandbox = make_sandbox()
    c = Client(sb, "admin")
    try:
        c.ok("/users/me")
        c.ok("/users/me")  # the same connection, kept alive
        sb.wait_idle(timeout=2)  # does not wait for the connection to close
        assert len(sb.request_log) == 2
    finally:
        c.close()
