"""What happened: the audit log, contacts and the messages Calendly sent; incremental on their own timestamps."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timedelta
from typing import Any

from source_calendly.access import Access
from source_calendly.config import format_utc
from source_calendly.streams.base import Keyset
from source_calendly.streams.cursor import CursorStream

ACTIVITY_LOG_RETENTION = timedelta(days=90)


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
    """The contacts of the token's user, newest change first, read down to the cursor.

    Calendly has no `updated_at` filter, but sorts by it. A deleted contact is not listed any more, so it stays in
    the destination; a full refresh drops it.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contacts
    """

    name = "contacts"
    endpoint = "contacts"
    access = Access(scope="contacts:read", plan="a paid plan")
    cursor_field = "updated_at"
    newest_first = True
    sort = "updated_at:desc"


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
