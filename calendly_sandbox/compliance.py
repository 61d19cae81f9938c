"""Calendly's data-compliance deletions (Enterprise, scope `data_compliance:write`), as the store's records see them.

- Delete Invitee Data, `POST /data_compliance/deletion/invitees` with `emails`: "remove invitee data from all
  previously booked events in your organization"
  (https://developer.calendly.com/api-docs/calendly-api/data-compliance/delete-invitee-data).
- Delete Scheduled Event Data, `POST /data_compliance/deletion/events` with `start_time` and `end_time`: "remove
  scheduled events data within a time range for your organization"; the range "can be no greater than 24 months
  and must occur in the past"
  (https://developer.calendly.com/api-docs/calendly-api/data-compliance/delete-scheduled-event-data).

Both answer 202 and "can take up to 7 days to complete". Afterwards Calendly lists nothing of what was erased:
an erased invitee leaves its event's invitee listing; an erased event leaves every event listing, and its own
URL and its invitee listing answer 404. What else changes (the event's `invitees_counter`, its `updated_at`, the
organization's contacts) is not documented: here nothing else does. A request waits `delay_days` of the store's
clock (`advance_clock`) before it takes effect, to model the up-to-7-days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .timeutil import DAY, fmt, parse, parse_own

if TYPE_CHECKING:
    from .rows import EventRow, InviteeRow
    from .store import Store

MAX_RANGE_DAYS = 731  # 24 months at most: two years, one of them possibly a leap year


@dataclass(frozen=True)
class Erasure:
    due_us: int  # the store's clock when it takes effect
    org: str
    emails: frozenset[str] = frozenset()
    start_us: int | None = None
    end_us: int | None = None


class Compliance:
    """Erasure requests and their effect on the store (call under no lock: it takes the store's)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[Erasure] = []

    def erase_invitees(self, org: str, emails: list[str], delay_days: float = 0.0) -> dict[str, object]:
        if not isinstance(emails, list) or not emails or not all(isinstance(e, str) and "@" in e for e in emails):
            raise ValueError("emails must be a non-empty list of email addresses")
        return self._request(Erasure(self._due(delay_days), org, emails=frozenset(e.lower() for e in emails)))

    def erase_events(self, org: str, start_time: str, end_time: str, delay_days: float = 0.0) -> dict[str, object]:
        start, end = _us(start_time), _us(end_time)
        if end <= start:
            raise ValueError("end_time must be after start_time")
        if end > self.store.clock_us():
            raise ValueError("the time range must occur in the past")
        if end - start > MAX_RANGE_DAYS * DAY:
            raise ValueError("the time range can be no greater than 24 months")
        return self._request(Erasure(self._due(delay_days), org, start_us=start, end_us=end))

    def apply_due(self) -> dict[str, list[str]]:
        """Carry out the requests whose time has come; returns the URIs erased."""
        erased: dict[str, list[str]] = {"events": [], "invitees": []}
        with self.store.lock:
            now = self.store.clock_us()
            due = [e for e in self.pending if e.due_us <= now]
            self.pending = [e for e in self.pending if e.due_us > now]
            for erasure in due:
                if erasure.emails:
                    for email in erasure.emails:
                        for row in list(self.store.email_events.get(email, [])):
                            if row.org != erasure.org:
                                continue
                            for irow in [i for i in row.invitees if i.email == email]:
                                self._drop_invitee(irow)
                                erased["invitees"].append(irow.uri)
                else:
                    low, high = erasure.start_us or 0, erasure.end_us or 0
                    for row in [r for r in self.store.events.values() if r.org == erasure.org]:
                        if low <= parse_own(row.key[: -len(row.uuid)]) < high:  # events starting in the range
                            erased["invitees"] += [i.uri for i in row.invitees]
                            self._drop_event(row)
                            erased["events"].append(row.uri)
        return erased

    def delete_submission(self, uri: str) -> dict[str, object]:
        """A routing form submission leaves its form's listing (only with `Behaviour.submissions_can_vanish`)."""
        store = self.store
        if not store.behaviour.submissions_can_vanish:
            raise ValueError("submissions do not vanish unless Behaviour(submissions_can_vanish=True)")
        with store.lock:
            row = store.submission_by_uuid.get(uri.rstrip("/").rsplit("/", 1)[-1])
            if row is None or row.uri != uri:
                raise LookupError(uri)
            store.submissions[row.rec["routing_form"]].remove(row)
            del store.submission_by_uuid[row.uuid]
            return {"submission": row.rec}

    def _request(self, erasure: Erasure) -> dict[str, object]:
        with self.store.lock:
            self.pending.append(erasure)
        erased = self.apply_due()
        return {"due": fmt(erasure.due_us), "erased": erased}

    def _due(self, delay_days: float) -> int:
        if delay_days < 0:
            raise ValueError("delay_days cannot be negative")
        return self.store.clock_us() + int(delay_days * DAY)

    def _drop_invitee(self, irow: InviteeRow) -> None:
        store = self.store
        row = irow.event
        row.invitees.remove(irow)
        store.invitees.pop(irow.uuid, None)
        for uuid in [u for u, (i, _) in store.no_shows.items() if i is irow]:
            del store.no_shows[uuid]
        if not any(i.email == irow.email for i in row.invitees):
            events = store.email_events.get(irow.email, [])
            if row in events:
                events.remove(row)

    def _drop_event(self, row: EventRow) -> None:
        store = self.store
        for irow in list(row.invitees):
            self._drop_invitee(irow)
        for scope in (row.org, *dict.fromkeys(row.hosts)):
            for status in (None, row.status):
                store.index.get((scope, status), _Empty).remove(row)
        del store.events[row.uuid]


class _Empty:
    @staticmethod
    def remove(row: object) -> None:
        return None


def _us(value: str) -> int:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a UTC timestamp")
    return parse(value)
