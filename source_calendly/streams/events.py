"""scheduled_events and its substream event_invitees."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
from airbyte_cdk.models import SyncMode

from source_calendly.config import format_utc, parse_utc
from source_calendly.streams.base import PAGE_SIZE, Keyset, uuid_of
from source_calendly.streams.incremental import FanOutSubStream, WindowedStream, short_key, timestamp

BY_START_TIME = Keyset(field="start_time", param="min_start_time")


class _EventGone(Exception):
    """The event was deleted between listing it and listing its invitees (HTTP 404)."""


class ScheduledEvents(WindowedStream):
    """Events, active and canceled, that start in the window (no upper bound: upcoming ones too), emitted when
    they changed since the cursor or their group counter changed (see `group_fingerprint`); before that, a
    slice of the history before the window, re-listed for changes.

    https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-events
    """

    name = "scheduled_events"
    endpoint = "scheduled_events"
    shared_with = "event_invitees"

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
        for event in self.events_from(self._window.read_from):
            # Progress first: the checkpoint the CDK may take right after this record then covers it.
            self.note_progress(timestamp(event, "start_time"))
            # Both run for every event: a changed group event still counts towards the cursor, and every
            # group event is fingerprinted.
            changed = self.note_emitted(event)
            if self.group_changed(event) or changed:
                yield event
        self.finish_pass()

    def walk_history(self) -> Iterator[Mapping[str, Any]]:
        """Re-list the next pages of events before the window and emit those changed since the walk last passed
        them: a late edit to an old event (notes after the meeting) needs no invitee request to be seen."""
        bounds = self.history_range()
        limit = self.history_shares().event_pages * PAGE_SIZE
        if bounds is None or limit == 0:
            return
        start, end = bounds
        for read, event in enumerate(self.history_events(start, end), start=1):
            if self.note_walk_emitted(event):
                yield event
            if read % PAGE_SIZE == 0:  # a page ends here: the walk's checkpoint
                reached = timestamp(event, "start_time")
                self.note_walked(reached)
                if read >= limit and reached is not None and (start is None or reached > start):
                    return  # the budget is spent (a page of one start time would not move the walk on)
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

    def parents(self) -> Iterator[Mapping[str, Any]]:
        assert self._window.current is not None
        began = self._window.current.started_at
        previous = self._window.last_sync_started_at  # None: the first pass visits every event
        for event in self.parent.events_from(self._window.read_from):
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
        for event in self.parent.history_events(start, end, at_least=wanted + 1 + len(already)):
            if already and timestamp(event, "start_time") == start and short_key(event["uri"]) in already:
                continue
            if len(chosen) == wanted:
                next_start = event.get("start_time")
                break
            chosen.append(self.slim(event))
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
            return [], f"Event {event['uri']} no longer exists (HTTP 404); its invitees are skipped."

    def on_tolerated_response(self, response: requests.Response) -> None:
        raise _EventGone()
