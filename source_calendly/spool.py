"""Complete listings kept on disk for the rest of a sync, so that none is requested twice.

scheduled_events and event_invitees both walk the same events (the window is the same when both streams
completed their previous pass together), and routing_forms and routing_form_submissions the same forms.
Whichever stream lists first writes the records to a temporary file as it yields them; the other replays
the file. On disk rather than in memory, so memory stays flat however large the organization. A listing
read only in part (the history walks stop at their budget) is kept as a prefix, for a reader that needs no
more records than it holds.
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
        self._prefixes: dict[Hashable, tuple[Path, int]] = {}  # listings read in part: file, records held
        self._lock = threading.Lock()

    def replay(self, key: Hashable, at_least: int | None = None) -> Iterator[Mapping[str, Any]] | None:
        """The records of a listing completed earlier in this sync, or None. With `at_least`, also the first
        records of a listing read in part, if it holds that many (the reader must not want more)."""
        with self._lock:
            path = self._files.get(key)
            prefix = self._prefixes.get(key)
        if path is None and at_least is not None and prefix is not None and prefix[1] >= at_least:
            path = prefix[0]
        return None if path is None else self._read(path)

    def keep(self, key: Hashable, records: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the records, writing them down; the listing is kept whole if it is read to the end, else as a
        prefix."""
        path = self._new_file()
        held, complete = 0, False
        try:
            with path.open("wb") as out:
                for record in records:
                    out.write(orjson.dumps(record) + b"\n")
                    held += 1
                    yield record
            complete = True
        finally:
            with self._lock:
                if complete:
                    self._files[key] = path
                else:
                    self._prefixes[key] = (path, held)

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
