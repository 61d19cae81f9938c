"""Listings read whole every sync, offered incrementally by difference: only new or changed records and
tombstones for the gone ones are emitted.

For a collection Calendly neither sorts nor filters by change time (meeting recaps), the only complete way to
learn what changed is to read it all. Reading it all costs the same whatever is emitted, so the stream keeps a
short fingerprint per record key in its state (`source_calendly.tombstones`) and emits only the difference:
a destination is not rewritten every sync, and a key that is gone gets a tombstone.

A tombstone is derived only from listings read to their end in this sync (a refusal or failure ends the
stream before anything is compared), and only for a key `confirm_gone` agrees is gone: a listing without a
sort may skip a record that moves between pages while it is read; the check asks Calendly for that one record.

State: the token's user (a token of another user starts over), the key the stored keys follow, and per record
key its fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

from source_calendly.config import config_error, format_utc
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.tracked import UPDATED_AT
from source_calendly.tombstones import KeyCodec, KeyShape, compare, tombstones


@dataclass
class ListingState:
    """What a diffed listing remembers between syncs."""

    scope: str | None = None  # the token's user: whose view of the listing the fingerprints describe
    key: list[list[str]] | None = None
    codec: KeyCodec = field(default_factory=lambda: KeyCodec([]))
    records: dict[str, str] = field(default_factory=dict)  # encoded key -> fingerprint

    @classmethod
    def parse(cls, stream: str, value: Mapping[str, Any] | None) -> ListingState:
        value = value or {}
        records, scope, key = value.get("records", {}), value.get("scope"), value.get("key")
        codec = KeyCodec.parse(value.get("codec", []))
        understood = (
            isinstance(records, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in records.items())
            and isinstance(scope, str | None)
            and (key is None or (isinstance(key, list) and all(isinstance(p, list) for p in key)))
        )
        if not understood or codec is None:
            raise config_error(
                f"The saved state of stream {stream} is not understood. Reset the stream's state (or run a full "
                "refresh of it) to start over."
            )
        return cls(scope, key, codec, dict(records))

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "key": self.key, "codec": self.codec.prefixes, "records": self.records}


class DiffedListingStream(GatedStream, CheckpointMixin):
    """A gated stream whose listings (`listings()`, each a query of `endpoint`) are read whole every sync."""

    cursor_field = UPDATED_AT

    def __init__(self, context: Any) -> None:
        self._state = ListingState()
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state.to_dict()

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._state = ListingState.parse(self.name, value)

    def listings(self) -> Sequence[Mapping[str, str]]:
        """The queries whose records together are the stream, in the order they are read."""
        return [self.request_params()]

    def confirm_gone(self, key: Sequence[Any]) -> bool:
        """Whether a key missing from the complete listings is really gone (a request may tell)."""
        return True

    def listed_records(self) -> Iterator[Mapping[str, Any]]:
        """Every listing's records; a key listed twice (it moved from one listing to a later one while they were
        read) once, as the later listing had it."""
        records: dict[str, Mapping[str, Any]] = {}
        for params in self.listings():
            for record in self.list_own(params):
                records.pop(self.record_key(record), None)  # the later listing's copy, at the end
                records[self.record_key(record)] = record
        yield from records.values()

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        stamp = {UPDATED_AT: format_utc(self.context.account.server_time)}
        if sync_mode != SyncMode.incremental:
            yield from ({**record, **stamp} for record in self.listed_records())
            return
        yield from self._read_changes(stamp)

    def _read_changes(self, stamp: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
        shape = KeyShape.of(self.primary_key)
        key, scope = [list(path) for path in shape.paths], self.context.account.user_uri
        # Read to the end before anything is compared or reset: a refusal or a failure leaves the state as it was.
        records = list(self.listed_records())
        if self._state.scope is not None and self._state.scope != scope:
            self._start_over(f"describes {self._state.scope}'s view, but this sync reads {scope}'s")
        elif self._state.key is not None and self._state.key != key:
            self._start_over(f"keeps its records by {self._state.key}, but the stream's primary key is now {key}")
        state = self._state
        change = compare(state.records, records, shape, state.codec)
        yield from ({**record, **stamp} for record in change.changed)
        kept = {}
        gone = []
        for values in change.gone:
            if self.confirm_gone(values):
                gone.append(values)
            else:  # still there, merely not listed: remembered as before, compared again next sync
                encoded = state.codec.encode(values)
                kept[encoded] = state.records[encoded]
        yield from tombstones(shape, gone, stamp[UPDATED_AT], stamp)
        state.scope, state.key, state.records = scope, key, {**change.children, **kept}

    def _start_over(self, why: str) -> None:
        self.logger.warning(
            f"Stream {self.name}: the saved state {why}. Reading every record again; records already in the "
            "destination are emitted again, and none is deleted."
        )
        self._state = ListingState()
