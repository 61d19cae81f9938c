"""Incremental streams over a re-read window (see `source_calendly.window` for why and how)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airbyte_cdk.models import AirbyteMessage, SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.http import HttpSubStream

from source_calendly.config import config_error, format_utc, parse_utc
from source_calendly.key_memory import Gone, KeyMemory, RangeScan
from source_calendly.streams.base import PAGE_SIZE, CalendlyStream
from source_calendly.tombstones import DELETED_AT
from source_calendly.window import WindowState, state_from_the_future

GROUP_KEY_LENGTH = 12  # characters kept of a group event's id in the fingerprints: 48 random bits


@dataclass(frozen=True)
class HistoryShares:
    """How a sync's history budget (requests) is split between the three walks.

    Listing events is cheap (100 a request) and submissions are few, so each gets a tenth; the invitee walk,
    one request per event, gets the rest.
    """

    event_pages: int
    invitee_requests: int
    submission_pages: int

    @classmethod
    def of(cls, budget: int) -> HistoryShares:
        tenth = -(-budget // 10)
        return cls(event_pages=tenth, invitee_requests=max(0, budget - 2 * tenth), submission_pages=tenth)

    @property
    def invitee_events(self) -> int:
        """Events whose invitees the walk reads: n invitee requests plus the event pages listing n + 1 events
        (one more, to end the step between two start times) fit in the share."""
        n = self.invitee_requests
        while n > 0 and n + -(-(n + 1) // PAGE_SIZE) > self.invitee_requests:
            n -= 1
        return n


def group_fingerprint(event: Mapping[str, Any]) -> tuple[str, tuple[int, int]] | None:
    """(key, (total, active)) for an active event more than one invitee can book, else None.

    When a group invitee books or cancels, only the event's `invitees_counter` changes, and Calendly does not
    promise that its `updated_at` moves (nor that it stays). `total` counts every booking and
    `active` drops with every cancellation, so any booking or cancellation changes the pair. A canceled event
    needs none: cancelling moves its `updated_at`, and nothing can be booked on it afterwards.
    """
    counter = event.get("invitees_counter")
    if event.get("status") != "active" or not isinstance(counter, Mapping):
        return None
    limit, total, active = counter.get("limit"), counter.get("total"), counter.get("active")
    if not (isinstance(limit, int) and limit > 1 and isinstance(total, int) and isinstance(active, int)):
        return None
    return short_key(str(event.get("uri", ""))), (total, active)


def short_key(uri: str) -> str:
    """The end of a record's id, as the state keeps it (48 random bits: enough to tell records apart)."""
    return uri.rstrip("/").rsplit("/", 1)[-1][-GROUP_KEY_LENGTH:]


