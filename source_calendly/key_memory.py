"""Which records a re-read range must find again: keys remembered by the instant they are listed by.

The window and the history walk re-read ranges of records ordered by one timestamp (events by `start_time`,
submissions by `created_at`), oldest first. A key the connector saw at an instant of a range it has now read
completely, and that this read did not list, is gone (erased for compliance, deleted): a tombstone. Nothing is
concluded about an instant the read has not passed: not before its start, not past the last record a failed,
partial or budget-stopped read reached, and never about a range that was not read at all (a window that moved
on leaves its old records remembered, for the walk to compare when it gets there).

State (`to_dict`): the key codec's prefixes and, per instant (microseconds since the epoch in base 36), the
keys listed there (`KeyCodec`: a Calendly UUID in 23 characters). With `children`, each key holds its
children's keys too (an event's invitees): those are known only where the children were read, and a parent
gone from a complete range takes them with it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from source_calendly.tombstones import KeyCodec

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant_of(value: datetime) -> int:
    """Microseconds since the epoch: exact, so a range edge never misplaces a record."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _base36(n: int) -> str:
    if n < 0:
        return "-" + _base36(-n)
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
        if n == 0:
            return out


@dataclass(frozen=True)
class Gone:
    """A remembered record a complete read did not list: its key, and its children's keys (if remembered)."""

    instant: int
    key: list[Any]
    children: list[list[Any]] = field(default_factory=list)


@dataclass
class KeyMemory:
    codec: KeyCodec = field(default_factory=lambda: KeyCodec([]))
    # The path of a parent's children after its URI ("invitees": `<event URI>/invitees/<id>`) when each key holds
    # its children's keys; None: keys alone.
    children: str | None = None
    # instant -> encoded key -> encoded children keys (None without `children`, or children never read)
    at: dict[int, dict[str, list[str] | None]] = field(default_factory=dict)

    # state --------------------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, raw: Any, children: str | None = None) -> KeyMemory:
        """The memory a state holds (raises ValueError if it is not one); None or absent: nothing remembered."""
        if raw is None:
            return cls(children=children)
        if not isinstance(raw, Mapping) or set(raw) - {"codec", "keys"}:
            raise ValueError("'keys' is malformed")
        codec = KeyCodec.parse(raw.get("codec", []))
        entries = raw.get("keys", {})
        if codec is None or not isinstance(entries, Mapping):
            raise ValueError("'keys' is malformed")
        at: dict[int, dict[str, list[str] | None]] = {}
        for instant, keys in entries.items():
            try:
                t = int(instant, 36)
            except (TypeError, ValueError):
                raise ValueError(f"'keys' holds the instant {instant!r}") from None
            if children:
                if not isinstance(keys, Mapping) or not all(_strings(v) for v in keys.values()):
                    raise ValueError("'keys' does not map keys to lists of children")
                at[t] = {str(k): list(v) for k, v in keys.items()}
            else:
                if not _strings(keys):
                    raise ValueError("'keys' does not hold lists of keys")
                at[t] = dict.fromkeys(keys)
        return cls(codec, children, at)

    def to_dict(self) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        for t in sorted(self.at):
            entry = self.at[t]
            if self.children:
                keys[_base36(t)] = {k: entry[k] for k in sorted(entry)}
            else:
                keys[_base36(t)] = sorted(entry)
        return {"codec": self.codec.prefixes, "keys": keys}

    def __len__(self) -> int:
        return sum(len(entry) for entry in self.at.values())

    # what was seen ---------------------------------------------------------------------------------------------
    def remember(self, at: datetime, key: list[Any]) -> None:
        """A record listed at `at` (without `children`: with `children`, see `set_children`)."""
        self.at.setdefault(instant_of(at), {}).setdefault(self.codec.encode(key), None)

    def children_of(self, at: datetime, key: list[Any]) -> list[list[Any]] | None:
        """The children remembered for a parent (None: never read)."""
        encoded = self.at.get(instant_of(at), {}).get(self.codec.encode(key))
        return None if encoded is None else [self.child_codec(key).decode(c) for c in encoded]

    def set_children(self, at: datetime, key: list[Any], children: Iterable[list[Any]]) -> None:
        """The parent's children, read completely just now."""
        codec = self.child_codec(key)
        self.at.setdefault(instant_of(at), {})[self.codec.encode(key)] = sorted(codec.encode(c) for c in children)

    def forget(self, gone: Iterable[Gone]) -> None:
        """Drop records found gone (once their tombstones are out)."""
        for record in gone:
            entry = self.at.get(record.instant)
            if entry is None:
                continue
            entry.pop(self.codec.encode(record.key), None)
            if not entry:
                del self.at[record.instant]

    def child_codec(self, parent_key: list[Any]) -> KeyCodec:
        """Children's URIs kept as their ids after the parent's (an invitee's URI is its event's, /invitees/, id)."""
        parent = parent_key[0] if parent_key else None
        return KeyCodec([f"{parent}/{self.children}/"]) if isinstance(parent, str) else KeyCodec([])

    def scan(self, start: datetime | None) -> RangeScan:
        """A read of every record listed at or after `start` (None: from the beginning), oldest first."""
        return RangeScan(self, start)


