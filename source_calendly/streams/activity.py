"""What happened: the audit log, contacts and the messages Calendly sent; incremental on their own timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.config import format_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.cursor import CursorStream

ACTIVITY_LOG_RETENTION = timedelta(days=90)


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
    """The contacts of the token's user, newest change first, read down to the cursor.

    Calendly has no `updated_at` filter, but sorts by it. A deleted contact is not listed any more, so it stays in
    the destination; a full refresh drops it. On every plan since 2026-11-19
    (https://developer.calendly.com/release-notes/2026/11/19).

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contacts
    """

    name = "contacts"
    endpoint = "contacts"
    access = Access(scope="contacts:read")
    cursor_field = "updated_at"
    newest_first = True
    sort = "updated_at:desc"


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
