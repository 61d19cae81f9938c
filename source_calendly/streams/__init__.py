from source_calendly.streams.events import EventInvitees, ScheduledEvents
from source_calendly.streams.organization import AccountLookup, EventTypes, OrganizationMemberships
from source_calendly.streams.routing import RoutingForms, RoutingFormSubmissions

__all__ = [
    "AccountLookup",
    "EventInvitees",
    "EventTypes",
    "OrganizationMemberships",
    "RoutingFormSubmissions",
    "RoutingForms",
    "ScheduledEvents",
]
