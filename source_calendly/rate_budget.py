"""One request budget shared by every stream and worker thread, fed by Calendly's rate-limit headers.

Calendly allows a user N requests per window (500/min on paid plans, 50 on Free), shared with every other
integration of that user, and reports `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(seconds until the window resets) on every response. The budget spends what the server says is left and
then waits for the reset, so a sync runs at the limit without a storm of 429s, and slows down by itself
when another integration is spending the same budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from airbyte_cdk.sources.streams.call_rate import AbstractAPIBudget, AbstractCallRatePolicy

# A window whose reported end moves by more than this is a new window (the header has one-second resolution).
_NEW_WINDOW_SLACK = 1.5
# Wait this long past the estimated reset, for clock jitter between us and Calendly.
_RESET_MARGIN = 0.1
# After a window resets, one request goes first and the others wait for its answer, at most this long: its
# X-RateLimit-Remaining is the new window's count. Were every worker let go at once, the count would arrive
# with other requests already in flight and the window would be overspent by them (a 429 each).
_PROBE_WAIT = 2.0
# When Calendly sends no usable reset, wait this long after a 429.
_DEFAULT_RESET = 60.0
# Calendly's windows are a minute long. A longer reset (an epoch timestamp from a proxy, say) is not believed:
# the sync would sleep for years instead of failing or going on.
_MAX_RESET = 900.0


def _header_number(response: requests.Response, name: str) -> float | None:
    try:
        value = float(response.headers[name])
    except (KeyError, ValueError, TypeError):
        return None
    return value if value >= 0 else None


class WaitObserver(Protocol):
    """Told when a request starts and stops waiting for the budget (see `source_calendly.progress`)."""

    def wait_began(self, reason: str, until: float | None) -> None: ...

    def wait_ended(self) -> None: ...


class RateBudget(AbstractAPIBudget):
    """Thread-safe request budget; plugs into the CDK's HTTP client as its `api_budget`.

    Every request takes one unit before it is sent. The units left are the server's `Remaining`, less the
    requests sent since (so concurrent requests never overspend); at zero every sender waits for the reset.
    An optional `requests_per_minute` cap also spaces requests evenly, leaving room for other integrations.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._clock = clock
        self._cond = threading.Condition()
        self._remaining: float | None = None  # None: unknown, assume the server has room
        self._window_ends: float | None = None
        self._next_slot = 0.0
        self._probe_sent: float | None = None  # when the first request of a new window went out
        self.waited_seconds = 0.0  # total time spent waiting for the budget, for logs and benchmarks
        self._limit: float | None = None  # X-RateLimit-Limit, for the reason a wait gives
        self.observer: WaitObserver | None = None

    # AbstractAPIBudget -------------------------------------------------------------------------------------
    def acquire_call(self, request: Any, block: bool = True, timeout: float | None = None) -> None:
        with self._cond:
            observed = False
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    break
                if self.observer is not None and not observed:
                    observed = True
                    self.observer.wait_began(*self._wait_reason(now))
                started = self._clock()
                self._cond.wait(timeout=wait)
                self.waited_seconds += self._clock() - started
            if observed and self.observer is not None:
                self.observer.wait_ended()
            if self._remaining is not None:
                self._remaining -= 1
            if self._interval:
                self._next_slot = max(self._next_slot, now) + self._interval

    def get_matching_policy(self, request: Any) -> AbstractCallRatePolicy | None:
        return None

    def update_from_response(self, request: Any, response: Any) -> None:
        if not isinstance(response, requests.Response):
            return
        remaining = _header_number(response, "X-RateLimit-Remaining")
        reset = _wait_header(response, "X-RateLimit-Reset")
        self._limit = _header_number(response, "X-RateLimit-Limit") or self._limit
        if response.status_code == 429:
            remaining = 0.0
            reset = reset if reset is not None else _wait_header(response, "Retry-After") or _DEFAULT_RESET
        if remaining is None or reset is None:
            return
        with self._cond:
            self._probe_sent = None
            window_ends = self._clock() + reset
            new_window = self._window_ends is None or window_ends > self._window_ends + _NEW_WINDOW_SLACK
            if new_window or self._remaining is None:
                self._remaining = remaining
            else:
                # Responses to concurrent requests arrive out of order: the smallest count is the freshest.
                self._remaining = min(self._remaining, remaining)
            if new_window or response.status_code == 429 or self._window_ends is None:
                self._window_ends = window_ends
            else:
                # The reset is given in whole seconds: each response bounds the window's end, the lowest bound
                # is the closest (rounding it down instead would only risk a 429, which is retried anyway).
                self._window_ends = min(self._window_ends, window_ends)
            self._cond.notify_all()

    # internals ---------------------------------------------------------------------------------------------
    def _wait_reason(self, now: float) -> tuple[str, float | None]:
        """Why a request waits, from what Calendly last reported (no request is made to find out), and until
        when (on the budget's clock) if that is known: then `{seconds}` in the reason is the time left."""
        if self._remaining is not None and self._remaining <= 0:
            of = f" of {self._limit:.0f}" if self._limit else ""
            if self._window_ends is not None:
                return f"Calendly reported 0 requests left{of}; its window resets in {{seconds}} s", self._window_ends
            return f"Calendly's window has reset{of}; the first request of the new one asks for its count", None
        interval = f"requests_per_minute {60.0 / self._interval:g} spaces requests out"
        return interval + "; the next one goes in {seconds} s", self._next_slot

    def _wait_needed(self, now: float) -> float:
        if self._remaining is not None and self._remaining <= 0:
            if self._window_ends is not None:
                if now < self._window_ends + _RESET_MARGIN:
                    return self._window_ends + _RESET_MARGIN - now
                # The window has reset: one request asks for the new count (see _PROBE_WAIT).
                self._remaining, self._window_ends, self._probe_sent = 1.0, None, now
                return 0.0
            if self._probe_sent is not None and now < self._probe_sent + _PROBE_WAIT:
                return self._probe_sent + _PROBE_WAIT - now  # an answer wakes the waiters sooner
            self._remaining, self._probe_sent = None, None  # no count came: assume the server has room
        if self._interval and self._next_slot > now:
            return self._next_slot - now
        return 0.0


def _wait_header(response: requests.Response, name: str) -> float | None:
    """A number of seconds to wait (`X-RateLimit-Reset`, `Retry-After`), if there is a believable one."""
    seconds = _header_number(response, name)
    return seconds if seconds is not None and seconds <= _MAX_RESET else None
