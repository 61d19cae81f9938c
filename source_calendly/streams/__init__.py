from source_calendly.streams.activity import ActivityLogEntries, Contacts, OutgoingCommunications
from source_calendly.streams.availability import (
    EventTypeAvailabilitySchedules,
    EventTypeMemberships,
    UserAvailabilitySchedules,
)
from source_calendly.streams.directory import (
    GroupRelationships,
    Groups,
    Organization,
    OrganizationInvitations,
    Teams,
    Users,
    WebhookSubscriptions,
)
from source_calendly.streams.events import EventInvitees, ScheduledEvents
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.locations import Locations
from source_calendly.streams.notetaker import MeetingRecaps, MeetingRecapTranscripts
from source_calendly.streams.organization import AccountLookup, EventTypes, OrganizationMemberships
from source_calendly.streams.routing import RoutingForms, RoutingFormSubmissions

# The optional streams, in the order check reports them: each is skipped with a warning where Calendly refuses it.
OPTIONAL_STREAMS: tuple[type[GatedStream], ...] = (
    Organization,
    Users,
    Groups,
    GroupRelationships,
    OrganizationInvitations,
    EventTypeMemberships,
    UserAvailabilitySchedules,
    EventTypeAvailabilitySchedules,
    ActivityLogEntries,
    Contacts,
    OutgoingCommunications,
    WebhookSubscriptions,
    Teams,
    MeetingRecaps,
    Locations,
)

__all__ = [
    "OPTIONAL_STREAMS",
    "AccountLookup",
    "ActivityLogEntries",
    "Contacts",
    "EventInvitees",
    "EventTypeAvailabilitySchedules",
    "EventTypeMemberships",
    "EventTypes",
    "GatedStream",
    "GroupRelationships",
    "Groups",
    "Locations",
    "MeetingRecapTranscripts",
    "MeetingRecaps",
    "Organization",
    "OrganizationInvitations",
    "OrganizationMemberships",
    "OutgoingCommunications",
    "RoutingFormSubmissions",
    "RoutingForms",
    "ScheduledEvents",
    "Teams",
    "UserAvailabilitySchedules",
    "Users",
    "WebhookSubscriptions",
]
