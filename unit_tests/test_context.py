"""The sync's shared rate budget, as the config builds it, on a clock the tests control.

Each read below runs through the real entrypoint with the real `RateBudget` logic; only its clock is fake:
its waits move the clock instead of sleeping, and the fake API notes the clock's time of every request.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from unittest.mock import patch

import pytest

from source_calendly.rate_budget import RateBudget
from unit_tests.fake_api import FakeCalendly, Fault
from unit_tests.helpers import config, run_read, uris


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    """Overrides the suite's: the budget's own waiting logic runs (on the fake clock); backoff does not sleep."""
    with patch("time.sleep"):
        yield


@pytest.fixture
def clock(api: FakeCalendly) -> Iterator[FakeClock]:
    """Every budget the connector builds runs on this clock; `api.request_times` holds it per request."""
    fake = FakeClock()

    class FakeClockBudget(RateBudget):
        def __init__(self, requests_per_minute: float | None = None) -> None:
            super().__init__(requests_per_minute=requests_per_minute, clock=fake)

            def wait(timeout: float | None = None) -> bool:  # waiting moves the fake clock
                fake.now += timeout or 0
                return True

            self._cond.wait = wait  # type: ignore[method-assign]

    api.clock = fake
    with patch("source_calendly.context.RateBudget", FakeClockBudget):
        yield fake


def event_types(n: int) -> list[dict[str, str]]:
    return [{"uri": f"https://api.calendly.com/event_types/t{i:03}", "name": f"T{i}"} for i in range(n)]


def test_requests_per_minute_spaces_every_request_of_the_sync(api: FakeCalendly, clock: FakeClock) -> None:
    api.event_types = event_types(250)
    out = run_read(["event_types"], config(requests_per_minute=30))
    assert len(uris(out, "event_types")) == 250
    times = api.request_times
    assert len(times) == 5  # /users/me, the role, three pages
    assert all(later - earlier >= 2.0 for earlier, later in itertools.pairwise(times))  # 60 / 30


def test_without_requests_per_minute_nothing_waits(api: FakeCalendly, clock: FakeClock) -> None:
    api.event_types = event_types(250)
    run_read(["event_types"])
    assert api.request_times == [1000.0] * 5


def test_a_429_with_only_retry_after_is_waited_out_then_retried(api: FakeCalendly, clock: FakeClock) -> None:
    # Calendly documents X-RateLimit-Reset; a 429 from something in between may carry only Retry-After.
    api.event_types = event_types(3)
    api.faults.append(Fault("/event_types", 429, {"title": "Too Many Requests"}, {"Retry-After": "7"}))
    with patch("time.sleep") as sleep:
        out = run_read(["event_types"])
    assert len(uris(out, "event_types")) == 3 and not out.errors
    refused, retried = api.request_times[-2:]
    assert 7 <= retried - refused < 8  # the shared budget held every request back until then, no longer
    assert any(call.args and abs(call.args[0] - 7) < 0.01 for call in sleep.call_args_list)  # and so did backoff
