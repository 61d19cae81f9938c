"""Fault injection: proxy HTML errors, JSON 500, fault 429, resets, truncated bodies, latency, token expiry."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import requests
from sandbox_helpers import ManualClock, use_clock

from calendly_sandbox import Faults
from calendly_sandbox.faults import FaultInjector


def test_queued_status_faults(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    sb.queue_faults(502, 503, 500, 429)
    r502, r503, r500, r429 = (c.get("/users/me") for _ in range(4))
    for r, code in ((r502, 502), (r503, 503)):
        assert r.status_code == code
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.text.lstrip().startswith("<html") and str(code) in r.text
        with pytest.raises(ValueError):
            r.json()
    assert r500.status_code == 500 and r500.json()["title"] == "Internal Server Error"
    assert "X-RateLimit-Remaining" in r500.headers
    assert r429.status_code == 429
    assert r429.headers["X-RateLimit-Remaining"] == "0" and r429.headers["X-RateLimit-Reset"] == "1"
    assert c.get("/users/me").status_code == 200  # queue drained
    stats = sb.stats()
    assert stats["faults"] == {"429": 1, "500": 1, "502": 1, "503": 1}
    assert [e.fault for e in sb.request_log] == ["502", "503", "500", "429", None]


def test_reset_closes_without_response(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    sb.queue_faults("reset")
    with pytest.raises(requests.ConnectionError):
        c.get("/users/me")
    assert c.get("/users/me").status_code == 200  # the client reconnects
    assert sb.request_log[0].status == 0 and sb.request_log[0].fault == "reset"


def test_truncated_body_breaks_the_client(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    sb.queue_faults("truncated")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        c.get("/scheduled_events", organization=acme, count=50)
    assert sb.request_log[0].status == 200 and sb.request_log[0].fault == "truncated"
    assert c.get("/scheduled_events", organization=acme).status_code == 200


def test_latency_is_lognormal_not_constant() -> None:
    # The delays drawn, from the seeded generator: no clock involved.
    injector = FaultInjector(Faults(latency_ms_median=20, latency_sigma=0.5, seed=3))
    delays = [injector.decide("/users/me").latency_s * 1000 for _ in range(2000)]
    assert 18 < statistics.median(delays) < 22
    assert statistics.quantiles(delays, n=100)[98] > 2.5 * statistics.median(delays)  # a long tail
    assert min(delays) < 10 < 40 < max(delays)


def test_injected_latency_really_delays_the_response(make_sandbox, client) -> None:
    # A lower bound only: load can make a request slower, never faster.
    sb = make_sandbox(faults=Faults(latency_ms_median=200, latency_sigma=0.01, seed=3))
    c = client(sb, "admin")
    t = time.perf_counter()
    assert c.get("/users/me").status_code == 200
    assert time.perf_counter() - t >= 0.19


def test_error_rate_is_seeded_and_weighted(make_sandbox, client) -> None:
    faults = Faults(error_rate=0.5, error_weights={500: 1, 503: 3}, seed=11)
    runs = []
    for _ in range(2):
        sb = make_sandbox(faults=faults, rate_limit_per_minute=None)
        c = client(sb, "admin")
        runs.append([c.get("/users/me").status_code for _ in range(120)])
    assert runs[0] == runs[1]  # same seed, same request order: same faults
    codes = runs[0]
    assert set(codes) == {200, 500, 503}
    assert 30 < codes.count(200) < 90
    assert codes.count(503) > codes.count(500)


def test_faults_never_touch_control_endpoints_and_can_be_cleared(make_sandbox, client) -> None:
    sb = make_sandbox(faults=Faults(error_rate=1.0, error_weights={500: 1}))
    c = client(sb, "admin")
    assert c.get("/users/me").status_code == 500
    assert requests.get(f"{sb.url}/_sandbox/health", timeout=5).json() == {"ok": True}
    sb.set_faults(Faults())
    assert c.get("/users/me").status_code == 200
    sb.set_faults(error_rate=1.0, error_weights={502: 1}, paths=("/scheduled_events",))
    assert c.get("/users/me").status_code == 200
    assert c.get("/scheduled_events").status_code == 502


def test_faults_validation() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(error_rate=0.6, reset_rate=0.6)
    with pytest.raises(ValueError):
        Faults(error_weights={418: 1})


def test_page_tokens_expire(make_sandbox, client) -> None:
    sb = make_sandbox(page_token_ttl_seconds=0.3)
    clock = ManualClock()
    use_clock(sb, clock)
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    token = c.ok("/scheduled_events", organization=acme)["pagination"]["next_page_token"]
    clock.advance(0.3)  # at its lifetime: still good
    assert c.get("/scheduled_events", organization=acme, page_token=token).status_code == 200
    clock.advance(0.01)
    expired = c.get("/scheduled_events", organization=acme, page_token=token)
    assert expired.status_code == 400
    assert expired.json()["details"] == [{"parameter": "page_token", "message": "is invalid"}]
    sb.set_page_token_ttl(None)
    fresh = c.ok("/scheduled_events", organization=acme)["pagination"]["next_page_token"]
    clock.advance(3600)
    assert c.get("/scheduled_events", organization=acme, page_token=fresh).status_code == 200


def test_stop_cuts_injected_latency_short(make_sandbox) -> None:
    # An hour of latency: only stop() can end the request before the test's own bounds (which never race: a
    # request left waiting would hold them for the full hour).
    sb = make_sandbox(faults=Faults(latency_ms_median=3_600_000, latency_sigma=0.01))
    url, token = f"{sb.url}/users/me", sb.tokens.admin
    waiting = threading.Event()
    decide = sb.injector.decide

    def noting_decide(path: str):  # type: ignore[no-untyped-def]
        decision = decide(path)
        waiting.set()  # the server now waits out the latency
        return decision

    sb.injector.decide = noting_decide  # type: ignore[method-assign]
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=7200).status_code)
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    assert waiting.wait(60), "the request never reached the server"
    connections = list(sb._server._connections.values())
    assert connections
    sb.stop(timeout=60)
    assert not any(t.is_alive() for t in connections)  # stop() ended the wait, not the hour
    thread.join(60)
    assert not thread.is_alive() and outcome  # answered or dropped, but not left hanging


def test_truncated_json_is_a_complete_answer_with_half_a_body(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    sb.queue_faults("truncated_json")
    r = c.get("/users/me")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(ValueError):
        r.json()
    assert r.text == c.get("/users/me").text[: len(r.content)]
    assert sb.request_log[0].fault == "truncated_json"


def test_html_fault_is_a_200_maintenance_page(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    sb.queue_faults("html")
    r = c.get("/users/me")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and "<html>" in r.text
    assert sb.request_log[0].fault == "html"


def test_trickle_sends_headers_then_one_byte_per_interval(make_sandbox) -> None:
    sb = make_sandbox(faults=Faults(trickle_interval_s=0.2))
    sb.queue_faults("trickle")
    headers = {"Authorization": f"Bearer {sb.tokens.admin}"}
    with requests.get(f"{sb.url}/users/me", headers=headers, stream=True, timeout=5) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) > 100
        chunks = [next(r.raw.stream(1)) for _ in range(3)]  # a byte at a time; each read waits for one
    assert [len(chunk) for chunk in chunks] == [1, 1, 1]
    assert sb.request_log[0].fault == "trickle"


def test_missing_uri_drops_the_first_records_uri(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    acme = sb.truth.organization("admin")["uri"]
    sb.queue_faults("missing_uri")
    first, *rest = c.ok("/event_types", organization=acme)["collection"]
    assert "uri" not in first and all("uri" in r for r in rest)


def test_new_fault_rates_are_validated_and_drawn() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=0.5, html_rate=0.3, trickle_rate=0.3)
    with pytest.raises(ValueError):
        Faults(trickle_interval_s=0)
    injector = FaultInjector(Faults(truncated_json_rate=0.5, html_rate=0.5, seed=1))
    kinds = {injector.decide("/users/me").kind for _ in range(50)}
    assert kinds == {"truncated_json", "html"}
