import threading
from collections.abc import Iterator

import pytest
import requests

from source_calendly.rate_budget import RateBudget


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    """These tests drive the budget's real waiting logic on a fake clock: keep it."""
    yield


class FakeClock:
    """A clock the budget's waits advance, so nothing really sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def response(status: int = 200, **headers: str) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers)
    return r


def budget_with_clock() -> tuple[RateBudget, FakeClock]:
    clock = FakeClock()
    budget = RateBudget(clock=clock)

    def wait(timeout: float | None = None) -> bool:  # the condition's wait moves the fake clock instead
        clock.now += timeout or 0
        return True

    budget._cond.wait = wait  # type: ignore[method-assign]
    return budget, clock


def test_spends_what_calendly_says_is_left_then_waits_for_the_reset() -> None:
    budget, clock = budget_with_clock()
    budget.acquire_call(None)
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "30"}))
    start = clock.now
    budget.acquire_call(None)
    budget.acquire_call(None)
    assert clock.now == start  # two left: no wait
    budget.acquire_call(None)  # none left: waits out the window
    assert clock.now >= start + 30
    assert budget.waited_seconds >= 30


def test_out_of_order_responses_keep_the_smallest_count() -> None:
    budget, _ = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "30"}))
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "9", "X-RateLimit-Reset": "30"}))
    assert budget._remaining == 5


def test_a_429_empties_the_budget_until_the_reset() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "400", "X-RateLimit-Reset": "50"}))
    budget.update_from_response(None, response(429, **{"X-RateLimit-Reset": "12"}))
    start = clock.now
    budget.acquire_call(None)
    assert 12 <= clock.now - start <= 13


def test_requests_per_minute_cap_spaces_requests() -> None:
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=60, clock=clock)
    budget._cond.wait = lambda timeout=None: setattr(clock, "now", clock.now + (timeout or 0)) or True  # type: ignore
    for _ in range(4):
        budget.acquire_call(None)
    assert clock.now - 1000.0 >= 3.0  # one a second


def test_no_headers_no_waiting() -> None:
    budget = RateBudget()
    done = threading.Event()
    threading.Thread(target=lambda: [budget.acquire_call(None) for _ in range(1000)] and done.set()).start()
    assert done.wait(5)


def test_the_window_end_is_the_lowest_bound_seen_since_reset_is_rounded_up() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "30"}))
    clock.now += 0.8  # 29.2 s really left; the header says 30 again, then 29
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "30"}))
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "29"}))
    start = clock.now
    budget.acquire_call(None)
    assert 29 <= clock.now - start < 29.5


def test_an_implausible_reset_is_not_believed() -> None:
    # An epoch timestamp where seconds are expected (a proxy's header, say) must not put the sync to sleep for
    # decades: it counts as no reset at all.
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"}))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == start
    budget.update_from_response(None, response(429, **{"X-RateLimit-Reset": "1700000000"}))
    budget.acquire_call(None)
    assert 60 <= clock.now - start < 61  # a 429 with no believable reset waits Calendly's one-minute window


def test_waits_exactly_past_the_reset_by_the_margin_then_forgets_the_old_window() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 10.1)  # the reset, plus 0.1 s for clock jitter
    assert budget.waited_seconds == pytest.approx(10.1)
    # The first request of the new window went at once; its answer gives the new window's count.
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"}))
    budget.acquire_call(None)  # the new window is followed like the first
    assert clock.now == pytest.approx(start + 10.1 + 5.1)


def test_requests_per_minute_spaces_requests_exactly() -> None:
    budget, clock = budget_with_clock()
    budget = RateBudget(requests_per_minute=120, clock=clock)
    budget._cond.wait = lambda timeout=None: setattr(clock, "now", clock.now + (timeout or 0)) or True  # type: ignore
    times = []
    for _ in range(4):
        budget.acquire_call(None)
        times.append(clock.now)
    assert [t - times[0] for t in times] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    clock.now += 10  # idle for a while: the next request goes at once, and the one after it half a second later
    budget.acquire_call(None)
    assert clock.now == pytest.approx(times[-1] + 10)
    budget.acquire_call(None)
    assert clock.now == pytest.approx(times[-1] + 10.5)


def test_without_a_cap_or_an_empty_budget_nothing_waits() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "30"}))
    start = clock.now
    for _ in range(3):
        budget.acquire_call(None)
    assert clock.now == start and budget.waited_seconds == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Remaining": "0"},  # no reset: nothing to wait for
        {"X-RateLimit-Reset": "30"},  # no count
        {"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "30"},
        {"X-RateLimit-Remaining": "zero", "X-RateLimit-Reset": "30"},
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "-5"},
    ],
)
def test_headers_that_say_nothing_usable_change_nothing(headers: dict[str, str]) -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**headers))
    budget.update_from_response(None, object())  # not a response at all
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == start


def test_a_new_window_resets_the_count_and_an_old_response_does_not_lower_it() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}))
    clock.now += 1.2  # that window is over; the next one opens with a full count
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "499", "X-RateLimit-Reset": "60"}))
    assert budget._remaining == 499
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "497", "X-RateLimit-Reset": "59"}))
    assert budget._remaining == 497
    # Within 1.5 s of the known end: the same window, so the smaller count stands.
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "498", "X-RateLimit-Reset": "60"}))
    assert budget._remaining == 497


def test_the_margin_past_the_reset_is_waited_even_right_at_the_reset() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}))
    start = clock.now
    clock.now += 9.95  # the window is nearly over
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 10.1)


def test_a_429_without_reset_headers_waits_a_whole_minute() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(429))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 60.1)


def test_a_429_with_retry_after_waits_that_long() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(429, **{"Retry-After": "4"}))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 4.1)


def test_a_429_sets_the_window_end_even_a_little_later_than_believed() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "10"}))
    budget.update_from_response(None, response(429, **{"X-RateLimit-Reset": "11"}))  # within 1.5 s: same window
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 11.1)  # the refusal's own reset, not the earlier estimate


def test_the_window_end_stays_at_the_lowest_bound_when_a_later_one_arrives() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "29"}))
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 29.1)


def test_a_reset_of_exactly_fifteen_minutes_is_still_believed() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "900"}))
    start = clock.now
    budget.acquire_call(None)
    assert clock.now == pytest.approx(start + 900.1)


def test_after_a_reset_one_request_asks_for_the_new_count_before_the_others_go() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}))
    budget.acquire_call(None)  # waits out the window, then goes first in the new one
    reset_at = clock.now
    # Its answer gives the new window's count: exactly that many more go, then the next waits for the reset.
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "60"}))
    for _ in range(3):
        budget.acquire_call(None)
    assert clock.now == reset_at
    budget.acquire_call(None)
    assert clock.now >= reset_at + 60


def test_the_others_wait_for_the_first_answer_of_a_new_window_but_not_forever() -> None:
    budget, clock = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}))
    budget.acquire_call(None)  # the new window's first request; its answer never comes (a reset connection)
    first = clock.now
    budget.acquire_call(None)  # a second worker waits for that answer, then goes on without it
    assert first < clock.now <= first + 2.0
    budget.acquire_call(None)  # the count is unknown again: no more waiting
    assert clock.now <= first + 2.0


def test_an_answer_wakes_the_workers_waiting_for_a_new_windows_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("source_calendly.rate_budget._PROBE_WAIT", 120.0)  # only the answer can wake it in time
    budget = RateBudget()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"}))
    budget.acquire_call(None)  # the reset is due: this is the new window's first request
    went = threading.Event()
    worker = threading.Thread(target=lambda: (budget.acquire_call(None), went.set()))
    worker.start()
    assert not went.wait(0.2)  # waiting for the first request's answer
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "40", "X-RateLimit-Reset": "60"}))
    assert went.wait(60)  # woken by the answer, not by the wait running out
    worker.join()


def test_the_time_spent_waiting_adds_up_over_every_wait() -> None:
    # The figure the error for exhausted 429 retries reports: every wait of the sync, not only the last.
    budget, _ = budget_with_clock()
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "10"}))
    budget.acquire_call(None)
    budget.update_from_response(None, response(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"}))
    budget.acquire_call(None)
    assert budget.waited_seconds == pytest.approx(10.1 + 5.1)


# what a wait tells the progress lines (source_calendly.progress) -------------------------------------


def limit_response(remaining: int, reset: int, limit: int = 500) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers.update(
        {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
    )
    return response


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def wait_began(self, reason: str, until: float | None) -> None:
        self.events.append(f"began: {reason}, until {until}")

    def wait_ended(self) -> None:
        self.events.append("ended")


def test_the_budget_tells_why_it_waits_from_calendlys_own_figures() -> None:
    budget, _ = budget_with_clock()
    recorder = Recorder()
    budget.observer = recorder
    budget.acquire_call(None)
    assert recorder.events == []  # nothing known, nothing waited
    budget.update_from_response(None, limit_response(remaining=0, reset=42))
    budget.acquire_call(None)
    assert recorder.events == [
        "began: Calendly reported 0 requests left of 500; its window resets in {seconds} s, until 1042.0",
        "ended",
    ]
    assert budget.waited_seconds == pytest.approx(42.1)


def test_the_budget_names_a_requests_per_minute_cap_as_the_reason() -> None:
    clock = FakeClock()
    budget = RateBudget(requests_per_minute=30, clock=clock)
    budget._cond.wait = lambda timeout=None: setattr(clock, "now", clock.now + (timeout or 0)) or True  # type: ignore[method-assign]
    recorder = Recorder()
    budget.observer = recorder
    budget.acquire_call(None)
    budget.acquire_call(None)
    assert recorder.events == [
        "began: requests_per_minute 30 spaces requests out; the next one goes in {seconds} s, until 1002.0",
        "ended",
    ]
