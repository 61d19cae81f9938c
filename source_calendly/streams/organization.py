"""Full-refresh organization streams, and the lookup of the token's own account."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import requests

from source_calendly.config import config_error
from source_calendly.context import Account, server_time
from source_calendly.errors import forbidden_message, required_scopes
from source_calendly.streams.base import CalendlyStream


class EventTypes(CalendlyStream):
    """Event types, active and inactive: the organization's for admins, else the token owner's.

    https://developer.calendly.com/api-docs/calendly-api/event-types/list-user-s-event-types
    """

    name = "event_types"
    endpoint = "event_types"
    shared_with = ("event_type_memberships", "event_type_availability_schedules")

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return self.context.scope_params()


class OrganizationMemberships(CalendlyStream):
    """Members of the token's organization with their roles.

    https://developer.calendly.com/api-docs/calendly-api/organizations/list-organization-memberships
    """

    name = "organization_memberships"
    endpoint = "organization_memberships"
    shared_with = ("users", "user_availability_schedules", "webhook_subscriptions", "locations")

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri}


class AccountLookup(CalendlyStream):
    """Not a catalog stream: resolves who the token belongs to, once per sync (`GET /users/me`), and the
    user's role from their own membership (a 403 there leaves the role unknown, so treated as non-admin)."""

    name = "account"
    endpoint = "users/me"
    tolerated_statuses = frozenset({403})

    def resolve(self) -> Account:
        user, response = self.fetch_resource(self.endpoint)
        organization = str(user.get("current_organization") or "")
        try:
            params = {"organization": organization, "user": str(user.get("uri"))}
            membership = next(iter(self.list("organization_memberships", params)), {})
            role = str(membership.get("role") or "") or None
        except _RoleHidden:
            role = None
        return Account(
            user_uri=str(user.get("uri")),
            name=str(user.get("name") or ""),
            email=str(user.get("email") or ""),
            organization_uri=organization,
            role=role,
            server_time=server_time(response),
        )

    def on_tolerated_response(self, response: requests.Response) -> None:
        # Only a role lookup refused for lack of permission leaves the role unknown; a token without a scope
        # would otherwise pass an owner off as a member and sync only their own data.
        if (response.url and "/users/me" in response.url) or required_scopes(response):
            raise config_error(forbidden_message(response))
        raise _RoleHidden()


class _RoleHidden(Exception):
    pass
