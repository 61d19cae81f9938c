"""Users' meeting locations: one unpaginated list per member of the organization.

https://developer.calendly.com/api-docs/calendly-api/locations/list-user-locations
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_calendly.access import Access
from source_calendly.streams.availability import UserAvailabilitySchedules


class Locations(UserAvailabilitySchedules):
    """The meeting locations each member has set up (kind, and for web conferencing whether it is connected).

    A location has no id and no timestamps: the key is (user, kind), `user` added by the connector from the
    request. Read per member like the users' availability schedules (the memberships listing is the one
    organization_memberships reads): incrementally, a member is read again when their user record changes and
    by rotation (a location change moves no user's `updated_at` that Calendly documents), and a member's
    location that is gone, or a member who left, becomes a tombstone. The scope catalog lists no plan.
    """

    name = "locations"
    endpoint = "locations"
    primary_key = ["user", "kind"]
    fields_every_record_has = ()  # the parent listing (memberships) is read as this stream: no uri check either
    access = Access(scope="locations:read")
    what = "meeting locations"

    def decorate(self, record: Mapping[str, Any], parent_uri: str) -> Mapping[str, Any]:
        return {"user": parent_uri, **record}
