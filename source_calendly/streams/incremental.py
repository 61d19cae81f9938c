"""Incremental streams over a re-read window (see `source_calendly.window` for why and how)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin

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
    if pending is not None and chunk:
        yield pending, False
        pending = chunk
    elif pending is None:
        pending = chunk
    yield pending, True


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
        if sync_mode == SyncMode.full_refresh:
            self._window = WindowState()
        config = self.context.config
        self._window = self._window.begin(self.context.account.server_time, config.start_date, config.lookback)
        self._resume_from = self._newest = None
        self._fold()

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

    def _fold(self) -> None:
        if self._window.current is not None:
            self._window = self._window.progress(self._resume_from, self._newest)
        self._state_dict = self._window.to_dict()
        self._unfolded = 0
