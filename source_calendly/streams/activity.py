"""What happened: the audit log, contacts and the messages Calendly sent; incremental on their own timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.config import format_utc, parse_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.cursor import CursorStream
from source_calendly.streams.tracked import recheck_share
from source_calendly.sweep import DeletionSweep, SweepState, remember
from source_calendly.tombstones import DELETED_AT

ACTIVITY_LOG_RETENTION = timedelta(days=90)
LAST_SYNC_STARTED = "last_sync_started_at"  # contacts: where the next sync's look for changed meetings begins


class ActivityLogEntries(CursorStream):
    """The organization's audit log: Enterprise only (https://developer.calendly.com/docs/getting-started/
    frequently-asked-questions names it among the Enterprise-specific endpoints); admins and owners.

    https://developer.calendly.com/api-docs/calendly-api/activity-log/list-activity-log-entries
    """

    name = "activity_log_entries"
    endpoint = "activity_log_entries"
    access = Access(scope="activity_log:read", plan="the Enterprise plan", admin=True)
    cursor_field = "occurred_at"
    min_param = "min_occurred_at"
    sort = "occurred_at:asc"
    keyset = Keyset(field="occurred_at", param="min_occurred_at")  # an expired page token restarts from there
    # The endpoint documents count 1-1000, the shared Pagination schema at most 100: a 400 naming count falls
    # back to 100, once (CalendlyStream._list).
    page_size = 1000

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
    resumed), it re-reads every contact. A deleted contact is not listed any more: incrementally, a rolling
    re-listing finds it and sends a tombstone (see `source_calendly.sweep`); a full refresh drops it. On every
    plan since 2026-11-19 (https://developer.calendly.com/release-notes/2026/11/19).

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contacts
    """

    name = "contacts"
    endpoint = "contacts"
    access = Access(scope="contacts:read")
    cursor_field = "updated_at"
    newest_first = True
    sort = "updated_at:desc"
    emails_per_request = 50  # an email is rarely longer than 40 characters: a 2,000-character query at most
    tolerated_statuses = frozenset({403, 404})  # 404: the deletion check's answer for a contact that is gone

    def __init__(self, context: Any) -> None:
        self._last_sync_started: datetime | None = None
        self._deletions = SweepState()
        self._listed_all: set[str] | None = None  # this sync listed every contact (unfiltered, to its end)
        super().__init__(context)

    @property
    def state(self) -> MutableMapping[str, Any]:
        state = super().state
        if state and self._last_sync_started is not None:
            state[LAST_SYNC_STARTED] = format_utc(self._last_sync_started)
        if state:
            self._deletions.dump(state)
        return state

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        CursorStream.state.fset(self, value)  # type: ignore[attr-defined]
        saved = (value or {}).get(LAST_SYNC_STARTED)
        try:
            self._last_sync_started = parse_utc(saved) if isinstance(saved, str) else None
        except ValueError:
            self._last_sync_started = None  # then every contact is read again once: never less than needed
        self._deletions = SweepState.load(value)

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        incremental = sync_mode == SyncMode.incremental
        deletions = self._deletions
        tracked = incremental and deletions.known is not None  # a state that remembers what was sent
        if incremental and deletions.known is None:
            deletions.known = set()  # from now on; the first pass adds every contact it lists
        elif not incremental:
            deletions.known = None
        known_before = set(deletions.known or ())
        self._listed_all = None
        yield from remember(deletions, self._changed(sync_mode))
        if tracked:
            if self._listed_all is not None:  # every contact was just listed anyway: the pass is done for free
                listed = {deletions.encode(uri) for uri in self._listed_all}
                deletions.pending, deletions.page_token, deletions.listed = known_before - listed, None, True
            deleted_at = format_utc(self.context.account.server_time)
            sweep = DeletionSweep(self, deletions, recheck_share(self.context.config.history_requests))
            for uri in sweep.run():
                yield {"uri": uri, self.cursor_field: deleted_at, DELETED_AT: deleted_at}

    def _changed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
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
            listed: set[str] = set()
            for record in again:
                listed.add(str(record.get("uri")))
                if str(record.get("uri")) not in emitted:
                    emitted.add(str(record.get("uri")))
                    yield record
            if emails is None:
                self._listed_all = listed  # read to its end: every contact Calendly has
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


# Every field Calendly documents for an outgoing communication, email or SMS: what tells two messages apart.
# https://developer.calendly.com/api-docs/calendly-api/outgoing-communications/list-outgoing-communications
COMMUNICATION_FIELDS = (
    "type", "to", "from", "subject", "body", "sender_uri", "sender_email", "event_type_uri", "event_uri",
    "scheduling_url", "sent_at", "created_at",
)  # fmt: skip


def communication_key(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the documented fields, as JSON with sorted keys (an absent field counts as null)."""
    content = orjson.dumps({name: record.get(name) for name in COMMUNICATION_FIELDS}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(content).hexdigest()


class OutgoingCommunications(CursorStream):
    """Emails and SMS Calendly sent for the organization's events.

    Calendly gives them no uri or id, and a confirmation and a reminder to the same invitee can share the event,
    type, recipient and creation instant. The primary key is `communication_key`, which the connector adds: the
    SHA-256 of every documented field, so two messages that differ in anything (subject, body, sender, sent_at)
    differ in key; the n-th exact copy (n ≥ 2) of a message at the same instant gets `-n` appended. Copies share
    created_at, so they are always read in one listing and numbered the same way each time.

    https://developer.calendly.com/api-docs/calendly-api/outgoing-communications/list-outgoing-communications
    """

    name = "outgoing_communications"
    endpoint = "outgoing_communications"
    primary_key = "communication_key"  # no uri: see the schema's description
    fields_every_record_has = ()  # the key is the connector's, added after the page is read
    access = Access(scope="outgoing_communications:read", plan="the Enterprise plan")  # "requires Enterprise"
    cursor_field = "created_at"
    min_param = "min_created_at"

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        instant: object = None
        copies: dict[str, int] = {}  # keys seen at the current created_at: memory stays flat
        for record in super().read_allowed(sync_mode):
            key = communication_key(record)
            if record.get("created_at") != instant:
                instant, copies = record.get("created_at"), {}
            copies[key] = copies.get(key, 0) + 1
            yield {**record, "communication_key": key if copies[key] == 1 else f"{key}-{copies[key]}"}

    def record_key(self, record: Mapping[str, Any]) -> str:
        return communication_key(record)  # a restarted listing sees Calendly's record, before the key is added
