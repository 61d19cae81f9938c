"""Incremental streams whose records carry a timestamp Calendly can list by: a plain cursor, no window.

Two ways to read from a cursor, declared per stream:
- the endpoint filters on it (`min_param`, e.g. `min_occurred_at`): every page is new;
- the endpoint sorts by it, newest first (`newest_first`): the listing stops at the first record at or before
  the cursor, usually within the first page.

Emitted are the records strictly newer than the cursor. The cursor then moves to the newest value emitted, but
never past the sync's start on Calendly's clock, and only once the listing is read to its end: a sync that
stops halfway leaves the cursor where it was, so the next one reads the same records again rather than lose any.
A refused stream (see GatedStream) leaves it untouched too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

from source_calendly.config import config_error, format_utc, parse_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.incremental import timestamp
from source_calendly.window import state_from_the_future


class CursorStream(GatedStream, CheckpointMixin):
    """Subclasses declare `cursor_field` and either `min_param` or `newest_first` (with `sort`)."""

    cursor_field: str
    min_param: str | None = None  # the query parameter that lists records at or after a cursor value
    newest_first: bool = False  # the listing is sorted by the cursor, descending: stop at the cursor
    sort: str | None = None  # the `sort` query parameter, when the endpoint takes one
    keyset: Keyset | None = None  # a listing sorted ascending by a field it can restart at (expired page tokens)

    def __init__(self, context: Any) -> None:
        self._cursor: datetime | None = None
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        return {self.cursor_field: format_utc(self._cursor)} if self._cursor else {}

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        saved = (value or {}).get(self.cursor_field)
        if saved is None:
            self._cursor = None
            return
        try:
            self._cursor = parse_utc(str(saved))
        except ValueError:
            raise config_error(
                f"The saved state of stream {self.name} is not understood: {self.cursor_field} is {saved!r}, not a UTC "
                "date-time. Reset the stream's state (or run a full refresh of it) to start over."
            ) from None

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        since = self._cursor if sync_mode == SyncMode.incremental else None
        sync_start = self.context.account.server_time
        if since is not None and since > sync_start:
            self.logger.warning(state_from_the_future(self.name, since, sync_start))
            since = None
        if since is not None:
            self.check_cursor_age(since)
        since = since or self.context.config.start_date
        params = dict(self.request_params())
        if self.sort:
            params["sort"] = self.sort
        if self.min_param and since is not None:
            params[self.min_param] = format_utc(since)
        newest = since
        for record in self.list_own(params, keyset=self.keyset):
            value = timestamp(record, self.cursor_field)
            if since is not None and value is not None and value <= since:
                if self.newest_first:
                    break  # everything after this is older still
                continue
            yield record
            if value is not None:
                value = min(value, sync_start)  # a record changed while the sync runs is read again next time
                newest = value if newest is None or value > newest else newest
        if newest is not None and sync_mode == SyncMode.incremental:
            self._cursor = newest

    def check_cursor_age(self, cursor: datetime) -> None:
        """Called with the saved cursor before reading; a stream whose records expire warns here."""
