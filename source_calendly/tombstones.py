"""What changed among the records of one parent since it was last read, and tombstones for those that went away.

A parent (an event type, a user, a page a walk re-reads) lists children. Between syncs, each child is remembered
by its primary key and a short fingerprint of its record, kept compactly in the stream's state. Reading the
parent again gives three kinds of children: new or changed ones (emitted), unchanged ones (skipped), and keys
that are gone: a tombstone, the key with `_ab_cdc_deleted_at` set, which a deduplicating destination turns
into a delete (Airbyte's CDC convention).

A tombstone is only ever derived from a parent read completely just now. A parent that was refused (403),
failed, or not visited this sync keeps its previous children as they were: the caller simply does not compare.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

DELETED_AT = "_ab_cdc_deleted_at"
FINGERPRINT_LENGTH = 8  # hex characters: 32 bits, a missed change once in four billion changes
# Calendly's resource URIs all start with this; state keeps only what follows it.
API_BASE = "https://api.calendly.com/"
_RELATIVE = "~/"

PrimaryKey = str | Sequence[str] | Sequence[Sequence[str]] | None


def fingerprint(record: Mapping[str, Any], ignore: Iterable[str] = ()) -> str:
    """A short hash of the record's content, the same whatever the order of its fields."""
    skipped = set(ignore)
    content = {k: v for k, v in record.items() if k not in skipped} if skipped else record
    digest = hashlib.blake2b(orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
    return digest[:FINGERPRINT_LENGTH]


def short_hash(value: Any) -> str:
    """A parent's change signal (its `updated_at`, say) as it is kept in state."""
    return hashlib.blake2b(orjson.dumps(value), digest_size=4).hexdigest()


@dataclass(frozen=True)
class KeyShape:
    """An Airbyte primary key as paths into the record: "uri", ["a", "b"] or [["a"], ["b", "uri"]]."""

    paths: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, primary_key: PrimaryKey) -> KeyShape:
        if isinstance(primary_key, str):
            return cls(((primary_key,),))
        paths = tuple((p,) if isinstance(p, str) else tuple(p) for p in primary_key or ())
        if not paths:
            raise ValueError("a stream without a primary key cannot be tracked for deletions")
        return cls(paths)

    def values(self, record: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for path in self.paths:
            value: Any = record
            for name in path:
                value = value.get(name) if isinstance(value, Mapping) else None
            out.append(value)
        return out

    def record(self, values: Sequence[Any]) -> dict[str, Any]:
        """The smallest record that carries these key values (nested paths become nested objects)."""
        out: dict[str, Any] = {}
        for path, value in zip(self.paths, values, strict=True):
            node = out
            for name in path[:-1]:
                node = node.setdefault(name, {})
            node[path[-1]] = value
        return out


def encode_key(values: Sequence[Any]) -> str:
    """Key values as a JSON list (Calendly URIs without their common `https://api.calendly.com/`)."""
    short = [_RELATIVE + v[len(API_BASE) :] if isinstance(v, str) and v.startswith(API_BASE) else v for v in values]
    return orjson.dumps(short).decode()


def decode_key(encoded: str) -> list[Any]:
    values = orjson.loads(encoded)
    return [API_BASE + v[len(_RELATIVE) :] if isinstance(v, str) and v.startswith(_RELATIVE) else v for v in values]


SEPARATOR = " "
_PACKED = "~"  # marks an id packed from a canonical UUID (36 characters) into 22


def _pack(tail: str) -> str | None:
    """A lowercase canonical UUID as 22 base64url characters; None for anything else."""
    if len(tail) != 36 or tail.lower() != tail:
        return None
    try:
        value = uuid.UUID(tail)
    except ValueError:
        return None
    if str(value) != tail:
        return None
    return _PACKED + base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def _unpack(tail: str) -> str:
    if not tail.startswith(_PACKED):
        return tail
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(tail[len(_PACKED) :] + "==")))


@dataclass
class KeyCodec:
    """Keys as short strings for state: the prefix of each key value (a Calendly URI up to its id) is kept
    once, so a key of one URI is its id alone, and an id that is a UUID is packed into 22 characters. Learned
    from the first key seen; a key that does not fit is kept whole as a JSON list (it starts with "[", which
    an id kept here never does)."""

    prefixes: list[str | None]

    @classmethod
    def parse(cls, value: Any) -> KeyCodec | None:
        if isinstance(value, list) and all(isinstance(p, str | None) for p in value):
            return cls(list(value))
        return None

    def encode(self, values: Sequence[Any]) -> str:
        if not self.prefixes:
            self.prefixes = [v[: v.rindex("/") + 1] if isinstance(v, str) and "/" in v else None for v in values]
        tails: list[str] = []
        for value, prefix in zip(values, self.prefixes, strict=False):
            fits = isinstance(value, str) and prefix is not None and value.startswith(prefix)
            tail = value[len(prefix) :] if fits else ""  # type: ignore[index,arg-type]
            if not fits or not tail or tail.startswith(("[", _PACKED)) or SEPARATOR in tail:
                return encode_key(values)
            tails.append(_pack(tail) or tail)
        return SEPARATOR.join(tails) if len(tails) == len(values) == len(self.prefixes) else encode_key(values)

    def decode(self, encoded: str) -> list[Any]:
        if encoded.startswith("["):
            return decode_key(encoded)
        tails = encoded.split(SEPARATOR)
        return [f"{prefix}{_unpack(tail)}" for prefix, tail in zip(self.prefixes, tails, strict=True)]


@dataclass
class Comparison:
    """One parent's children just read, against what its state remembered."""

    changed: list[Mapping[str, Any]]  # new or different since the last read: emit
    gone: list[list[Any]]  # key values of children the last read had and this one has not: tombstone
    children: dict[str, str]  # encoded key -> fingerprint: the parent's state from now on


def compare(
    previous: Mapping[str, str] | None,
    records: Iterable[Mapping[str, Any]],
    shape: KeyShape,
    codec: KeyCodec | None = None,
    ignore: Iterable[str] = (),
) -> Comparison:
    """Compare a parent's children, read completely just now, with those remembered (None: never read).
    Keys are encoded with `codec` (the same one for every sync of a stream), else as JSON lists."""
    remembered = previous or {}
    encode = codec.encode if codec is not None else encode_key
    decode = codec.decode if codec is not None else decode_key
    changed: list[Mapping[str, Any]] = []
    children: dict[str, str] = {}
    ignored = tuple(ignore)
    for record in records:
        key = encode(shape.values(record))
        mark = fingerprint(record, ignored)
        if remembered.get(key) != mark:
            changed.append(record)
        children[key] = mark
    gone = [decode(key) for key in remembered if key not in children]
    return Comparison(changed, gone, children)


def tombstone(shape: KeyShape, values: Sequence[Any], deleted_at: str, also: Mapping[str, Any] | None = None) -> dict:
    """The record a deduplicating destination deletes by: the key, `_ab_cdc_deleted_at`, and `also` (the
    stream's cursor set to the same time, so that the tombstone is the key's newest version)."""
    return {**shape.record(values), **(also or {}), DELETED_AT: deleted_at}


def tombstones(
    shape: KeyShape, gone: Iterable[Sequence[Any]], deleted_at: str, also: Mapping[str, Any] | None = None
) -> list[dict]:
    return [tombstone(shape, values, deleted_at, also) for values in gone]
