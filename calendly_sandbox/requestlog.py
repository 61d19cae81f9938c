"""Thread-safe record of API requests and running counters, for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any, NamedTuple


class RequestLogEntry(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    status: int  # 0 when the connection was reset without a response
    token_label: str | None  # "admin", "member", ... or None when unauthenticated / not reached
    time: float  # time.monotonic() when the response was sent
    endpoint: str  # path with ids replaced by {uuid}, e.g. "/scheduled_events/{uuid}/invitees"
    fault: str | None  # injected fault kind ("500", "reset", "truncated", ...) or None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class RequestLog:
    """Bounded log (oldest entries drop first) plus counters that never drop."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RequestLogEntry] = deque(maxlen=max_entries)
        self._by_endpoint: dict[str, Counter[int]] = {}
        self._faults: Counter[str] = Counter()
        self._rate_limited = 0

    def add(self, entry: RequestLogEntry, rate_limited: bool = False) -> None:
        with self._lock:
            self._entries.append(entry)
            counter = self._by_endpoint.get(entry.endpoint)
            if counter is None:
                counter = self._by_endpoint[entry.endpoint] = Counter()
            counter[entry.status] += 1
            if entry.fault:
                self._faults[entry.fault] += 1
            if rate_limited:
                self._rate_limited += 1

    def entries(self) -> list[RequestLogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget entries and counters (e.g. between a warm-up and a measured phase)."""
        with self._lock:
            self._entries.clear()
            self._by_endpoint.clear()
            self._faults.clear()
            self._rate_limited = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_status: Counter[int] = Counter()
            for counter in self._by_endpoint.values():
                by_status.update(counter)
            return {
                "requests": sum(by_status.values()),
                "by_endpoint": {
                    ep: {str(s): n for s, n in sorted(c.items())} for ep, c in sorted(self._by_endpoint.items())
                },
                "by_status": {str(s): n for s, n in sorted(by_status.items())},
                "429": by_status.get(429, 0),  # every 429, rate-limiter and injected alike
                "rate_limited": self._rate_limited,  # 429s from the rate limiter only
                "faults": dict(sorted(self._faults.items())),
            }
