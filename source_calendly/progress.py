"""What a long read is doing, told while it does it: one log line per stream at a steady interval, one summary.

Airbyte reads one stream at a time (`AbstractSource`), so every request, retry and rate-limit wait made while a
stream is being read counts towards that stream, whichever thread made it. A line names the records so far,
the requests, the retries, and the time spent waiting on Calendly's rate limit with the reason the budget gave
(the count Calendly reported left and when its window resets). Where a total can be estimated from what was
read anyway, an Airbyte ESTIMATE trace message carries it. Nothing here sends a request, and nothing here
sees a credential: only counts, stream names and the budget's own reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    EstimateType,
    TraceType,
)
from airbyte_cdk.models import Type as MessageType

DEFAULT_INTERVAL = 15.0  # seconds between two progress lines of one stream


@dataclass
class StreamProgress:
    """Counts for one stream's read."""

    name: str
    started: float
    records: int = 0
    requests: int = 0
    retries: int = 0  # transient failures retried (5xx, resets, timeouts, malformed bodies)
    rate_limited: int = 0  # 429 answers
    waits: int = 0  # times the sync stopped for the rate limit (concurrent waiters count once)
    waited: float = 0.0  # seconds during which at least one request waited for the rate limit
    estimate: int | None = None  # the latest row estimate emitted

    def line(self, now: float, waiting: str | None) -> str:
        records = f"{self.records} records" + (f" of ~{self.estimate}" if self.estimate is not None else "")
        text = (
            f"Stream {self.name}: {records}, {self.requests} requests, {self.retries} retries, "
            f"{self.waited:.0f} s waiting on the rate limit, {now - self.started:.0f} s so far."
        )
        return text + (f" Waiting now: {waiting}." if waiting else "")

    def summary(self, now: float) -> str:
        return (
            f"Stream {self.name} done: {self.records} records, {self.requests} requests, {self.retries} retries, "
            f"{self.rate_limited} rate-limited (HTTP 429), {self.waits} waits on the rate limit "
            f"({self.waited:.0f} s), {now - self.started:.1f} s."
        )


class SyncProgress:
    """Counts of the stream being read, and the log lines that tell them.

    `tick()` logs the active stream's line once `interval` seconds have passed since its last one; a daemon
    thread calls it about once a second while a stream is read (`ticking=False` leaves the thread out, for
    tests that drive a manual clock). Every method is thread-safe: worker threads report requests and waits.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        ticking: bool = True,
    ) -> None:
        self._logger = logger
        self.interval = interval
        self._clock = clock
        self._ticking = ticking
        self._lock = threading.Lock()
        self._active: StreamProgress | None = None
        self._last_line = 0.0
        self._waiters = 0
        self._wait_began = 0.0
        self._wait_reason: str | None = None
        self._wait_until: float | None = None

    # the stream's read ---------------------------------------------------------------------------------------
    @contextmanager
    def reading(self, name: str) -> Iterator[StreamProgress]:
        """Counts for `name` while the block runs; its summary line when the block ends (even by an error)."""
        now = self._clock()
        stream = StreamProgress(name=name, started=now)
        with self._lock:
            self._active, self._last_line = stream, now
        stop = self._start_ticker()
        try:
            yield stream
        finally:
            if stop is not None:
                stop.set()
            with self._lock:
                now = self._clock()
                if self._waiters:  # a wait cut short by an error still counts
                    stream.waited += now - self._wait_began
                    self._waiters = 0
                self._active = None
            self._logger.info(stream.summary(now))

    def record(self) -> None:
        stream = self._active
        if stream is not None:
            stream.records += 1  # only the stream's own (main) thread yields records

    def estimate(self, row_estimate: int) -> AirbyteMessage | None:
        """An ESTIMATE trace message for the active stream, or None when the estimate has not changed."""
        stream = self._active
        if stream is None or row_estimate == stream.estimate:
            return None
        stream.estimate = row_estimate
        return estimate_message(stream.name, row_estimate)

    # the transport's events ----------------------------------------------------------------------------------
    def request_sent(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.requests += 1

    def retried(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.retries += 1

    def rate_limited(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.rate_limited += 1

    # the rate budget's events (see RateBudget.observer) ------------------------------------------------------
    def wait_began(self, reason: str, until: float | None = None) -> None:
        """A request waits for the rate budget; `until`: when the budget expects to let it go (its clock),
        and `{seconds}` in the reason is replaced by the time left at each line."""
        with self._lock:
            self._wait_reason, self._wait_until = reason, until
            self._waiters += 1
            if self._waiters == 1:
                self._wait_began = self._clock()
                if self._active is not None:
                    self._active.waits += 1

    def wait_ended(self) -> None:
        with self._lock:
            if self._waiters == 0:
                return
            self._waiters -= 1
            if self._waiters == 0:
                if self._active is not None:
                    self._active.waited += self._clock() - self._wait_began
                self._wait_reason = None

    # the interval ---------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Log the active stream's line if `interval` seconds passed since its last line (or its start)."""
        with self._lock:
            stream = self._active
            now = self._clock()
            if stream is None or now - self._last_line < self.interval:
                return
            self._last_line = now
            waited_now = now - self._wait_began if self._waiters else 0.0
            snapshot = StreamProgress(**{**stream.__dict__, "waited": stream.waited + waited_now})
            waiting = None
            if self._waiters:
                reason, until = self._wait_reason or "", self._wait_until
                if until is not None:
                    reason = reason.replace("{seconds}", f"{max(0.0, until - now):.0f}")
                waiting = f"{reason} (waiting {waited_now:.0f} s so far)"
        self._logger.info(snapshot.line(now, waiting))

    def _start_ticker(self) -> threading.Event | None:
        if not self._ticking:
            return None
        stop = threading.Event()
        period = min(1.0, self.interval / 4)

        def run() -> None:
            while not stop.wait(period):
                self.tick()

        threading.Thread(target=run, name="calendly-progress", daemon=True).start()
        return stop


def estimate_message(stream: str, row_estimate: int) -> AirbyteMessage:
    return AirbyteMessage(
        type=MessageType.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ESTIMATE,
            emitted_at=time.time() * 1000,
            estimate=AirbyteEstimateTraceMessage(name=stream, type=EstimateType.STREAM, row_estimate=row_estimate),
        ),
    )
