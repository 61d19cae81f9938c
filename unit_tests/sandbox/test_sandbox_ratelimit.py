"""Per-user fixed-window rate limiting and the X-RateLimit-* headers on every response."""

from __future__ import annotations

from sandbox_helpers import ManualClock, use_clock

from calendly_sandbox.ratelimit import UNLIMITED, RateLimiter

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def test_headers_on_every_kind_of_response(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "member")
    acme = sb.truth.organization("admin")["uri"]
    responses = [
        c.get("/users/me"),  # 200
        c.get("/scheduled_events", organization=acme, count=0),  # 400
        c.get("/scheduled_events", organization=acme),  # 403
        c.get("/nope"),  # 404
        client(sb, None).get("/users/me"),  # 401
    ]
    assert [r.status_code for r in responses] == [200, 400, 403, 404, 401]
    for r in responses:
        assert all(h in r.headers for h in HEADERS), r.headers
        assert "Date" in r.headers and "Retry-After" not in r.headers
        assert int(r.headers["X-RateLimit-Reset"]) >= 1
    assert responses[0].headers["X-RateLimit-Limit"] == "500"
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in responses[:4]]
    assert remaining == [499, 498, 497, 496]  # errors count too; 401s are not charged to anyone


def test_429_past_the_limit_then_recovery(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=5, rate_window_seconds=1.0)
    clock = ManualClock()
    use_clock(sb, clock)
    c = client(sb, "admin")
    first = [c.get("/users/me") for _ in range(5)]
    assert [r.status_code for r in first] == [200] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in first] == ["4", "3", "2", "1", "0"]
    refused = [c.get("/users/me") for _ in range(3)]
    for r in refused:
        assert r.status_code == 429
        assert r.json()["title"] == "Too Many Requests" and r.json()["message"]
        assert r.headers["X-RateLimit-Remaining"] == "0" and r.headers["X-RateLimit-Limit"] == "5"
        assert int(r.headers["X-RateLimit-Reset"]) == 1
    assert client(sb, "member").get("/users/me").status_code == 200  # per user, not global
    clock.advance(0.99)
    assert c.get("/users/me").status_code == 429  # the same window still
    clock.advance(0.01)
    # Refused requests did not count against the new window: the full budget is available again.
    again = [c.get("/users/me") for _ in range(5)]
    assert [r.status_code for r in again] == [200] * 5
    assert c.get("/users/me").status_code == 429
    stats = sb.stats()
    assert stats["429"] == 5 and stats["rate_limited"] == 5


def test_retry_after_option_and_runtime_change(make_sandbox, client) -> None:
    sb = make_sandbox(rate_limit_per_minute=1, send_retry_after=True)
    c = client(sb, "admin")
    assert c.get("/users/me").status_code == 200
    refused = c.get("/users/me")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    sb.set_rate_limit(None)
    ok = c.get("/users/me")
    assert ok.status_code == 200 and int(ok.headers["X-RateLimit-Limit"]) == UNLIMITED
    sb.set_rate_limit(2, window_seconds=30, send_retry_after=False)
    assert [c.get("/users/me").status_code for _ in range(3)] == [200, 200, 429]
    assert int(c.get("/users/me").headers["X-RateLimit-Reset"]) in range(1, 31)


def test_limiter_window_arithmetic() -> None:
    now = [100.0]
    limiter = RateLimiter(limit=2, window_seconds=60, clock=lambda: now[0])
    assert limiter.hit("u").remaining == 1
    now[0] += 59.2
    d = limiter.hit("u")
    assert (d.allowed, d.remaining, d.reset) == (True, 0, 1)
    assert not limiter.hit("u").allowed
    now[0] += 0.8
    assert limiter.hit("u").remaining == 1  # new window
    assert limiter.peek("u").remaining == 1 and limiter.peek(None).remaining == 2
