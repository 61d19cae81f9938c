"""Fixed access tokens and scopes.

Tokens are constants (not derived from the seed) so configs, demos and docs can hard-code them. They are
deliberately not JWT-shaped: real PATs start with ``eyJ``, and a value that could be mistaken for a real
credential must never be committed or logged by the connector's tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

API_BASE = "https://api.calendly.com"
APP_BASE = "https://calendly.com"  # the web app, for links such as a contact's app_url

SCOPE_USERS = "users:read"
SCOPE_EVENTS = "scheduled_events:read"
SCOPE_EVENT_TYPES = "event_types:read"
SCOPE_ORGS = "organizations:read"
SCOPE_ROUTING = "routing_forms:read"
SCOPE_GROUPS = "groups:read"
SCOPE_AVAILABILITY = "availability:read"
SCOPE_ACTIVITY_LOG = "activity_log:read"
SCOPE_OUTGOING = "outgoing_communications:read"
SCOPE_WEBHOOKS = "webhooks:read"
SCOPE_CONTACTS = "contacts:read"
SCOPE_MEETING_RECAPS = "meeting_recaps:read"
SCOPE_LOCATIONS = "locations:read"
# Teams, organization invitations and the organization itself need organizations:read; event type hosts need
# event_types:read (Calendly's 2026 OpenAPI): no scope of their own.
ALL_SCOPES: frozenset[str] = frozenset(
    {
        SCOPE_USERS,
        SCOPE_EVENTS,
        SCOPE_EVENT_TYPES,
        SCOPE_ORGS,
        SCOPE_ROUTING,
        SCOPE_GROUPS,
        SCOPE_AVAILABILITY,
        SCOPE_ACTIVITY_LOG,
        SCOPE_OUTGOING,
        SCOPE_WEBHOOKS,
        SCOPE_CONTACTS,
        SCOPE_MEETING_RECAPS,
        SCOPE_LOCATIONS,
    }
)


@dataclass(frozen=True)
class Tokens:
    """The bearer tokens the sandbox accepts, by label."""

    admin: str = "sandbox-admin-token-acme-owner-0c5e7d1a9b"  # Acme owner (DatasetSpec.plan), legacy full access
    member: str = "sandbox-member-token-acme-user-4f2b8e6c31"  # Acme member with role "user"
    no_teams: str = "sandbox-noteams-token-soloco-owner-9a7d3f"  # owner of "Solo Co" on the standard plan
    no_routing_scope: str = "sandbox-scoped-token-acme-admin-6d1e0b"  # Acme admin, scopes without routing_forms
    # The same Acme admin with two more scoped tokens (Calendly lets a user hold several tokens).
    no_availability_scope: str = "sandbox-scoped-token-acme-admin-noavail-3b8e51"
    no_contacts_scope: str = "sandbox-scoped-token-acme-admin-nocontacts-72c4af"
    # Without meeting_recaps:read and locations:read (a token made before those scopes existed).
    no_notetaker_scope: str = "sandbox-scoped-token-acme-admin-nonotes-5e19c0"

    def by_label(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def label_of(self, token: str) -> str | None:
        for label, value in self.by_label().items():
            if value == token:
                return label
        return None


TOKENS = Tokens()

# New-style scoped tokens (2026-03) carry an explicit scope list; legacy tokens keep full access.
TOKEN_SCOPES: dict[str, frozenset[str]] = {
    "admin": ALL_SCOPES,
    "member": ALL_SCOPES,
    "no_teams": ALL_SCOPES,
    "no_routing_scope": ALL_SCOPES - {SCOPE_ROUTING},
    "no_availability_scope": ALL_SCOPES - {SCOPE_AVAILABILITY},
    "no_contacts_scope": ALL_SCOPES - {SCOPE_CONTACTS},
    "no_notetaker_scope": ALL_SCOPES - {SCOPE_MEETING_RECAPS, SCOPE_LOCATIONS},
}
