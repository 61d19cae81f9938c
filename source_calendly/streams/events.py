"""scheduled_events and its substream event_invitees."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
from airbyte_cdk.models import SyncMode

from source_calendly.bounds import MARGIN
from source_calendly.config import format_utc, parse_utc
from source_calendly.key_memory import Gone
from source_calendly.streams.base import PAGE_SIZE, Keyset, uuid_of
from source_calendly.streams.incremental import FanOutSubStream, Unread, WindowedStream, see, short_key, timestamp

BY_START_TIME = Keyset(field="start_time", param="min_start_time")


class _EventGone(Exception):
    """The event was deleted between listing it and listing its invitees (HTTP 404)."""


def walk_complete_to(end: datetime) -> datetime:
    """How far a walk that listed up to `max_start_time=end` surely listed everything: one second short of it,
    however Calendly reads that bound (inclusive or not, to the second or finer). What lies between is compared
    once the window has moved past it."""
    return end - MARGIN


class ScheduledEvents(WindowedStream):
    """Events, active and canceled, that start in the window (no upper bound: upcoming ones too), emitted when
    they changed since the cursor or their group counter changed (see `group_fingerprint`); before that, a
    slice of the history before the window, re-listed for changes.

    https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-events
    """

    name = "scheduled_events"
    endpoint = "scheduled_events"
    shared_with = "event_invitees"
    tracks_deletions = True

    def events_from(self, start: datetime | None) -> Iterator[Mapping[str, Any]]:
        """Every event in scope starting at or after `start` (None: all history), oldest start first."""
        params = {**self.context.scope_params(), "sort": "start_time:asc"}
        return self.list_own(params, keyset=BY_START_TIME, floor=BY_START_TIME.floor(start))

    def history_events(
        self, start: datetime | None, end: datetime, at_least: int | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """Events starting in [start, end), oldest first. When both walks start at the same point (a new
        cycle), the invitee walk replays what the event walk listed: it needs `at_least` events of it."""
        params = {**self.context.scope_params(), "sort": "start_time:asc", "max_start_time": format_utc(end)}
        floor = BY_START_TIME.floor(start)
        listing = self.list(self.endpoint, params, keyset=BY_START_TIME, floor=floor)
        if not self.context.both_selected(self.name, self.shared_with or ""):
            return listing
        key = ("history", tuple(sorted({**params, **(floor.query() if floor else {})}.items())))
        replayed = self.context.spool.replay(key, at_least)
        return replayed if replayed is not None else self.context.spool.keep(key, listing)

    def read_records(self, sync_mode: SyncMode, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self.begin_pass(sync_mode)
        yield from self.walk_history()
        scan = self.key_scan(self._window.read_from)  # the window is read to its end: every event in it is listed
        for event in self.events_from(self._window.read_from):
            # Events erased before this one's start: before its progress, which would take them out of a resumed
            # pass's range.
            yield from self.deleted(see(scan, event))
            # Progress first: the checkpoint the CDK may take right after this record then covers it.
            self.note_progress(timestamp(event, "start_time"))
            # Both run for every event: a changed group event still counts towards the cursor, and every
            # group event is fingerprinted.
            changed = self.note_emitted(event)
            if self.group_changed(event) or changed:
                yield event
        if scan is not None:
            yield from self.deleted(scan.complete_to(None))
        self.finish_pass()

    def walk_history(self) -> Iterator[Mapping[str, Any]]:
        """Re-list the next pages of events before the window and emit those changed since the walk last passed
        them: a late edit to an old event (notes after the meeting) needs no invitee request to be seen."""
        bounds = self.history_range()
        limit = self.history_shares().event_pages * PAGE_SIZE
        if bounds is None or limit == 0:
            return
        start, end = bounds
        scan = self.key_scan(start)
        for read, event in enumerate(self.history_events(start, end), start=1):
            yield from self.deleted(see(scan, event))
            if self.note_walk_emitted(event):
                yield event
            if read % PAGE_SIZE == 0:  # a page ends here: the walk's checkpoint
                reached = timestamp(event, "start_time")
                if scan is not None and reached is not None:
                    # Everything before the page's last start time is listed; more may start at that instant.
                    yield from self.deleted(scan.complete_to(reached))
                self.note_walked(reached)
                if read >= limit and reached is not None and (start is None or reached > start):
                    return  # the budget is spent (a page of one start time would not move the walk on)
        if scan is not None:
            yield from self.deleted(scan.complete_to(walk_complete_to(end)))
        self.note_walked(None)  # reached the window: the next sync starts a new cycle


class EventInvitees(FanOutSubStream):
    """Invitees (all statuses) of the events whose invitees can have changed unseen, each with `event_uri`.

    In the window, those are: events that started since the window start (a no-show or reconfirmation changes
    only the invitee), events whose record changed since the previous pass began (a 1:1 booking, cancellation
    or reschedule moves the event's `updated_at`), and group events whose counter changed (a group invitee
    booking or cancelling). An upcoming event that shows no change is not visited; once it has started, it
    is. Before the window, the history walk visits a bounded number of events per sync. Slices are pages of
    events (URI and start time only, never whole records); invitees are fetched concurrently and emitted in
    event order.

    https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-event-invitees
    """

    name = "event_invitees"
    order_field = "start_time"
    tolerated_statuses = frozenset({404})
    parent: ScheduledEvents
    tracks_deletions = True
    key_children = "invitees"  # an invitee's URI is its event's, then /invitees/<id>
    # Events the listings found gone, whose invitees' tombstones are still to go out.
    _gone_events: list[Gone]

    def parents(self) -> Iterator[Mapping[str, Any]]:
        assert self._window.current is not None
        began = self._window.current.started_at
        previous = self._window.last_sync_started_at  # None: the first pass visits every event
        scan = self.key_scan(self._window.read_from)
        for event in self.parent.events_from(self._window.read_from):
            self._gone_events += see(scan, event)
            group_changed = self.group_changed(event)  # fingerprints every group event
            start, updated = timestamp(event, "start_time"), timestamp(event, "updated_at")
            if (
                previous is None
                or start is None
                or updated is None
                or start <= began
                or updated >= previous
                or group_changed
            ):
                yield event
        if scan is not None:
            self._gone_events += scan.complete_to(None)

    def history_slices(self) -> Iterator[Mapping[str, Any]]:
        bounds = self.history_range()
        wanted = self.history_shares().invitee_events
        if bounds is None or wanted == 0:
            return
        start, end = bounds
        history = self._window.history
        # Events at the walk's position that an earlier step visited (more of them than a step holds).
        already = history.visited if history is not None and history.position is not None else frozenset()
        chosen: list[dict[str, Any]] = []
        next_start: str | None = None  # start time of the first event not visited; None: the window reached
        scan = self.key_scan(start)
        for event in self.parent.history_events(start, end, at_least=wanted + 1 + len(already)):
            self._gone_events += see(scan, event)
            if already and timestamp(event, "start_time") == start and short_key(event["uri"]) in already:
                continue
            if len(chosen) == wanted:
                next_start = event.get("start_time")
                break
            chosen.append(self.slim(event))
        if scan is not None:  # every event before the first one not visited (or the window) was listed
            self._gone_events += scan.complete_to(parse_utc(next_start) if next_start else walk_complete_to(end))
        if next_start is not None:
            # End the step between two start times, so that the next one starts exactly where this one ended;
            # when every event chosen starts at that one instant, the state names those visited instead.
            trimmed = [e for e in chosen if e["start_time"] != next_start]
            chosen = trimmed or chosen

        def visited_at(position: str | None, done: list[dict[str, Any]]) -> list[str]:
            if position is None:
                return []
            keys = {short_key(e["uri"]) for e in done if e["start_time"] == position}
            return sorted(keys | already if parse_utc(position) == start else keys)

        for i in range(0, max(len(chosen), 1), PAGE_SIZE):
            batch = chosen[i : i + PAGE_SIZE]
            walked_to = chosen[i + PAGE_SIZE]["start_time"] if i + PAGE_SIZE < len(chosen) else next_start
            yield {"history": batch, "walked_to": walked_to, "visited": visited_at(walked_to, chosen[: i + PAGE_SIZE])}

    def begin_pass(self, sync_mode: SyncMode) -> None:
        self._gone_events = []
        super().begin_pass(sync_mode)
        previous, current = self._window.last_sync_started_at, self._window.current
        # An incremental pass from its start sees every meeting change since the previous pass began (a resumed
        # one does not see what the killed sync read before it stopped).
        if previous is not None and current is not None and current.resume_from is None:
            self.context.meeting_emails.begin(previous)

    def note_children(self, parent: Mapping[str, Any], records: list[Mapping[str, Any]], emitted: list[bool]) -> None:
        """The invitees whose contacts' meeting dates can have changed: those booked, canceled or rescheduled
        (emitted: their record changed) and those of a meeting that started since the previous pass began."""
        previous, current = self._window.last_sync_started_at, self._window.current
        start = timestamp(parent, "start_time")
        started = False
        if previous is not None and current is not None and start is not None:
            started = previous <= start <= current.started_at
        self.context.meeting_emails.add(
            str(record.get("email") or "") for record, emit in zip(records, emitted, strict=True) if emit or started
        )

    def finish_pass(self) -> None:
        super().finish_pass()
        self.context.meeting_emails.complete()

    def decorate(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**record, "event_uri": parent["uri"]}

    def slim(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        # `invitees_counter.total` counts every invitee the event ever had, canceled ones too, as the invitee
        # listing does: the row estimate costs no request.
        counter = parent.get("invitees_counter")
        total = counter.get("total") if isinstance(counter, Mapping) else None
        return {**super().slim(parent), "invitees": total if isinstance(total, int) else None}

    def children_expected(self, parent: Mapping[str, Any]) -> int | None:
        expected = parent.get("invitees")
        return expected if isinstance(expected, int) else None

    def children_of(self, event: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
        try:
            return list(self.list(f"scheduled_events/{uuid_of(event['uri'])}/invitees", {})), None
        except _EventGone:
            # Nothing is concluded from it: the next sync's listing shows the event gone, and its invitees then.
            return Unread(), f"Event {event['uri']} no longer exists (HTTP 404); its invitees are skipped."

    def children_read(self, parent: Mapping[str, Any], records: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Tombstones for the event's invitees that its complete listing no longer has (erased by email); then
        the listing is what is remembered."""
        at = timestamp(parent, "start_time")
        if not self._tracking or at is None:
            return
        event = [parent["uri"]]
        uris = [[r["uri"]] for r in records if isinstance(r.get("uri"), str)]
        before = self._keys.children_of(at, event)
        listed = {uri[0] for uri in uris}
        gone = [key for key in before or [] if key[0] not in listed]
        if gone:
            deleted_at = self.deleted_at()
            for key in gone:
                yield self.tombstone(key, deleted_at, {"event_uri": parent["uri"]})
        self._keys.set_children(at, event, uris)

    def parents_gone(self) -> Iterator[Mapping[str, Any]]:
        """Tombstones for the remembered invitees of events a complete listing no longer has (erased)."""
        gone, self._gone_events = self._gone_events, []
        if not gone:
            return
        deleted_at = self.deleted_at()
        for event in gone:
            for key in event.children:
                yield self.tombstone(key, deleted_at, {"event_uri": event.key[0]})
        self._keys.forget(gone)

    def on_tolerated_response(self, response: requests.Response) -> None:
        raise _EventGone()
