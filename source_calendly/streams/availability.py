"""Who hosts each event type and when people are available: one list per event type or per user."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from source_calendly.access import Access
from source_calendly.streams.gated import PerParentStream
from source_calendly.streams.organization import EventTypes, OrganizationMemberships

AVAILABILITY = Access(scope="availability:read")


class EventTypeMemberships(PerParentStream):
    """The hosts of every event type the token may list (the organization's, or its own user's).

    https://developer.calendly.com/api-docs/calendly-api/event-types/list-event-type-hosts
    """

    name = "event_type_memberships"
    endpoint = "event_type_memberships"
    parent_stream = EventTypes
    parent_param = "event_type"
    access = Access(scope="event_types:read")


class EventTypeAvailabilitySchedules(PerParentStream):
    """https://developer.calendly.com/api-docs/calendly-api/availability/list-event-type-availability-schedules"""

    name = "event_type_availability_schedules"
    endpoint = "event_type_availability_schedules"
    primary_key = [["event_type"], ["availability_rule", "uri"]]  # no uri: see the schema's description
    parent_stream = EventTypes
    parent_param = "event_type"
    paginated = False
    access = AVAILABILITY

    def decorate(self, record: Mapping[str, Any], parent_uri: str) -> Mapping[str, Any]:
        # The event type is half of the primary key; the spec does not promise it in the record.
        return record if record.get("event_type") else {**record, "event_type": parent_uri}


class UserAvailabilitySchedules(PerParentStream):
    """Availability schedules of every member (for an admin's token), else of the token's own user.

    https://developer.calendly.com/api-docs/calendly-api/availability/list-user-availability-schedules
    """

    name = "user_availability_schedules"
    endpoint = "user_availability_schedules"
    parent_stream = OrganizationMemberships
    parent_param = "user"
    paginated = False
    access = AVAILABILITY

    def parent_uris(self) -> Iterator[str]:
        account = self.context.account
        if not account.is_admin:
            yield account.user_uri  # Calendly shows a member only their own schedules
            return
        for membership in self.parent.list_own(self.parent.request_params()):
            user = membership.get("user")
            if isinstance(user, Mapping) and user.get("uri"):
                yield str(user["uri"])

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {"user": self.context.account.user_uri}
