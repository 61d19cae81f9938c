from source_calendly.streams.activity import ActivityLogEntries, Contacts, OutgoingCommunications
from source_calendly.streams.availability import (
    EventTypeAvailabilitySchedules,
    EventTypeMemberships,
    UserAvailabilitySchedules,
)
from source_calendly.streams.contactbook import (
    ContactCustomFieldDefinitions,
    ContactListMemberships,
    ContactLists,
    ContactNotes,
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
    ContactCustomFieldDefinitions,
    ContactLists,
    ContactListMemberships,
)
# Opt-in streams: in the catalog only when their config switch is on (see CalendlyConfig).
OPT_IN_STREAMS: tuple[tuple[str, type[GatedStream]], ...] = (
    ("include_meeting_recap_transcripts", MeetingRecapTranscripts),
    ("sync_contact_notes", ContactNotes),
)

__all__ = [
    "OPTIONAL_STREAMS",
    "OPT_IN_STREAMS",
    "AccountLookup",
    "ActivityLogEntries",
    "ContactCustomFieldDefinitions",
    "ContactListMemberships",
    "ContactLists",
    "ContactNotes",
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
