"""Timestamps as Calendly writes and reads them.

Internally every instant is an ``int`` of microseconds since the Unix epoch (UTC): integers are cheap to
generate, compare and shift, which matters when the generator builds 100,000 events.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

MICROS = 1_000_000
MINUTE = 60 * MICROS
HOUR = 60 * MINUTE
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 24 * HOUR

# Calendly filters accept `Z` or a numeric offset, with or without seconds/fractions ([AB] sends
# `%Y-%m-%dT%H:%M:%S.%fZ`, [EST] sends `isoformat()` with `+00:00`). A naive value is read as UTC.
# Date-only values and a `+` decoded to a space (an un-encoded `+00:00`) are rejected, as a real server would.
_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?$"
)


_DAY_PREFIX: dict[int, str] = {}
_HMS: list[str] = [f"{h:02d}:{m:02d}:{sec:02d}." for h in range(24) for m in range(60) for sec in range(60)]


def fmt(us: int) -> str:
    """Format epoch microseconds as ``2026-02-25T18:13:01.136075Z`` (always 6 fraction digits).

    Hot path of the generator (about ten calls per event): day prefixes are cached and the time of day is a
    table lookup, so only the fraction is formatted per call.
    """
    secs, frac = divmod(us, MICROS)
    day, sod = divmod(secs, 86_400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        t = time.gmtime(day * 86_400)
        prefix = _DAY_PREFIX[day] = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
    return f"{prefix}{_HMS[sod]}{frac:06d}Z"


def fmt_ms(us: int) -> str:
    """Format with millisecond precision, as the activity log writes ``occurred_at`` (``…05.678Z``)."""
    return fmt(us)[:23] + "Z"


_DAY_US: dict[str, int] = {}


def parse_own(value: str) -> int:
    """Fast parse of a timestamp this package wrote with ``fmt`` (``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    day = _DAY_US.get(value[:10])
    if day is None:
        day = _DAY_US[value[:10]] = to_us(datetime.fromisoformat(value[:10]).replace(tzinfo=UTC))
    return day + (int(value[11:13]) * 3600 + int(value[14:16]) * 60 + int(value[17:19])) * MICROS + int(value[20:26])


def parse(value: str) -> int:
    """Parse a filter timestamp to epoch microseconds; raise ValueError when malformed."""
    m = _TIME_RE.match(value.strip())
    if not m:
        raise ValueError(value)
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    dt = datetime(year, month, day, hour, minute, second, int(frac or 0), tzinfo=UTC)
    us = to_us(dt)
    tz = m.group(8)
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_min = int(digits[:2]) * 60 + int(digits[2:])
        us -= sign * offset_min * MINUTE
    return us


def to_us(dt: datetime) -> int:
    """Epoch microseconds of an aware datetime; a naive one is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_us(us: int) -> datetime:
    """Aware UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=us)


def now_us() -> int:
    """Current wall-clock time in epoch microseconds."""
    return time.time_ns() // 1000


def floor_minute(us: int) -> int:
    return us - us % MINUTE
