"""What happened: the audit log, contacts and the messages Calendly sent; incremental on their own timestamps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.config import format_utc, parse_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.cursor import CursorStream

ACTIVITY_LOG_RETENTION = timedelta(days=90)
LAST_SYNC_STARTED = "last_sync_started_at"  # contacts: where the next sync's look for changed meetings begins


class ActivityLogEntries(CursorStream):
    """https://developer.calendly.com/api-docs/calendly-api/activity-log/list-activity-log-entries"""

    name = "activity_log_entries"
    endpoint = "activity_log_entries"
    access = Access(scope="activity_log:read", plan="the Enterprise plan", admin=True)
    cursor_field = "occurred_at"
    min_param = "min_occurred_at"
    sort = "occurred_at:asc"
    keyset = Keyset(field="occurred_at", param="min_occurred_at")  # an expired page token restarts from there
    page_size = 1000  # this list allows 1,000 per page

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}

    def check_cursor_age(self, cursor: datetime) -> None:
        kept_from = self.context.account.server_time - ACTIVITY_LOG_RETENTION
        if cursor < kept_from:
            self.logger.warning(
                f"Stream {self.name}: the last sync read entries up to {format_utc(cursor)}, but Calendly keeps the "
                f"activity log for 90 days only, from {format_utc(kept_from)}: the entries in between are gone and "
                "cannot be synced. Sync at least every 90 days to keep the log complete."
            )


class Contacts(CursorStream):
    """The contacts of the token's user, newest change first, read down to the cursor; then the contacts whose
    meetings changed since the last sync.

    Calendly has no `updated_at` filter, but sorts by it. A contact's `next_meeting_date`, `last_meeting_date` and
    `last_interaction_date` follow its meetings, and whether `updated_at` moves with them is undocumented (see
    `source_calendly.meetings`). So an incremental sync also re-reads, by email (`email=` takes a comma-separated
    list), the contacts of the invitees event_invitees found booked, canceled, rescheduled or met since the last
    sync; when this sync cannot say whose meetings changed (event_invitees not in it, read after contacts, or
    resumed), it re-reads every contact. A deleted contact is not listed any more, so it stays in the
    destination; a full refresh drops it.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contacts
    """

    name = "contacts"
    endpoint = "contacts"
    access = Access(scope="contacts:read", plan="a paid plan")
    cursor_field = "updated_at"
    newest_first = True
    sort = "updated_at:desc"
    emails_per_request = 50  # an email is rarely longer than 40 characters: a 2,000-character query at most

    def __init__(self, context: Any) -> None:
        self._last_sync_started: datetime | None = None
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        state = super().state
        if state and self._last_sync_started is not None:
            state[LAST_SYNC_STARTED] = format_utc(self._last_sync_started)
        return state

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        CursorStream.state.fset(self, value)  # type: ignore[attr-defined]
        saved = (value or {}).get(LAST_SYNC_STARTED)
        try:
            self._last_sync_started = parse_utc(saved) if isinstance(saved, str) else None
        except ValueError:
            self._last_sync_started = None  # then every contact is read again once: never less than needed

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        sync_start = self.context.account.server_time
        cursor, previous = self._cursor, self._last_sync_started
        incremental = sync_mode == SyncMode.incremental
        emitted: set[str] = set()
        emails_emitted: set[str] = set()
        for record in super().read_allowed(sync_mode):
            emitted.add(str(record.get("uri")))
            emails_emitted.update(emails_of(record))
            yield record
        if incremental and cursor is not None and cursor <= sync_start:  # the listing stopped at the cursor
            emails = self.context.meeting_emails.covering(previous) if previous is not None else None
            if emails is None:
                self.logger.info(
                    f"Stream {self.name}: this sync cannot tell whose meetings changed since the last one (the "
                    "event_invitees stream was not read incrementally before contacts); reading every contact "
                    "again so that their meeting dates are current."
                )
                again = self.list_own(dict(self.request_params()))
            else:
                again = self.contacts_by_email(sorted(emails - emails_emitted))
            for record in again:
                if str(record.get("uri")) not in emitted:
                    emitted.add(str(record.get("uri")))
                    yield record
        if incremental:
            self._last_sync_started = sync_start

    def contacts_by_email(self, emails: list[str]) -> Iterator[Mapping[str, Any]]:
        for i in range(0, len(emails), self.emails_per_request):
            yield from self.list(self.endpoint, {"email": ",".join(emails[i : i + self.emails_per_request])})


def emails_of(contact: Mapping[str, Any]) -> set[str]:
    found = contact.get("emails")
    if not isinstance(found, list):
        return set()
    return {str(e.get("email", "")).lower() for e in found if isinstance(e, Mapping) and e.get("email")}


class OutgoingCommunications(CursorStream):
    """Emails and SMS Calendly sent for the organization's events.

    https://developer.calendly.com/api-docs/calendly-api/outgoing-communications/list-outgoing-communications
    """

    name = "outgoing_communications"
    endpoint = "outgoing_communications"
    primary_key = [["event_uri"], ["type"], ["to"], ["created_at"]]  # no uri: see the schema's description
    fields_every_record_has = ()  # no uri; the key's parts may be absent (see the schema's description)
    access = Access(scope="outgoing_communications:read", plan="the Enterprise plan")
    cursor_field = "created_at"
    min_param = "min_created_at"

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}
