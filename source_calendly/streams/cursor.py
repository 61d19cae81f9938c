"""Incremental streams whose records carry a timestamp Calendly can list by: a plain cursor, no window.

Two ways to read from a cursor, declared per stream:
- the endpoint filters on it (`min_param`, e.g. `min_occurred_at`): every page is new;
- the endpoint sorts by it, newest first (`newest_first`): the listing stops at the first record at or before
  the cursor, usually within the first page.

Emitted are the records newer than the cursor, and those at the cursor's instant that were not emitted before:
the state keeps the keys of the records emitted at that instant (`keys_at_cursor`, usually one), so a record
that shows up later with the same timestamp as the saved cursor is not lost, and the others are not emitted
twice. The listing asks from just before the cursor (see `source_calendly.bounds`), so the instant is included
whether Calendly reads `min_*` as "at or after" or "strictly after". The cursor then moves to the newest value
emitted, but never past the sync's start on Calendly's clock, and only once the listing is read to its end: a
sync that stops halfway leaves the cursor where it was, so the next one reads the same records again rather than
lose any. A refused stream (see GatedStream) leaves it untouched too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

from source_calendly.bounds import Floor
from source_calendly.config import config_error, format_utc, parse_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.incremental import timestamp
from source_calendly.window import state_from_the_future

KEYS_AT_CURSOR = "keys_at_cursor"


class CursorStream(GatedStream, CheckpointMixin):
    """Subclasses declare `cursor_field` and either `min_param` or `newest_first` (with `sort`)."""

    cursor_field: str
    min_param: str | None = None  # the query parameter that lists records from a cursor value (see `bounds`)
    newest_first: bool = False  # the listing is sorted by the cursor, descending: stop at the cursor
    sort: str | None = None  # the `sort` query parameter, when the endpoint takes one
    keyset: Keyset | None = None  # a listing sorted ascending by a field it can restart at (expired page tokens)

    def __init__(self, context: Any) -> None:
        self._cursor: datetime | None = None
        self._at_cursor: frozenset[str] = frozenset()  # keys of the records emitted at the cursor's instant
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        if not self._cursor:
            return {}
        state: dict[str, Any] = {self.cursor_field: format_utc(self._cursor)}
        if self._at_cursor:
            state[KEYS_AT_CURSOR] = sorted(self._at_cursor)
        return state

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        saved = (value or {}).get(self.cursor_field)
        keys = (value or {}).get(KEYS_AT_CURSOR, [])
        if saved is None:
            self._cursor, self._at_cursor = None, frozenset()
            return
        try:
            self._cursor = parse_utc(str(saved))
        except ValueError:
            raise config_error(
                f"The saved state of stream {self.name} is not understood: {self.cursor_field} is {saved!r}, not a UTC "
                "date-time. Reset the stream's state (or run a full refresh of it) to start over."
            ) from None
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise config_error(
                f"The saved state of stream {self.name} is not understood: {KEYS_AT_CURSOR} is {keys!r}, not a list "
                "of strings. Reset the stream's state (or run a full refresh of it) to start over."
            )
        self._at_cursor = frozenset(keys)

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        since = self._cursor if sync_mode == SyncMode.incremental else None
        sync_start = self.context.account.server_time
        if since is not None and since > sync_start:
            self.logger.warning(state_from_the_future(self.name, since, sync_start))
            since = None
        if since is not None:
            self.check_cursor_age(since)
        seen = self._at_cursor if since is not None else frozenset()  # emitted at `since` by an earlier sync
        since = since or self.context.config.start_date
        params = dict(self.request_params())
        if self.sort:
            params["sort"] = self.sort
        floor = Floor(self.cursor_field, self.min_param, since) if self.min_param and since is not None else None
        newest, at_newest = since, set(seen)
        for record in self.list_own(params, keyset=self.keyset, floor=floor):
            value = timestamp(record, self.cursor_field)
            key = self.record_key(record)
            if since is not None and value is not None:
                if value < since:
                    if self.newest_first:
                        break  # everything after this is older still
                    continue
                if value == since and key in seen:
                    continue
            yield record
            if value is None:
                continue
            capped = min(value, sync_start)  # a record changed while the sync runs is read again next time
            if newest is None or capped > newest:
                newest, at_newest = capped, set()
            if value == newest:
                at_newest.add(key)
        if newest is not None and sync_mode == SyncMode.incremental:
            self._cursor, self._at_cursor = newest, frozenset(at_newest)

    def check_cursor_age(self, cursor: datetime) -> None:
        """Called with the saved cursor before reading; a stream whose records expire warns here."""
