"""Knobs for the points Calendly's reference leaves open, so tests can run the sandbox both ways.

Each default is the behaviour judged most plausible from Calendly's 2026 OpenAPI (developer.calendly.com); the
alternative is what Calendly might do instead. The API and the ground truth (``Truth``) read the same knobs,
so truth always describes what the sandbox serves.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

CHOICES: dict[str, tuple[Any, ...]] = {
    # Who may list /organizations/{uuid}/invitations. The spec states no role; inviting people is an
    # admin/owner action in Calendly, so listing is too by default. "members": any member may list them.
    "invitations_readers": ("admins", "members"),
    # Who may list /outgoing_communications in an Enterprise organization. The spec states no role beyond the
    # plan; default any member (the organization's messages), "admins" for admin/owner only.
    "outgoing_communications_readers": ("members", "admins"),
    # The largest `count` /activity_log_entries takes: its own page documents 1-1000, the shared Pagination schema
    # at most 100 (developer.calendly.com/api-docs/calendly-api/activity-log/list-activity-log-entries). With 100,
    # a larger count answers 400 Invalid Argument naming count.
    "activity_log_max_count": (1000, 100),
    # Whether /outgoing_communications lists messages that share event, type, recipient and created_at: a
    # confirmation and a reminder created at one instant, and now and then the same message twice. Nothing in the
    # docs rules them out (the records have no uri or id), so by default they are there; False serves none.
    "communication_collisions": (True, False),
    # Order of /outgoing_communications, which takes no sort parameter (unconfirmed): created_at asc or desc.
    "outgoing_communications_order": ("asc", "desc"),
    # Whether a plain member may read another organization user's /user_availability_schedules. The spec names
    # only "This user is not in your organization", so by default any member may; False answers 403
    # "You do not have permission" for anyone but the caller (admins and owners may always).
    "availability_of_others": (True, False),
    # Whose /contacts a token lists: the spec has no organization or user parameter ("the caller's contacts").
    # "owner": each user's own contact book (a contact belongs to the host who first met them);
    # "organization": every contact of the organization.
    "contacts_visibility": ("owner", "organization"),
    # /teams without `user` (unconfirmed): "organization" lists the organization's teams, "caller" the teams
    # the token's user belongs to.
    "teams_without_user": ("organization", "caller"),
    # Whether a group event's updated_at moves when one of its invitees books or cancels (only its
    # invitees_counter surely changes): by default it stays, the case a connector must still catch.
    "group_changes_move_updated_at": (False, True),
    # Whether editing an event's meeting notes moves its updated_at: by default it does; False shows what an
    # incremental reader can (not) see if it does not.
    "notes_move_updated_at": (True, False),
    # How `min_start_time`, `min_occurred_at` and `min_created_at` compare. The docs word each as "after this
    # time" (list events, list activity log entries, list outgoing communications on developer.calendly.com),
    # which may be strict: "inclusive" lists records at the bound, "exclusive" only those strictly after it.
    "min_filters": ("inclusive", "exclusive"),
    # Whether a contact's updated_at moves when its next_meeting_date, last_meeting_date or last_interaction_date
    # change (a meeting booked, canceled or rescheduled with the contact). Undocumented; the 2026-05-27 release
    # note says contact.updated does not fire for changes to related resources, so by default it stays.
    "contact_meetings_move_updated_at": (False, True),
    # Whether an event type's updated_at moves when its hosts (/event_type_memberships) or its availability
    # (/event_type_availability_schedules) change. The reference says neither: by default it stays.
    "event_type_changes_move_updated_at": (False, True),
    # Whether a user's updated_at (also embedded in their organization membership) moves when their availability
    # schedule changes. The reference says nothing: by default it stays.
    "user_availability_moves_updated_at": (False, True),
    # Whether a routing form submission can disappear from its form's listing (`Sandbox.delete_form_submission`).
    # The reference documents no deletion of submissions (nor their retention): by default none disappears.
    "submissions_can_vanish": (False, True),
    # Whose /meeting_recaps a token lists: the reference says "recaps accessible to the authenticated user" and has
    # no user or organization parameter (the 2026-07-22 release note names both; the reference page does not).
    # "own": the recaps of the caller's own meetings, whatever the role; "organization": an admin's or owner's
    # token lists the organization's (a plain member's still only its own).
    "meeting_recaps_visibility": ("own", "organization"),
    # Whether writing a note about a contact (POST /notes, 2026-11-17) moves the contact's updated_at. The reference
    # says nothing: by default it stays. The connector reads notes whole either way (streams/contactbook.py).
    "contact_notes_move_updated_at": (False, True),
}


@dataclass
class Behaviour:
    invitations_readers: str = "admins"
    outgoing_communications_readers: str = "members"
    outgoing_communications_order: str = "asc"
    communication_collisions: bool = True
    activity_log_max_count: int = 1000
    availability_of_others: bool = True
    contacts_visibility: str = "owner"
    teams_without_user: str = "organization"
    group_changes_move_updated_at: bool = False
    notes_move_updated_at: bool = True
    min_filters: str = "inclusive"
    contact_meetings_move_updated_at: bool = False
    event_type_changes_move_updated_at: bool = False
    user_availability_moves_updated_at: bool = False
    submissions_can_vanish: bool = False
    meeting_recaps_visibility: str = "own"
    contact_notes_move_updated_at: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in CHOICES[f.name]:
                raise ValueError(f"{f.name} must be one of {CHOICES[f.name]}, not {value!r}")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
