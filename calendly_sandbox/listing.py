"""Types the endpoint modules share: who is asking, the query, and a listing to cut pages from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Principal:
    label: str
    user: str
    org: str
    scopes: frozenset[str]


@dataclass(slots=True)
class Listing:
    """Rows in ascending key order; the page is cut from positions [lo, hi)."""

    keys: Sequence[str]
    rows: Sequence[Any]
    lo: int
    hi: int
    desc: bool


Query = dict[str, str]
Handler = Callable[[Principal, Query, Sequence[str]], bytes]
