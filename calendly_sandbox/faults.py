"""Injected failures: latency, transient errors, connection resets, cut or malformed bodies, trickled answers.

Random faults come from a seeded RNG, so a run with the same seed and the same request order sees the same
faults. ``queue`` forces specific faults on the next API requests, for tests that need one exact failure.
Faults never touch ``/_sandbox/*``.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

# Fault kinds as they appear in the request log and in `Sandbox.queue_faults`.
ERROR_STATUSES = (429, 500, 502, 503)
RESET = "reset"
TRUNCATED = "truncated"  # full Content-Length, half the body, then close: a body cut short on the wire
TRUNCATED_JSON = "truncated_json"  # a complete HTTP answer whose JSON body stops halfway
HTML = "html"  # 200 with an HTML page (a captive portal or maintenance page in front of the API)
TRICKLE = "trickle"  # headers, then the body one byte every `trickle_interval_s`: an answer that never ends
MISSING_URI = "missing_uri"  # the collection's first record lacks its `uri` (an API change)
BODY_FAULTS = (TRUNCATED, TRUNCATED_JSON, HTML, TRICKLE, MISSING_URI)


# Rate fields after `error_rate`, in the order a random draw checks them, and the fault each injects.
_RATES = (
    ("reset_rate", RESET),
    ("truncated_rate", TRUNCATED),
    ("truncated_json_rate", TRUNCATED_JSON),
    ("html_rate", HTML),
    ("trickle_rate", TRICKLE),
    ("missing_uri_rate", MISSING_URI),
)


def _default_weights() -> dict[int, float]:
    return {429: 1.0, 500: 1.0, 502: 1.0, 503: 1.0}


@dataclass(frozen=True)
class Faults:
    """What to inject. Rates are per request and mutually exclusive (in `_RATES` order)."""

    latency_ms_median: float = 0.0  # median of a lognormal delay; 0 = no delay
    latency_sigma: float = 0.5  # lognormal shape: 0.5 gives a long-ish tail (p99 about 3x the median)
    error_rate: float = 0.0
    error_weights: Mapping[int, float] = field(default_factory=_default_weights)  # over 429/500/502/503
    reset_rate: float = 0.0  # close the socket without any response (TCP RST)
    truncated_rate: float = 0.0  # full Content-Length, half the body, then close
    truncated_json_rate: float = 0.0  # a well-formed HTTP answer with half a JSON body
    html_rate: float = 0.0  # 200 with an HTML page instead of JSON
    trickle_rate: float = 0.0  # the body one byte per `trickle_interval_s`
    trickle_interval_s: float = 5.0
    missing_uri_rate: float = 0.0  # the collection's first record without its `uri`
    seed: int = 0
    paths: tuple[str, ...] = ()  # only requests whose path starts with one of these (empty = every API path)

    def __post_init__(self) -> None:
        for name in ("error_rate", *(rate for rate, _ in _RATES)):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.error_rate + sum(getattr(self, rate) for rate, _ in _RATES) > 1.0:
            raise ValueError("the fault rates together must be <= 1")
        if self.trickle_interval_s <= 0:
            raise ValueError("trickle_interval_s must be > 0")
        if self.latency_ms_median < 0 or self.latency_sigma < 0:
            raise ValueError("latency parameters must be >= 0")
        unknown = set(self.error_weights) - set(ERROR_STATUSES)
        if unknown:
            raise ValueError(f"error_weights keys must be among {ERROR_STATUSES}, got {sorted(unknown)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Faults:
        """Build from JSON (the control endpoint and CLI): weights may have string keys."""
        values = dict(data)
        if "error_weights" in values and isinstance(values["error_weights"], Mapping):
            values["error_weights"] = {int(k): float(v) for k, v in values["error_weights"].items()}
        if "paths" in values and isinstance(values["paths"], list):
            values["paths"] = tuple(values["paths"])
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class FaultDecision:
    latency_s: float
    kind: int | str | None  # an error status, RESET, one of BODY_FAULTS, or None
    trickle_interval_s: float = 0.0


NO_FAULT = FaultDecision(0.0, None)


class FaultInjector:
    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._queue: deque[int | str] = deque()
        self.configure(faults or Faults())

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            weights = [(s, w) for s, w in faults.error_weights.items() if w > 0]
            self._statuses = [s for s, _ in weights]
            self._weights = [w for _, w in weights]
            self._active = bool(
                faults.latency_ms_median > 0
                or (faults.error_rate > 0 and self._statuses)
                or any(getattr(faults, rate) > 0 for rate, _ in _RATES)
            )

    def queue(self, *kinds: int | str) -> None:
        """Force these faults, in order, on the next API requests (before any random draw)."""
        for kind in kinds:
            if kind not in ERROR_STATUSES and kind != RESET and kind not in BODY_FAULTS:
                raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._queue.extend(kinds)

    def decide(self, path: str) -> FaultDecision:
        if not self._active and not self._queue:  # fast path, no lock
            return NO_FAULT
        with self._lock:
            f = self.faults
            if f.paths and not path.startswith(f.paths):
                return NO_FAULT
            rng = self._rng
            latency = 0.0
            if f.latency_ms_median > 0:
                latency = rng.lognormvariate(math.log(f.latency_ms_median), f.latency_sigma) / 1000.0
            if self._queue:
                return FaultDecision(latency, self._queue.popleft(), f.trickle_interval_s)
            roll = rng.random()
            if roll < f.error_rate and self._statuses:
                return FaultDecision(latency, rng.choices(self._statuses, self._weights)[0])
            roll -= f.error_rate
            for rate, kind in _RATES:
                if roll < getattr(f, rate):
                    return FaultDecision(latency, kind, f.trickle_interval_s)
                roll -= getattr(f, rate)
            return FaultDecision(latency, None)
