"""Per-parent streams read incrementally: a parent's children are re-read only when something says they may
have changed, and only the changed ones (and tombstones for the gone ones) are emitted.

Every sync lists the parents (the listing another stream of the sync usually reads anyway). A parent's children
are read again when:
- the parent is new, or its change signal (a field of the parent record, e.g. the event type's `updated_at`)
  differs from the one kept in state;
- it falls in this sync's rotation slice: the next `recheck_share(history_requests)` parents in key order, so
  that a change no signal shows arrives within ceil(parents / share) syncs;
- a parent that is gone from the listing (read to its end) gets a tombstone for each child it had;
- a parent the stream reads every sync (`always_read`, e.g. webhook subscriptions' organization scope) is read
  every sync, outside the rotation; one whose listing was not read this sync (`listed` False, e.g. groups
  Calendly refused) keeps its entry and is never tombstoned.

State per stream: the listing's scope, the rotation's position, and per parent its signal (a short hash) and its
children's keys with a fingerprint each (see `source_calendly.tombstones`). A parent refused (403) or gone
(404) after the listing named it keeps its previous entry, so it is read again next sync and never tombstoned.

Full refresh reads every parent, as before, and leaves the state alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

from source_calendly.config import config_error, format_utc
from source_calendly.streams.gated import PerParentStream
from source_calendly.tombstones import KeyCodec, KeyShape, compare, short_hash, tombstones

UPDATED_AT = "_ab_cdc_updated_at"  # Calendly's clock when the sync emitted the record: the cursor
RECHECK_DIVISOR = 20  # of history_requests: 10 parents per stream per sync with the default 200


def recheck_share(history_requests: int) -> int:
    """Parents each per-parent stream re-reads per sync whatever the signals say (0 with history_requests 0)."""
    return -(-history_requests // RECHECK_DIVISOR)


@dataclass
class ParentsState:
    """What a tracked per-parent stream remembers between syncs."""

    scope: str | None = None  # the parent listing's scope (organization or user URI)
    rotation: str | None = None  # id of the last parent the rotation re-read
    # parent id (its URI, encoded) -> [signal hash or None, {encoded child key: fingerprint}]
    parents: dict[str, list[Any]] = field(default_factory=dict)
    parent_codec: KeyCodec = field(default_factory=lambda: KeyCodec([]))
    child_codec: KeyCodec = field(default_factory=lambda: KeyCodec([]))
    key: list[list[str]] | None = None  # the children's primary key the stored keys follow

    @classmethod
    def parse(cls, stream: str, value: Mapping[str, Any] | None) -> ParentsState:
        value = value or {}
        parents = value.get("parents", {})
        valid = isinstance(parents, Mapping) and all(
            isinstance(v, list) and len(v) == 2 and isinstance(v[1], Mapping) for v in parents.values()
        )
        codecs = value.get("codecs", {"parent": [], "child": []})
        parent_codec = KeyCodec.parse(codecs.get("parent")) if isinstance(codecs, Mapping) else None
        child_codec = KeyCodec.parse(codecs.get("child")) if isinstance(codecs, Mapping) else None
        scope, rotation, key = value.get("scope"), value.get("rotation"), value.get("key")
        key_understood = key is None or (isinstance(key, list) and all(isinstance(p, list) for p in key))
        understood = valid and key_understood and isinstance(scope, str | None) and isinstance(rotation, str | None)
        if not understood or parent_codec is None or child_codec is None:
            raise config_error(
                f"The saved state of stream {stream} is not understood. Reset the stream's state (or run a full "
                "refresh of it) to start over."
            )
        parents_dict = {k: [v[0], dict(v[1])] for k, v in parents.items()}
        return cls(scope, rotation, parents_dict, parent_codec, child_codec, key)

    def to_dict(self) -> dict[str, Any]:
        codecs = {"parent": self.parent_codec.prefixes, "child": self.child_codec.prefixes}
        return {
            "scope": self.scope,
            "rotation": self.rotation,
            "key": self.key,
            "codecs": codecs,
            "parents": self.parents,
        }


def rotation_slice(ids: Sequence[str], after: str | None, size: int) -> list[str]:
    """The `size` ids that follow `after` in sorted order, wrapping around (each id at most once)."""
    ordered = sorted(ids)
    if not ordered or size <= 0:
        return []
    start = next((i for i, pid in enumerate(ordered) if after is None or pid > after), 0)
    return [ordered[(start + i) % len(ordered)] for i in range(min(size, len(ordered)))]


class TrackedPerParentStream(PerParentStream, CheckpointMixin):
    """A per-parent stream offered incrementally; subclasses declare `signal` (a path into the parent record)."""

    cursor_field = UPDATED_AT
    signal: tuple[str, ...] = ("updated_at",)
    rotates = True  # False: a parent is read again only when its signal changes (its children never change alone)

    def __init__(self, context: Any) -> None:
        self._state = ParentsState()
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.to_dict()

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._state = ParentsState.parse(self.name, value)

    def parents(self) -> Iterator[tuple[str, Any]]:
        """(URI, signal value) of every parent the listing names."""
        for record in self.parent_records():
            yield str(record["uri"]), self.signal_of(record)

    def signal_of(self, record: Mapping[str, Any]) -> Any:
        value: Any = record
        for name in self.signal:
            value = value.get(name) if isinstance(value, Mapping) else None
        return value

    def parent_uris(self) -> Iterator[str]:
        for uri, _ in self.parents():
            yield uri

    def always_read(self, uri: str) -> bool:
        """Whether this parent is read every sync (cheap, or without any signal worth waiting for)."""
        return False

    def listed(self, uri: str) -> bool:
        """Whether this sync's listing could have named this parent (asked after `parents()` was read out): a
        parent kept in state that the listing did not name is gone only if so."""
        return True

    def scope(self) -> str:
        return ",".join(str(v) for v in self.parent.request_params().values())

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        stamp = {UPDATED_AT: format_utc(self.context.account.server_time)}
        if sync_mode != SyncMode.incremental:
            for children in self.read_parents(self.parent_uris()):
                yield from ({**record, **stamp} for record in children.records)
            return
        yield from self._read_changes(stamp)

    def _read_changes(self, stamp: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
        state, shape, scope = self._state, KeyShape.of(self.primary_key), self.scope()
        key = [list(path) for path in shape.paths]
        if state.scope is not None and state.scope != scope:
            self._start_over(
                f"describes {state.scope}'s records, but this sync reads {scope}'s (a token of another user or role)"
            )
        elif state.key is not None and state.key != key:
            self._start_over(f"keeps its records by {state.key}, but the stream's primary key is now {key}")
        state = self._state  # a new one if the sync starts over
        state.scope, state.key = scope, key
        listed = [(uri, None if signal is None else short_hash(signal)) for uri, signal in self.parents()]
        # Encoded with the parents read by rotation first: a new state's codec learns their prefix (the many).
        ordered = sorted(listed, key=lambda parent: self.always_read(parent[0]))
        ids = {uri: state.parent_codec.encode([uri]) for uri, _ in ordered}
        signals = {ids[uri]: signal for uri, signal in listed}
        # The listing was read to its end: a parent missing from it is gone, and so are its children.
        unlisted = {pid for pid in state.parents if not self.listed(state.parent_codec.decode(pid)[0])}
        for pid in [pid for pid in state.parents if pid not in signals and pid not in unlisted]:
            gone = [state.child_codec.decode(key) for key in state.parents[pid][1]]
            yield from tombstones(shape, gone, stamp[UPDATED_AT], stamp)
            del state.parents[pid]
        always = {ids[uri] for uri, _ in listed if self.always_read(uri)}
        rotating = [pid for pid in signals if pid not in always]
        share = recheck_share(self.context.config.history_requests) if self.rotates else 0
        rotation = rotation_slice(rotating, state.rotation, share)
        due = set(rotation) | always
        due |= {pid for pid, signal in signals.items() if pid not in state.parents or state.parents[pid][0] != signal}
        to_read = (uri for uri, _ in listed if ids[uri] in due)
        for children in self.read_parents(to_read):
            if not children.complete:
                continue  # refused or gone since the listing: nothing is concluded, it is read again next sync
            pid = ids[children.parent]
            before = state.parents.get(pid)
            change = compare(before[1] if before else None, children.records, shape, state.child_codec)
            yield from ({**record, **stamp} for record in change.changed)
            yield from tombstones(shape, change.gone, stamp[UPDATED_AT], stamp)
            state.parents[pid] = [signals[pid], change.children]
        if rotation:
            state.rotation = rotation[-1]

    def _start_over(self, why: str) -> None:
        self.logger.warning(
            f"Stream {self.name}: the saved state {why}. Reading every parent again; records already in the "
            "destination are emitted again, and none is deleted."
        )
        self._state = ParentsState()
