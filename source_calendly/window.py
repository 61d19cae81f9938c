"""Incremental state for streams that Calendly can only list by a time they do not change on.

Calendly has no `updated_at` filter. Events are listed by `start_time`, invitees per event, submissions per
form by `created_at`. So each sync re-reads a window — everything that starts (or was created) at or after
`window start` — and emits what has `updated_at` newer than the cursor. The window start is the previous
sync's start minus `lookback_days`, never the cursor itself, so neither a booking for a time earlier than
already-synced future events nor a change to a recent event is missed, and the window does not drift back
when nothing changes.

Two more things keep a sync's cost proportional to what changed:

- `groups`: a fingerprint (`[total, active]` of `invitees_counter`) of every active group event the last
  pass listed, keyed by the end of its id. A group invitee booking or cancelling changes the counter, and
  Calendly does not promise to move the event's `updated_at`: comparing fingerprints finds those events
  without emitting (or reading the invitees of) every group event every time.
- `history`: a walk over what lies before the window, oldest first, a bounded slice per sync, starting over
  at the end. It emits what changed since the walk last passed that point: the records changed after the
  start of the previous cycle (`since`; for the first cycle, the start of the pass that read all history).

A pass over the window is resumable: while it runs, the state also holds where it stands, so a sync killed
halfway resumes from its last checkpoint instead of starting over, with the old cursor still in force.

The state also names the data it describes (`scope`: the organization's URI, or the user's when the token
is not an admin's). A sync that reads another scope (an admin's token replacing a member's, say) starts
over from `start_date`, since the cursor says nothing about the records the old scope never included.

State shape (per stream):
    {"updated_at": "...",             # emit records updated after this (absent until a pass completes)
     "last_sync_started_at": "...",   # start of the last completed pass; next window = this - lookback
     "scope": "https://api.calendly.com/organizations/...",
     "groups": {"<id end>": [total, active], ...},   # active group events of the last completed pass
     "history": {"position": "...", "since": "...", "cycle_began": "...",
                 "visited": ["<id end>", ...]},   # events at `position` already visited (rare: see History)
     "pass": {"started_at": "...", "window_start": "...", "resume_from": "...", "max_updated_at": "...",
              "groups": {...}},
     "keys": {...}}   # the keys re-reads listed, for tombstones (the stream's, not this module's: see key_memory)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from source_calendly.config import config_error, format_utc, parse_utc

_TOP_KEYS = {"updated_at", "last_sync_started_at", "scope", "groups", "history", "pass"}
_PASS_KEYS = {"started_at", "window_start", "resume_from", "max_updated_at", "groups"}
_HISTORY_KEYS = {"position", "since", "cycle_began", "visited"}

Fingerprints = Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class Pass:
    started_at: datetime  # server time when the pass began; bounds the next cursor (see `finish`)
    window_start: datetime | None
    resume_from: datetime | None = None  # everything ordered before this has been handled
    max_updated_at: datetime | None = None
    groups: Fingerprints = field(default_factory=dict)  # fingerprints taken so far by this pass


@dataclass(frozen=True)
class History:
    """Where the walk over the records before the window stands."""

    position: datetime | None = None  # the walk goes on from here (None: from the beginning)
    since: datetime | None = None  # emit what changed after this (None: everything, once)
    cycle_began: datetime | None = None  # start of the pass that began the current cycle
    # Keys (id ends) of the records at `position` the walk already visited: set only when more records share
    # one instant than a step holds, so that the next step goes on with the rest of them instead of skipping.
    visited: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WindowState:
    updated_at: datetime | None = None
    last_sync_started_at: datetime | None = None
    current: Pass | None = None
    scope: str | None = None  # the organization or user URI the records were listed for
    groups: Fingerprints | None = None  # None: no fingerprints taken yet (every group event counts as changed)
    history: History | None = None

    # parsing ---------------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, stream: str, raw: Mapping[str, Any] | None) -> WindowState:
        """Read a saved state; anything not understood is a config error that says what to do, not a crash."""
        if not raw:
            return cls()
        try:
            if not isinstance(raw, Mapping):
                raise ValueError("it is not a JSON object")
            unknown = set(raw) - _TOP_KEYS
            if unknown:
                raise ValueError(f"unknown keys {sorted(unknown)}")
            current = None
            if raw.get("pass") is not None:
                p = raw["pass"]
                if not isinstance(p, Mapping) or set(p) - _PASS_KEYS or "started_at" not in p:
                    raise ValueError("'pass' is malformed")
                current = Pass(
                    started_at=_time(p["started_at"]),
                    window_start=_opt_time(p.get("window_start")),
                    resume_from=_opt_time(p.get("resume_from")),
                    max_updated_at=_opt_time(p.get("max_updated_at")),
                    groups=_fingerprints(p.get("groups") or {}),
                )
            scope = raw.get("scope")
            if scope is not None and not isinstance(scope, str):
                raise ValueError("'scope' is not a string")
            history = None
            if raw.get("history") is not None:
                h = raw["history"]
                if not isinstance(h, Mapping) or set(h) - _HISTORY_KEYS:
                    raise ValueError("'history' is malformed")
                visited = h.get("visited") or []
                if not isinstance(visited, list) or not all(isinstance(key, str) for key in visited):
                    raise ValueError("'history.visited' is not a list of strings")
                history = History(
                    position=_opt_time(h.get("position")),
                    since=_opt_time(h.get("since")),
                    cycle_began=_opt_time(h.get("cycle_began")),
                    visited=frozenset(visited),
                )
            return cls(
                updated_at=_opt_time(raw.get("updated_at")),
                last_sync_started_at=_opt_time(raw.get("last_sync_started_at")),
                current=current,
                scope=scope,
                groups=None if raw.get("groups") is None else _fingerprints(raw["groups"]),
                history=history,
            )
        except (ValueError, TypeError) as error:
            raise config_error(
                f"The saved state of stream {stream} cannot be understood ({error}). Clear it and start over: in "
                "Airbyte, refresh or reset the stream's data (Connection > Settings > Refresh), or run read "
                "without --state."
            ) from None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.updated_at:
            out["updated_at"] = format_utc(self.updated_at)
        if self.last_sync_started_at:
            out["last_sync_started_at"] = format_utc(self.last_sync_started_at)
        if self.scope:
            out["scope"] = self.scope
        if self.groups is not None:
            out["groups"] = {key: list(value) for key, value in self.groups.items()}
        if self.history is not None:
            h = self.history
            out["history"] = _times({"position": h.position, "since": h.since, "cycle_began": h.cycle_began})
            if h.visited:
                out["history"]["visited"] = sorted(h.visited)
        if self.current:
            p = self.current
            out["pass"] = {"started_at": format_utc(p.started_at)} | _times(
                {"window_start": p.window_start, "resume_from": p.resume_from, "max_updated_at": p.max_updated_at}
            )
            if p.groups:
                out["pass"]["groups"] = {key: list(value) for key, value in p.groups.items()}
        return out

    # the pass ------------------------------------------------------------------------------------------------
    def is_for(self, scope: str) -> bool:
        """Whether this state describes `scope`'s records (a state saved before scopes were recorded does)."""
        return self.scope is None or self.scope == scope

    def ahead_of(self, now: datetime) -> datetime | None:
        """The latest time this state holds that is later than `now` (Calendly's clock), if any.

        Every time in a state comes from Calendly's clock at an earlier sync, so one in the future was made
        on another clock (a state copied from a skewed machine, or edited by hand). Trusting it would hide
        every change until that time comes.
        """
        times = [self.updated_at, self.last_sync_started_at]
        if self.current is not None:
            times += [self.current.started_at, self.current.max_updated_at]
        if self.history is not None:
            times += [self.history.since, self.history.cycle_began]
        later = [t for t in times if t is not None and t > now]
        return max(later) if later else None

    def begin(
        self, now: datetime, start_date: datetime | None, lookback: timedelta, scope: str | None = None
    ) -> WindowState:
        """Start a pass, or carry on with the one a killed sync left unfinished.

        A state saved for another scope is dropped: the pass starts over from `start_date`.
        """
        state = self
        if scope is not None:
            state = replace(self, scope=scope) if self.is_for(scope) else WindowState(scope=scope)
        if state.current:
            return state
        window_start = start_date
        if state.last_sync_started_at is not None:
            window_start = _later(start_date, state.last_sync_started_at - lookback)
        if state.history is None:
            # A first pass reads all history, so the walk's first cycle need only emit what changes after it.
            # A state saved before the walk existed says nothing about history: its first cycle emits it all.
            since = now if state.last_sync_started_at is None else None
            state = replace(state, history=History(since=since))
        return replace(state, current=Pass(started_at=now, window_start=window_start))

    @property
    def read_from(self) -> datetime | None:
        """Where this pass reads from: its resume point, else its window start (None: all history)."""
        assert self.current is not None, "begin() first"
        return self.current.resume_from or self.current.window_start

    def is_new(self, updated_at: datetime | None) -> bool:
        return updated_at is None or self.updated_at is None or updated_at > self.updated_at

    def progress(
        self, resume_from: datetime | None, max_updated_at: datetime | None, groups: Fingerprints | None = None
    ) -> WindowState:
        """Record that everything ordered before `resume_from` is handled, the newest record emitted and the
        group fingerprints taken so far."""
        assert self.current is not None, "begin() first"
        p = self.current
        return replace(
            self,
            current=replace(
                p,
                resume_from=_later(p.resume_from, resume_from),
                max_updated_at=_later(p.max_updated_at, max_updated_at),
                groups=dict(groups) if groups is not None else p.groups,
            ),
        )

    def walked(self, position: datetime | None, visited: frozenset[str] = frozenset()) -> WindowState:
        """The history walk handled everything before `position`, and the records at it named in `visited`;
        None: it reached the window, so the next cycle starts from the beginning and emits what changed since
        this cycle began."""
        assert self.current is not None, "begin() first"
        h = self.history or History()
        cycle_began = h.cycle_began or self.current.started_at
        if position is None:
            return replace(self, history=History(position=None, since=cycle_began, cycle_began=None))
        return replace(self, history=replace(h, position=position, cycle_began=cycle_began, visited=visited))

    def finish(self) -> WindowState:
        """Close the pass: advance the cursor and remember when the pass began.

        The cursor never passes the pass's start: a record changed while the pass ran may have been read
        before its change while a later one was read after, and it must be emitted again next time.
        """
        assert self.current is not None, "begin() first"
        p = self.current
        cursor = self.updated_at
        if p.max_updated_at is not None:
            cursor = _later(cursor, min(p.max_updated_at, p.started_at))
        return WindowState(
            updated_at=cursor,
            last_sync_started_at=_later(self.last_sync_started_at, p.started_at),
            current=None,
            scope=self.scope,
            groups=dict(p.groups),
            history=self.history,
        )


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a timestamp")
    try:
        return parse_utc(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UTC timestamp") from None


def _opt_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _times(values: Mapping[str, datetime | None]) -> dict[str, str]:
    return {key: format_utc(value) for key, value in values.items() if value is not None}


def _fingerprints(raw: Any) -> dict[str, tuple[int, int]]:
    if not isinstance(raw, Mapping):
        raise ValueError("'groups' is not an object")
    out = {}
    for key, value in raw.items():
        if not (isinstance(value, list) and len(value) == 2 and all(type(n) is int for n in value)):
            raise ValueError(f"'groups' holds {value!r} for {key!r}, not [total, active]")
        out[str(key)] = (value[0], value[1])
    return out


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def state_from_the_future(stream: str, saved: datetime, now: datetime) -> str:
    """The warning for a saved time later than Calendly's clock: the state came from another clock."""
    return (
        f"Stream {stream}: the saved state holds {format_utc(saved)}, later than Calendly's clock "
        f"({format_utc(now)}): it was made on another clock (copied from a machine with a wrong clock, or "
        "edited). Trusting it would hide every change until then, so this sync reads from start_date again "
        "and records already in the destination are emitted again."
    )
