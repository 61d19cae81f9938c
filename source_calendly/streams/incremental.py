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
    """Holds a `WindowState`; Airbyte's state for the stream is exactly `WindowState.to_dict()`."""

    cursor_field = "updated_at"
    state_checkpoint_interval = PAGE_SIZE

    def __init__(self, **kwargs: Any) -> None:
        self._window = WindowState()
        super().__init__(**kwargs)

    @property
    def state(self) -> Mapping[str, Any]:
        return self._window.to_dict()

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._window = WindowState.parse(self.name, value)

    def begin_pass(self, sync_mode: SyncMode) -> None:
        """Open (or resume) this sync's pass; a full refresh ignores any saved state."""
        if sync_mode == SyncMode.full_refresh:
            self._window = WindowState()
        config = self.context.config
        self._window = self._window.begin(self.context.account.server_time, config.start_date, config.lookback)

    def note_emitted(self, record: Mapping[str, Any]) -> bool:
        """True if the record changed since the cursor; it then counts towards the pass's newest change."""
        updated = timestamp(record, "updated_at")
        if not self._window.is_new(updated):
            return False
        if updated is not None:
            self._window = self._window.progress(None, updated)
        return True

    def note_progress(self, resume_from: datetime | None) -> None:
        self._window = self._window.progress(resume_from, None)

    def finish_pass(self) -> None:
        self._window = self._window.finish()
