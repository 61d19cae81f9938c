"""Who hosts each event type and when people are available: one list per event type or per user."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from source_calendly.access import Access, StreamUnavailable
from source_calendly.streams.gated import Children
from source_calendly.streams.organization import EventTypes, OrganizationMemberships
from source_calendly.streams.tracked import TrackedPerParentStream

# The scope catalog lists both availability listings under availability:read and GET /event_type_memberships under
# event_types:read; neither page states a plan: https://developer.calendly.com/docs/authentication/scopes
AVAILABILITY = Access(scope="availability:read")


class EventTypeMemberships(TrackedPerParentStream):
    """The hosts of every event type the token may list (the organization's, or its own user's).

    https://developer.calendly.com/api-docs/calendly-api/event-types/list-event-type-hosts
    """

    name = "event_type_memberships"
    endpoint = "event_type_memberships"
    parent_stream = EventTypes
    parent_param = "event_type"
    access = Access(scope="event_types:read")


class EventTypeAvailabilitySchedules(TrackedPerParentStream):
    """https://developer.calendly.com/api-docs/calendly-api/availability/list-event-type-availability-schedules"""

    name = "event_type_availability_schedules"
    endpoint = "event_type_availability_schedules"
    # No uri, and a key must be top-level fields (PyAirbyte and typed destinations refuse nested key paths):
    # the schedule's URI is copied up into availability_rule_uri (see the schema's description).
    primary_key = ["event_type", "availability_rule_uri"]
    fields_every_record_has = ()  # no uri; the key's parts may be absent (see the schema's description)
    parent_stream = EventTypes
    parent_param = "event_type"
    paginated = False
    access = AVAILABILITY

    def decorate(self, record: Mapping[str, Any], parent_uri: str) -> Mapping[str, Any]:
        # Both halves of the primary key, top-level: the event type (the spec does not promise it in the record;
        # the request names it) and the schedule's URI from inside availability_rule.
        rule = record.get("availability_rule")
        return {
            **record,
            "event_type": record.get("event_type") or parent_uri,
            "availability_rule_uri": rule.get("uri") if isinstance(rule, Mapping) else None,
        }


class UserAvailabilitySchedules(TrackedPerParentStream):
    """Availability schedules of every user of the organization that the token may read.

    An admin's token reads every user's. Whether Calendly shows a plain member other users' schedules is not
    documented, so a member's token reads its own user's, then asks for one other user's: the rest follow if
    Calendly answers, and nothing more is asked if it refuses (one request, no warning: the member's own
    schedules are what it may see).

    https://developer.calendly.com/api-docs/calendly-api/availability/list-user-availability-schedules
    """

    name = "user_availability_schedules"
    endpoint = "user_availability_schedules"
    parent_stream = OrganizationMemberships
    parent_param = "user"
    paginated = False
    access = AVAILABILITY
    what = "schedules"  # what the stream reads per user, as a log line names it

    def parents(self) -> Iterator[tuple[str, Any]]:
        for membership in self.parent_records():
            user = membership.get("user")
            if isinstance(user, Mapping) and user.get("uri"):
                yield str(user["uri"]), user.get("updated_at")

    def read_parents(self, parents: Iterator[str]) -> Iterator[Children]:
        account = self.context.account
        if account.is_admin:
            yield from super().read_parents(parents)
            return
        wanted = list(parents)
        if account.user_uri in wanted:
            yield self._logged(self.children_of(account.user_uri))  # a refusal here refuses the stream
        others = (uri for uri in wanted if uri != account.user_uri)
        first = next(others, None)
        if first is None:
            return
        try:
            yield self._logged(self.children_of(first))
        except StreamUnavailable:
            self.logger.info(
                f"Stream {self.name}: Calendly shows this token only its own user's {self.what} "
                f"({account.name}); other users' need a token of an admin or owner."
            )
            return
        yield from super().read_parents(others)

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {"user": self.context.account.user_uri}
