"""scheduled_events and its substream event_invitees."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
from airbyte_cdk.models import SyncMode

from source_calendly.config import format_utc
from source_calendly.streams.base import Keyset, uuid_of
from source_calendly.streams.incremental import FanOutSubStream, WindowedStream, timestamp

BY_START_TIME = Keyset(field="start_time", param="min_start_time")


def is_group_event(event: Mapping[str, Any]) -> bool:
    """An event more than one invitee can book. When one of them books or cancels, only its `invitees_counter`
    changes, and Calendly does not say that its `updated_at` moves (calendly-api.md §5): so every group event
    in the window is emitted again, and the destination's counters never go stale."""
    counter = event.get("invitees_counter")
    limit = counter.get("limit") if isinstance(counter, Mapping) else None
    return isinstance(limit, int) and limit > 1


class _EventGone(Exception):
    """The event was deleted between listing it and listing its invitees (HTTP 404)."""


class ScheduledEvents(WindowedStream):
    """Events, active and canceled, that start in the window (no upper bound: upcoming ones too): those changed
    since the cursor, and every group event (see `is_group_event`).

    https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-events
    """

    name = "scheduled_events"
    endpoint = "scheduled_events"
    shared_with = "event_invitees"

    def events_from(self, start: datetime | None) -> Iterator[Mapping[str, Any]]:
        """Every event in scope starting at or after `start` (None: all history), oldest start first."""
        params = {**self.context.scope_params(), "sort": "start_time:asc"}
        if start is not None:
            params["min_start_time"] = format_utc(start)
        return self.list_own(params, keyset=BY_START_TIME)

    def read_records(self, sync_mode: SyncMode, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        self.begin_pass(sync_mode)
        for event in self.events_from(self._window.read_from):
            # Progress first: the checkpoint the CDK may take right after this record then covers it.
            self.note_progress(timestamp(event, "start_time"))
            # `or` keeps note_emitted first: a changed group event still counts towards the cursor.
            if self.note_emitted(event) or is_group_event(event):
                yield event
        self.finish_pass()


class EventInvitees(FanOutSubStream):
    """Invitees (all statuses) of every event in the window, each with `event_uri`, its event's URI.

    Every event in the window is visited, changed or not: an invitee can cancel, be marked a no-show or
    reschedule while its group event stays as it was. Slices are pages of events (URI and start time only,
    never whole records); their invitees are fetched concurrently and emitted in event order.

    https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-event-invitees
    """

    name = "event_invitees"
    order_field = "start_time"
    tolerated_statuses = frozenset({404})
    parent: ScheduledEvents

    def parents(self) -> Iterator[Mapping[str, Any]]:
        return self.parent.events_from(self._window.read_from)

    def decorate(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**record, "event_uri": parent["uri"]}

    def children_of(self, event: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
        try:
            return list(self.list(f"scheduled_events/{uuid_of(event['uri'])}/invitees", {})), None
        except _EventGone:
            return [], f"Event {event['uri']} no longer exists (HTTP 404); its invitees are skipped."

    def on_tolerated_response(self, response: requests.Response) -> None:
        raise _EventGone()
