"""Who is in the organization and how it is set up: one listing each, full refresh."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.streams.base import uuid_of
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.organization import OrganizationMemberships

TEAMS_PLAN = "the Teams or Enterprise plan"


class Organization(GatedStream):
    """The token's organization: one record with its name, plan and stage.

    https://developer.calendly.com/api-docs/calendly-api/organizations/get-organization
    """

    name = "organization"
    access = Access(scope="organizations:read")

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return f"organizations/{uuid_of(self.context.account.organization_uri)}"

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        organization, _ = self.fetch_resource(self.endpoint)
        yield organization

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {}


class Users(GatedStream):
    """The user embedded in each organization membership, so no request of its own: the memberships listing
    is the one organization_memberships reads. Any member may list the memberships, so any token gets every
    user of the organization."""

    name = "users"
    access = Access(scope="organizations:read")

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        memberships = OrganizationMemberships(context=self.context)
        for membership in memberships.list_own(memberships.request_params()):
            user = membership.get("user")
            if isinstance(user, Mapping):
                yield user

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return None  # the memberships listing: any member may read it (the role lookup already did)


class Groups(GatedStream):
    """https://developer.calendly.com/api-docs/calendly-api/groups/list-groups"""

    name = "groups"
    endpoint = "groups"
    access = Access(scope="groups:read", plan=TEAMS_PLAN)

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}


class GroupRelationships(GatedStream):
    """Group members and group admins; an owner is a membership or a pending invitation.

    https://developer.calendly.com/api-docs/calendly-api/groups/list-group-relationships
    """

    name = "group_relationships"
    endpoint = "group_relationships"
    access = Access(scope="groups:read", plan=TEAMS_PLAN)

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}


class OrganizationInvitations(GatedStream):
    """https://developer.calendly.com/api-docs/calendly-api/organizations/list-organization-invitations"""

    name = "organization_invitations"
    access = Access(scope="organizations:read", admin=True)

    @property
    def endpoint(self) -> str:  # type: ignore[override]
        return f"organizations/{uuid_of(self.context.account.organization_uri)}/invitations"


class Teams(GatedStream):
    """Teams as Calendly lists them without a `user` filter, which it documents only as the token's own
    organization's: every team, or the caller's (either way what the token may see).

    https://developer.calendly.com/api-docs/calendly-api/teams/list-teams
    """

    name = "teams"
    endpoint = "teams"
    access = Access(scope="organizations:read")


class WebhookSubscriptions(GatedStream):
    """The organization's webhook subscriptions.

    https://developer.calendly.com/api-docs/calendly-api/webhooks/list-webhook-subscriptions
    """

    name = "webhook_subscriptions"
    endpoint = "webhook_subscriptions"
    access = Access(scope="webhooks:read", plan="a paid plan (Standard or higher)", admin=True)

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri, "scope": "organization"}