def timestamp(record: Mapping[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    try:
        return parse_utc(value) if isinstance(value, str) else None
    except ValueError:
        return None


def see(scan: RangeScan | None, record: Mapping[str, Any], field: str = "start_time") -> list[Gone]:
    """Note a listed record in a scan (if the sync tracks deletions): the remembered records it shows gone."""
    at = timestamp(record, field)
    if scan is None or at is None or not isinstance(record.get("uri"), str):
        return []
    return scan.see(at, [record["uri"]])


def chunks_with_last(items: Iterable[Any], size: int = PAGE_SIZE) -> Iterator[tuple[list[Any], bool]]:
    """Group items into lists of `size`, flagging the last one (always at least one, possibly empty).

    Looking one chunk ahead is what lets a substream close its pass inside its last slice, where the CDK
    still takes a checkpoint.
    """
    pending: list[Any] | None = None
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            if pending is not None:
                yield pending, False
            pending, chunk = chunk, []
    if chunk:
        if pending is not None:
            yield pending, False
        pending = chunk
    yield pending or [], True


class WindowedStream(CalendlyStream, CheckpointMixin):
    """Holds a `WindowState`; Airbyte's state for the stream is exactly `WindowState.to_dict()`.

    The CDK reads `state` after every record, so progress is kept in plain attributes and folded into the
    state once per page of records: a checkpoint may lag the records by up to a page, which only means a
    resumed sync re-reads (and re-emits) a little more, never less.
    """

    cursor_field = "updated_at"
    state_checkpoint_interval = PAGE_SIZE
    # Whether the stream remembers the keys its re-read ranges listed (state `keys`, see `key_memory`), to send a
    # tombstone for one a complete re-read no longer lists; `key_children` names the children each key holds.
    tracks_deletions = False
    key_children: str | None = None

    def __init__(self, **kwargs: Any) -> None:
        self._window = WindowState()
        self._keys = self.new_keys()
        self._tracking = False  # this sync compares (an incremental one of a stream that tracks deletions)
        self._before_pass = self._window  # the state as the sync found it (see abandon_pass)
        self._resume_from: datetime | None = None
        self._newest: datetime | None = None
        self._groups: dict[str, tuple[int, int]] = {}
        self._unfolded = 0
        self._state_dict: Mapping[str, Any] = {}
        super().__init__(**kwargs)
        # The config can turn the key memory off (track_deletions: false): no keys kept, no tombstones.
        self.tracks_deletions = type(self).tracks_deletions and self.context.config.track_deletions

    @property
    def state(self) -> Mapping[str, Any]:
        if self._unfolded >= PAGE_SIZE:
            self._fold()
        return self._state_dict

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        window = dict(value or {}) if isinstance(value, Mapping) else value
        # A memory saved while tracking was on is dropped when it is off: the next state holds no keys.
        keys = window.pop("keys", None) if isinstance(window, dict) else None
        keys = keys if self.tracks_deletions else None
        self._window = WindowState.parse(self.name, window)
        try:
            self._keys = self.parse_keys(keys)
        except ValueError as error:
            raise config_error(
                f"The saved state of stream {self.name} cannot be understood ({error}). Clear it and start over: in "
                "Airbyte, refresh or reset the stream's data (Connection > Settings > Refresh), or run read "
                "without --state."
            ) from None
        self._snapshot()

    def new_keys(self) -> Any:
        """An empty key memory (see `key_memory`)."""
        return KeyMemory(children=self.key_children)

    def parse_keys(self, raw: Any) -> Any:
        """The key memory a saved state holds (ValueError if it is not one)."""
        return KeyMemory.parse(raw, self.key_children)

    def _snapshot(self) -> None:
        self._state_dict = self._window.to_dict()
        if self.tracks_deletions and self._keys.at:
            self._state_dict["keys"] = self._keys.to_dict()

    def begin_pass(self, sync_mode: SyncMode) -> None:
        """Open (or resume) this sync's pass; a full refresh ignores any saved state."""
        self._before_pass = self._window
        self._tracking = self.tracks_deletions and sync_mode == SyncMode.incremental
        if sync_mode == SyncMode.full_refresh:
            self._window = WindowState()
            self._keys = self.new_keys()
        config = self.context.config
        scope = self.scope()
        if not self._window.is_for(scope):
            self._keys = self.new_keys()  # another scope's keys: none is concluded gone
            self.logger.warning(
                f"Stream {self.name}: the saved state describes {self._window.scope}'s records, but this sync reads "
                f"{scope}'s (a token of another user or role). Reading from start_date again, so that no record "
                "is missed; records already in the destination are emitted again."
            )
        now = self.context.account.server_time
        ahead = self._window.ahead_of(now)
        if ahead is not None:
            self.logger.warning(state_from_the_future(self.name, ahead, now))
            self._window = WindowState(scope=self._window.scope)
            self._keys = self.new_keys()
        self._window = self._window.begin(now, config.start_date, config.lookback, scope)
        self._resume_from = self._newest = None
        self._groups = dict(self._window.current.groups) if self._window.current else {}
        self._fold()

    def scope(self) -> str:
        """The organization or user URI this stream lists records for (recorded in its state)."""
        return next(iter(self.context.scope_params().values()))

    def key_scan(self, start: datetime | None) -> RangeScan | None:
        """A scan of a range this sync reads completely from `start` (None: not tracking deletions)."""
        return self._keys.scan(start) if self._tracking else None

    def deleted(self, gone: list[Gone]) -> Iterator[Mapping[str, Any]]:
        """Tombstones for records found gone, then forgets them: a checkpoint taken while they go out still
        remembers them, so a sync killed in between finds them gone again."""
        if not gone:
            return
        at = self.deleted_at()
        for record in gone:
            yield self.tombstone(record.key, at)
        self._keys.forget(gone)

    def deleted_at(self) -> str:
        """A tombstone's time: Calendly's clock at this sync."""
        return format_utc(self.context.account.server_time)

    def tombstone(self, key: list[Any], at: str, extra: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """The record a deduplicating destination deletes by: the key, the cursor at the deletion's time (so
        that it is the key's newest version), and `_ab_cdc_deleted_at`."""
        return {"uri": key[0], **(extra or {}), "updated_at": at, DELETED_AT: at}

    def note_emitted(self, record: Mapping[str, Any]) -> bool:
        """True if the record changed since the cursor; it then counts towards the pass's newest change."""
        updated = timestamp(record, "updated_at")
        if not self._window.is_new(updated):
            return False
        self._count_emitted(updated)
        return True

    def note_walk_emitted(self, record: Mapping[str, Any]) -> bool:
        """True if a record the history walk reads changed since the walk last passed it (see `window`)."""
        updated = timestamp(record, "updated_at")
        since = self._window.history.since if self._window.history else None
        if since is not None and updated is not None and updated <= since:
            return False
        self._count_emitted(updated)
        return True

    def _count_emitted(self, updated: datetime | None) -> None:
        if updated is not None and (self._newest is None or updated > self._newest):
            self._newest = updated
        self._unfolded += 1

    def group_changed(self, event: Mapping[str, Any]) -> bool:
        """Fingerprint an active group event; True if its counter differs from the last pass's (or that pass
        did not see it: then it is new since, or the state predates fingerprints)."""
        fingerprint = group_fingerprint(event)
        if fingerprint is None:
            return False
        key, value = fingerprint
        # Kept only for events the next pass will list again: its window starts a lookback before this one.
        start = timestamp(event, "start_time")
        assert self._window.current is not None, "begin_pass() first"
        if start is None or start >= self._window.current.started_at - self.context.config.lookback:
            self._groups[key] = value
        previous = self._window.groups
        return previous is None or previous.get(key) != value

    def history_range(self) -> tuple[datetime | None, datetime] | None:
        """(from, to) of what the history walk has left this cycle, or None when this pass has no history
        before its window (a first sync reads it all) or the walk is turned off."""
        window = self._window
        assert window.current is not None, "begin() first"
        end = window.current.window_start
        if end is None or self.context.config.history_requests <= 0:
            return None
        start_date = self.context.config.start_date
        if start_date is not None and end <= start_date:
            return None
        position = window.history.position if window.history else None
        start = position if position is not None else start_date
        return start, end

    def history_shares(self) -> HistoryShares:
        return HistoryShares.of(self.context.config.history_requests)

    def note_walked(self, position: datetime | None, visited: Iterable[str] = ()) -> None:
        """The walk handled everything before `position` and the records at it named in `visited` (keys, see
        `short_key`); None: it reached the window and starts over."""
        self._fold()
        self._window = self._window.walked(position, frozenset(visited))
        self._snapshot()

    def note_progress(self, resume_from: datetime | None, fold: bool = False) -> None:
        """Everything ordered before `resume_from` is handled; `fold` makes the next checkpoint show it."""
        if resume_from is not None and (self._resume_from is None or resume_from > self._resume_from):
            self._resume_from = resume_from
        if fold:
            self._fold()

    def finish_pass(self) -> None:
        self._fold()
        self._window = self._window.finish()
        self._snapshot()

    def abandon_pass(self) -> None:
        """Leave the state as the sync found it: nothing could be read, so nothing may move forward."""
        self._window = self._before_pass
        self._snapshot()

    def _fold(self) -> None:
        if self._window.current is not None:
            self._window = self._window.progress(self._resume_from, self._newest, self._groups)
        self._snapshot()
        self._unfolded = 0


class Unread(list):  # type: ignore[type-arg]
    """No children, because the parent's children could not be read (it was gone by then): nothing is concluded."""


class Listed(list):  # type: ignore[type-arg]
    """A parent's children as read, listed completely from `complete_from` on (None: all of them)."""

    def __init__(self, records: Iterable[Any], complete_from: datetime | None) -> None:
        super().__init__(records)
        self.complete_from = complete_from


class FanOutSubStream(HttpSubStream, WindowedStream):
    """A substream whose slices are pages of slim parents (`{"uri", <order_field>}`, never whole records).

    Each parent's children are listed concurrently and emitted in parent order; after a slice, the pass has
    handled every parent ordered before the slice's last one, which is the checkpoint.
    """

    order_field: str  # the parent field parents are listed by, ascending: the resume point
    _expected_children = 0  # the row estimate so far (see children_expected)

    def parents(self) -> Iterator[Mapping[str, Any]]:
        """The parents this pass visits, oldest first (the pass is open)."""
        raise NotImplementedError

    def children_of(self, parent: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
        """A parent's records and an optional warning; runs on a worker thread, so it logs nothing itself."""
        raise NotImplementedError

    def decorate(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> Mapping[str, Any]:
        return record

    def history_slices(self) -> Iterator[Mapping[str, Any]]:
        """Slices of the history walk, run before the window: `{"history": [parents], "walked_to": str|None,
        "visited": [keys of parents at walked_to already visited]}`."""
        return iter(())

    def is_emitted(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> bool:
        return self.note_emitted(record)

    def after_slice(self, parents: list[Mapping[str, Any]]) -> None:
        """Called once a slice's records are out, before its checkpoint."""

    def note_children(self, parent: Mapping[str, Any], records: list[Mapping[str, Any]], emitted: list[bool]) -> None:
        """Called with each parent's records and which of them were emitted."""

    def children_read(self, parent: Mapping[str, Any], records: list[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
        """Called with a parent's children read completely just now, once they are out: tombstones to send."""
        return ()

    def parents_gone(self) -> Iterable[Mapping[str, Any]]:
        """Called before each slice: tombstones for the children of parents the listings found gone so far."""
        return ()

    def slim(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        """What a slice keeps of a parent (never the whole record)."""
        return {"uri": parent["uri"], self.order_field: parent.get(self.order_field)}

    def children_expected(self, parent: Mapping[str, Any]) -> int | None:
        """How many children a (slim) parent says it has, if it says; summed into the stream's row estimate."""
        return None

    def _estimate(self, parents: list[Mapping[str, Any]]) -> Iterator[AirbyteMessage]:
        """An ESTIMATE message once a slice's parents are known: the children of every parent sliced so far.

        It grows slice by slice (parents are listed as the read goes), and counts children the incremental
        filter may then leave out, so it is an upper bound of the rows this sync emits.
        """
        expected = [self.children_expected(parent) for parent in parents]
        if not parents or any(n is None for n in expected):
            return
        self._expected_children += sum(n or 0 for n in expected)
        message = self.context.progress.estimate(self._expected_children)
        if message is not None:
            yield message

    def stream_slices(
        self, sync_mode: SyncMode, cursor_field: list[str] | None = None, stream_state: Mapping[str, Any] | None = None
    ) -> Iterable[Mapping[str, Any] | None]:
        self.begin_pass(sync_mode)
        yield from self.history_slices()
        for batch, last in chunks_with_last(self.slim(p) for p in self.parents()):
            yield {"parents": batch, "last": last}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Any = None,
        stream_slice: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Iterable[Mapping[str, Any]]:
        stream_slice = stream_slice or {}
        yield from self._estimate(stream_slice.get("history") or stream_slice.get("parents") or [])
        yield from self.parents_gone()
        if "history" in stream_slice:
            for parent, (records, warning) in self.fan_out(stream_slice["history"], self.children_of):
                if warning:
                    self.logger.warning(warning)
                emitted = [self.note_walk_emitted(record) for record in records]
                self.note_children(parent, records, emitted)
                for record, emit in zip(records, emitted, strict=True):
                    if emit:
                        yield self.decorate(record, parent)
                if not isinstance(records, Unread):
                    yield from self.children_read(parent, records)
            walked_to = stream_slice.get("walked_to")
            self.note_walked(parse_utc(walked_to) if walked_to else None, stream_slice.get("visited", ()))
            return
        parents = stream_slice.get("parents", [])
        for parent, (records, warning) in self.fan_out(parents, self.children_of):
            if warning:
                self.logger.warning(warning)
            emitted = [self.is_emitted(record, parent) for record in records]
            self.note_children(parent, records, emitted)
            for record, emit in zip(records, emitted, strict=True):
                if emit:
                    yield self.decorate(record, parent)
            if not isinstance(records, Unread):
                yield from self.children_read(parent, records)
        self.after_slice(parents)
        if parents:
            self.note_progress(timestamp(parents[-1], self.order_field), fold=True)  # the slice's checkpoint
        if (stream_slice or {}).get("last", True):
            self.finish_pass()
