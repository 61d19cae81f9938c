"""Per-user fixed-window rate limiting with Calendly's ``X-RateLimit-*`` headers.

Calendly documents 500 requests per user per minute (50 on free plans), shared by all of a user's
integrations, and ``X-RateLimit-Reset`` in *seconds until reset*. A window opens at a user's first request
and lasts ``window_seconds``. Requests refused with 429 are not counted, so a refused burst does not eat into
the next window.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Header value when the limiter is off: the headers are still sent, as on every real response.
UNLIMITED = 1_000_000


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window resets, at least 1

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
        ]


class RateLimiter:
    def __init__(
        self,
        limit: int | None = 500,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, list[float]] = {}  # key -> [window_end, used]
        self.throttled = 0

    def configure(self, limit: int | None, window_seconds: float | None = None) -> None:
        """Change the limit (and window) of a running limiter; open windows restart."""
        with self._lock:
            self.limit = limit
            if window_seconds is not None:
                if window_seconds <= 0:
                    raise ValueError("window_seconds must be > 0")
                self.window_seconds = window_seconds
            self._windows.clear()

    def _window(self, key: str, now: float) -> list[float]:
        window = self._windows.get(key)
        if window is None or now >= window[0]:
            window = self._windows[key] = [now + self.window_seconds, 0]
        return window

    def hit(self, key: str) -> RateDecision:
        """Count one request for ``key``; refused (allowed=False) once the window's budget is spent."""
        now = self._clock()
        with self._lock:
            window = self._window(key, now)
            reset = max(1, math.ceil(window[0] - now))
            limit = self.limit
            if limit is None:
                window[1] += 1
                return RateDecision(True, UNLIMITED, max(0, UNLIMITED - int(window[1])), reset)
            if window[1] >= limit:
                self.throttled += 1
                return RateDecision(False, limit, 0, reset)
            window[1] += 1
            return RateDecision(True, limit, limit - int(window[1]), reset)

    def peek(self, key: str | None) -> RateDecision:
        """Current state without counting (for responses that are not charged, e.g. 401 or injected faults)."""
        now = self._clock()
        with self._lock:
            limit = self.limit if self.limit is not None else UNLIMITED
            window = self._windows.get(key) if key else None
            if window is None or now >= window[0]:
                return RateDecision(True, limit, limit, max(1, math.ceil(self.window_seconds)))
            return RateDecision(True, limit, max(0, limit - int(window[1])), max(1, math.ceil(window[0] - now)))
