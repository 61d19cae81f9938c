"""The indexed rows the store keeps: records as orjson blobs, replaced and never edited in place."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

import orjson

from .records import Record


def pack(rec: Record) -> bytes:
    """orjson bytes trimmed to size: orjson 3.13 returns ~8 KiB buffers even for 1 KiB documents, which would
    multiply the memory of 100,000 stored records by eight."""
    return bytes(memoryview(orjson.dumps(rec)))


def uuid_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class Row:
    """A small, rarely-changing record (user, org, membership, event type, routing form, submission)."""

    __slots__ = ("blob", "rec", "uri", "uuid")

    def __init__(self, rec: Record) -> None:
        self.uri: str = rec["uri"]
        self.uuid = uuid_of(self.uri)
        self.rec = rec  # never mutated in place: replaced by `set`
        self.blob = pack(rec)

    def set(self, rec: Record) -> None:
        self.rec = rec
        self.blob = pack(rec)


class EventRow:
    __slots__ = ("blob", "event_type", "hosts", "invitees", "key", "org", "status", "uri", "uuid")

    def __init__(self, rec: Record, org: str) -> None:
        self.uri: str = rec["uri"]
        self.uuid = uuid_of(self.uri)
        self.key = rec["start_time"] + self.uuid  # start_time sorts lexically (fixed format); uuid breaks ties
        self.status: str = rec["status"]
        self.hosts: tuple[str, ...] = tuple(m["user"] for m in rec["event_memberships"])
        self.org = org
        self.event_type: str = rec["event_type"]
        self.invitees: list[InviteeRow] = []  # sorted by key (created_at + uuid)
        self.blob = pack(rec)

    def record(self) -> Record:
        return orjson.loads(self.blob)


class InviteeRow:
    __slots__ = ("blob", "email", "event", "key", "status", "uri", "uuid")

    def __init__(self, rec: Record, event: EventRow) -> None:
        self.uri: str = rec["uri"]
        self.uuid = uuid_of(self.uri)
        self.key = rec["created_at"] + self.uuid
        self.status: str = rec["status"]
        self.email: str = rec["email"].lower()
        self.event = event
        self.blob = pack(rec)

    def record(self) -> Record:
        return orjson.loads(self.blob)


class SortedIndex:
    """Parallel lists of keys and rows in ascending key order (bisect-able)."""

    __slots__ = ("keys", "rows")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.rows: list[Any] = []

    def insert(self, row: Any) -> None:
        i = bisect_left(self.keys, row.key)
        self.keys.insert(i, row.key)
        self.rows.insert(i, row)

    def remove(self, row: Any) -> None:
        i = bisect_left(self.keys, row.key)
        if i < len(self.keys) and self.rows[i] is row:
            del self.keys[i]
            del self.rows[i]


EMPTY_INDEX = SortedIndex()