class RangeScan:
    """One read, in ascending order, of a range that starts at `start`: what it lists (`see`) and how far it is
    complete (`complete_to`) tell which remembered records are gone.

    Records seen are remembered at once (a key that exists is safe to know); records found gone are only returned:
    the caller forgets them once their tombstones are out, so a sync killed in between finds them again.
    """

    def __init__(self, memory: KeyMemory, start: datetime | None) -> None:
        self.memory = memory
        low = None if start is None else instant_of(start)
        instants = sorted(memory.at)
        self._pending = instants[bisect.bisect_left(instants, low) :] if low is not None else instants
        self._next = 0  # the first of _pending not yet compared
        self._low = low
        self._seen: dict[int, set[str]] = {}

    def see(self, at: datetime, key: list[Any]) -> list[Gone]:
        """A record the read listed; returns the remembered records gone before its instant (the read, in
        ascending order, has passed them)."""
        t = instant_of(at)
        if self._low is not None and t < self._low:
            return []  # before the range: tells nothing
        gone = self._conclude(t)
        encoded = self.memory.codec.encode(key)
        self._seen.setdefault(t, set()).add(encoded)
        if not self.memory.children:
            self.memory.at.setdefault(t, {}).setdefault(encoded, None)
        return gone

    def complete_to(self, end: datetime | None) -> list[Gone]:
        """The read listed every record before `end` (None: every record): returns those remembered there and
        gone."""
        return self._conclude(None if end is None else instant_of(end))

    def _conclude(self, end: int | None) -> list[Gone]:
        gone: list[Gone] = []
        while self._next < len(self._pending) and (end is None or self._pending[self._next] < end):
            t = self._pending[self._next]
            self._next += 1
            seen = self._seen.pop(t, set())
            for encoded, children in list(self.memory.at.get(t, {}).items()):
                if encoded in seen:
                    continue
                key = self.memory.codec.decode(encoded)
                kids = [self.memory.child_codec(key).decode(c) for c in children or []]
                gone.append(Gone(t, key, kids))
        return gone


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass
class KeysByParent:
    """A `KeyMemory` per parent whose children are listed by their own time (a routing form's submissions by
    `created_at`): state `{"<parent URI>": memory}`."""

    parents: dict[str, KeyMemory] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> KeysByParent:
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise ValueError("'keys' is malformed")
        return cls({parent: KeyMemory.parse(memory) for parent, memory in raw.items()})

    def to_dict(self) -> dict[str, Any]:
        return {parent: memory.to_dict() for parent, memory in sorted(self.parents.items()) if memory.at}

    @property
    def at(self) -> bool:
        """Whether anything is remembered (as `KeyMemory.at` is truthy)."""
        return any(memory.at for memory in self.parents.values())

    def of(self, parent: str) -> KeyMemory:
        return self.parents.setdefault(parent, KeyMemory())
