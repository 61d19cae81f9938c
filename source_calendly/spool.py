"""Complete listings kept on disk for the rest of a sync, so that none is requested twice.

scheduled_events and event_invitees both walk the same events (the window is the same when both streams
completed their previous pass together), and routing_forms and routing_form_submissions the same forms.
Whichever stream lists first writes the records to a temporary file as it yields them; the other replays
the file. On disk rather than in memory, so memory stays flat however large the organization.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson


class ListingSpool:
    def __init__(self) -> None:
        self._dir: Path | None = None
        self._files: dict[Hashable, Path] = {}
        self._lock = threading.Lock()

    def replay(self, key: Hashable) -> Iterator[Mapping[str, Any]] | None:
        """The records of a listing completed earlier in this sync, or None."""
        with self._lock:
            path = self._files.get(key)
        return None if path is None else self._read(path)

    def keep(self, key: Hashable, records: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the records, writing them down; the listing is kept only if it is read to the end."""
        path = self._new_file()
        with path.open("wb") as out:
            for record in records:
                out.write(orjson.dumps(record) + b"\n")
                yield record
        with self._lock:
            self._files[key] = path

    @staticmethod
    def _read(path: Path) -> Iterator[Mapping[str, Any]]:
        with path.open("rb") as lines:
            for line in lines:
                yield orjson.loads(line)

    def _new_file(self) -> Path:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="source-calendly-"))
                weakref.finalize(self, shutil.rmtree, self._dir, True)
            return Path(tempfile.mkstemp(dir=self._dir, suffix=".jsonl")[1])
