"""Opaque cursor pagination: keyset slicing over sorted keys, and the server-side token registry.

Pages are cut by *key* (e.g. ``start_time + uuid``), not by offset, so a token stays meaningful while records
are inserted or change status between pages, as with a real cursor API. Tokens are random strings mapped to
cursor state on the server: they cannot be forged or computed from an offset.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson

from .tokens import API_BASE

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Cursor:
    endpoint: str  # request path the token belongs to
    principal: str  # user URI it was issued to (a token is useless to anyone else)
    params: Params  # filters of the original request, without count and page_token
    key: str  # boundary key of the page that issued it
    forward: bool  # True: the page after `key` (next); False: the page before it (previous)
    issued: float  # monotonic time of issue, for the optional TTL


@dataclass(frozen=True, slots=True)
class Slice:
    start: int
    end: int
    has_prev: bool
    has_next: bool


def slice_page(keys: Sequence[str], lo: int, hi: int, count: int, desc: bool, key: str | None, forward: bool) -> Slice:
    """Positions [start, end) of one page within ``keys[lo:hi]`` (ascending); the caller reverses when desc.

    ``key``/``forward`` come from the cursor: forward = items after ``key`` in the requested order, backward =
    the ``count`` items right before it. Without a cursor this is the first page.
    """
    if not desc:
        if key is None:
            start, end = lo, min(lo + count, hi)
        elif forward:
            start = bisect_right(keys, key, lo, hi)
            end = min(start + count, hi)
        else:
            end = bisect_left(keys, key, lo, hi)
            start = max(lo, end - count)
        return Slice(start, end, start > lo, end < hi)
    # Descending order walks the ascending keys from the top: "next" moves towards lo.
    if key is None:
        start, end = max(lo, hi - count), hi
    elif forward:
        end = bisect_left(keys, key, lo, hi)
        start = max(lo, end - count)
    else:
        start = bisect_right(keys, key, lo, hi)
        end = min(start + count, hi)
    return Slice(start, end, end < hi, start > lo)


def _new_token() -> str:
    # 32 alphanumeric characters, like Calendly's (e.g. "sNjq4TvMDfUHEl7zHRR0k0E1PCEJWvdi").
    return base64.b64encode(os.urandom(24), altchars=b"Az").decode("ascii")


class PageTokens:
    """Thread-safe registry token -> Cursor, with an optional TTL and a size cap (oldest tokens drop first)."""

    def __init__(
        self,
        ttl_seconds: float | None = None,
        max_tokens: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max = max_tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, Cursor] = OrderedDict()

    def issue(self, endpoint: str, principal: str, params: Params, key: str, forward: bool) -> str:
        token = _new_token()
        cursor = Cursor(endpoint, principal, params, key, forward, self._clock())
        with self._lock:
            self._tokens[token] = cursor
            if len(self._tokens) > self._max:
                self._tokens.popitem(last=False)
        return token

    def redeem(self, token: str, endpoint: str, principal: str) -> Cursor | None:
        """The cursor for ``token``, or None when unknown, expired, or issued for another path or user.

        Redeeming does not consume the token: a client may retry the same page after a 5xx.
        """
        with self._lock:
            cursor = self._tokens.get(token)
        if cursor is None or cursor.endpoint != endpoint or cursor.principal != principal:
            return None
        if self.ttl_seconds is not None and self._clock() - cursor.issued > self.ttl_seconds:
            return None
        return cursor

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)


def page_url(endpoint: str, params: Params, count: int, token: str | None) -> str | None:
    """Absolute next/previous page URL, always on api.calendly.com (never the sandbox's own address)."""
    if token is None:
        return None
    query = sorted([*params, ("count", str(count)), ("page_token", token)])
    return f"{API_BASE}{endpoint}?{urlencode(query)}"


def collection_body(blobs: list[bytes], pagination: dict[str, object], extra: dict[str, object] | None = None) -> bytes:
    """Serialise a list envelope from pre-serialised records (no per-request re-encoding of records).

    ``extra`` adds top-level keys after ``pagination`` (e.g. the activity log's ``total_count``)."""
    body = b'{"collection":[' + b",".join(blobs) + b'],"pagination":' + orjson.dumps(pagination)
    if extra:
        body += b"," + orjson.dumps(extra)[1:-1]
    return body + b"}"


def resource_body(blob: bytes) -> bytes:
    return b'{"resource":' + blob + b"}"
