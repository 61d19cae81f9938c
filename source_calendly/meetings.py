"""Whose meetings changed in this sync: the emails of invitees booked, canceled or rescheduled, and of meetings
that started, as event_invitees reads them, so that the contacts stream can re-read those contacts.

A contact's `next_meeting_date`, `last_meeting_date` and `last_interaction_date` change with its meetings, and
Calendly does not say whether its `updated_at` moves with them (its 2026-05-27 release note,
https://developer.calendly.com/release-notes/2026/5/27, says `contact.updated` does not fire for changes to
related resources such as scheduled events). A contact's meeting dates change only when one of its meetings
is booked, canceled or rescheduled (the invitee record changes) or starts (next becomes last), and
event_invitees already reads exactly those invitees, each of which names its email.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime


class MeetingEmails:
    """Filled by event_invitees during its pass; read by contacts once that pass is complete."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._emails: set[str] = set()
        self._since: datetime | None = None  # changes from this time on are covered
        self._complete = False

    def begin(self, since: datetime) -> None:
        with self._lock:
            self._emails, self._since, self._complete = set(), since, False

    def add(self, emails: Iterable[str]) -> None:
        with self._lock:
            if self._since is not None and not self._complete:
                self._emails.update(email.strip().lower() for email in emails if email and email.strip())

    def complete(self) -> None:
        with self._lock:
            self._complete = self._since is not None

    def covering(self, since: datetime) -> frozenset[str] | None:
        """The emails whose meetings may have changed from `since` on, or None when this sync cannot say (the
        invitees were not read incrementally before, or their pass began after `since`)."""
        with self._lock:
            if not self._complete or self._since is None or self._since > since:
                return None
            return frozenset(self._emails)
