"""Incremental streams over a re-read window (see `source_calendly.window` for why and how)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin
from airbyte_cdk.sources.streams.http import HttpSubStream

from source_calendly.config import parse_utc
from source_calendly.streams.base import PAGE_SIZE, CalendlyStream
from source_calendly.window import WindowState


def timestamp(record: Mapping[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    try:
        return parse_utc(value) if isinstance(value, str) else None
    except ValueError:
        return None


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

    def __init__(self, **kwargs: Any) -> None:
        self._window = WindowState()
        self._before_pass = self._window  # the state as the sync found it (see abandon_pass)
        self._resume_from: datetime | None = None
        self._newest: datetime | None = None
        self._unfolded = 0
        self._state_dict: Mapping[str, Any] = {}
        super().__init__(**kwargs)

    @property
    def state(self) -> Mapping[str, Any]:
        if self._unfolded >= PAGE_SIZE:
            self._fold()
        return self._state_dict

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._window = WindowState.parse(self.name, value)
        self._state_dict = self._window.to_dict()

    def begin_pass(self, sync_mode: SyncMode) -> None:
        """Open (or resume) this sync's pass; a full refresh ignores any saved state."""
        self._before_pass = self._window
        if sync_mode == SyncMode.full_refresh:
            self._window = WindowState()
        config = self.context.config
        scope = self.scope()
        if not self._window.is_for(scope):
            self.logger.warning(
                f"Stream {self.name}: the saved state describes {self._window.scope}'s records, but this sync reads "
                f"{scope}'s (a token of another user or role). Reading from start_date again, so that no record "
                "is missed; records already in the destination are emitted again."
            )
        self._window = self._window.begin(self.context.account.server_time, config.start_date, config.lookback, scope)
        self._resume_from = self._newest = None
        self._fold()

    def scope(self) -> str:
        """The organization or user URI this stream lists records for (recorded in its state)."""
        return next(iter(self.context.scope_params().values()))

    def note_emitted(self, record: Mapping[str, Any]) -> bool:
        """True if the record changed since the cursor; it then counts towards the pass's newest change."""
        updated = timestamp(record, "updated_at")
        if not self._window.is_new(updated):
            return False
        if updated is not None and (self._newest is None or updated > self._newest):
            self._newest = updated
        self._unfolded += 1
        return True

    def note_progress(self, resume_from: datetime | None, fold: bool = False) -> None:
        """Everything ordered before `resume_from` is handled; `fold` makes the next checkpoint show it."""
        if resume_from is not None and (self._resume_from is None or resume_from > self._resume_from):
            self._resume_from = resume_from
        if fold:
            self._fold()

    def finish_pass(self) -> None:
        self._fold()
        self._window = self._window.finish()
        self._state_dict = self._window.to_dict()

    def abandon_pass(self) -> None:
        """Leave the state as the sync found it: nothing could be read, so nothing may move forward."""
        self._window = self._before_pass
        self._state_dict = self._window.to_dict()

    def _fold(self) -> None:
        if self._window.current is not None:
            self._window = self._window.progress(self._resume_from, self._newest)
        self._state_dict = self._window.to_dict()
        self._unfolded = 0


class FanOutSubStream(HttpSubStream, WindowedStream):
    """A substream whose slices are pages of slim parents (`{"uri", <order_field>}`, never whole records).

    Each parent's children are listed concurrently and emitted in parent order; after a slice, the pass has
    handled every parent ordered before the slice's last one, which is the checkpoint.
    """

    order_field: str  # the parent field parents are listed by, ascending: the resume point

    def parents(self) -> Iterator[Mapping[str, Any]]:
        """The parents this pass visits, oldest first (the pass is open)."""
        raise NotImplementedError

    def children_of(self, parent: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
        """A parent's records and an optional warning; runs on a worker thread, so it logs nothing itself."""
        raise NotImplementedError

    def decorate(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> Mapping[str, Any]:
        return record

    def stream_slices(
        self, sync_mode: SyncMode, cursor_field: list[str] | None = None, stream_state: Mapping[str, Any] | None = None
    ) -> Iterable[Mapping[str, Any] | None]:
        self.begin_pass(sync_mode)
        slim = ({"uri": p["uri"], self.order_field: p.get(self.order_field)} for p in self.parents())
        for batch, last in chunks_with_last(slim):
            yield {"parents": batch, "last": last}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: Any = None,
        stream_slice: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Iterable[Mapping[str, Any]]:
        parents = (stream_slice or {}).get("parents", [])
        for parent, (records, warning) in self.fan_out(parents, self.children_of):
            if warning:
                self.logger.warning(warning)
            for record in records:
                if self.note_emitted(record):
                    yield self.decorate(record, parent)
        if parents:
            self.note_progress(timestamp(parents[-1], self.order_field), fold=True)  # the slice's checkpoint
        if (stream_slice or {}).get("last", True):
            self.finish_pass()
