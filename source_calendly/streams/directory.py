"""Who is in the organization and how it is set up: one listing each, full refresh (webhook subscriptions: per
member and group too, incrementally as well)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode

from source_calendly.access import Access, StreamUnavailable
from source_calendly.streams.base import uuid_of
from source_calendly.streams.gated import GatedStream
from source_calendly.streams.organization import OrganizationMemberships
from source_calendly.streams.tracked import TrackedPerParentStream

# Scopes as the scope catalog lists them: https://developer.calendly.com/docs/authentication/scopes
# Groups are a Teams and Enterprise feature in Calendly; the groups endpoints state no plan themselves
# (https://developer.calendly.com/api-docs/calendly-api/groups/list-groups), so this only words a refusal.
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
    shared_with = "webhook_subscriptions"  # its group-scoped subscriptions are listed per group
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
    # The page states no role; inviting is an admin's or owner's action, and so is listing (sandbox: both ways).
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


class WebhookSubscriptions(TrackedPerParentStream):
    """The organization's webhook subscriptions of all three scopes.

    Calendly lists them one scope at a time, and `organization` is always required: `scope=organization` once,
    `scope=user` with `user=` (required for that scope) once per member, `scope=group` with `group=` (required
    for that scope) once per group. The members and groups are the organization_memberships and groups
    listings, replayed when those streams are read in the same sync. Webhooks are on every plan since
    2026-11-03 (https://developer.calendly.com/release-notes/2026/11/3); the organization and group scopes are
    an admin's or owner's to list, so any other token reads its own user's subscriptions only (one request).

    Incrementally, the organization is one more parent, read every sync (one request); members and groups are
    tracked parents without a signal: nothing Calendly documents moves when a user's or a group's subscriptions
    change (a subscription may even vanish on its own: a 410 from the callback deletes it,
    https://developer.calendly.com/docs/webhooks/overview), so the rotation re-reads them a slice per sync.

    https://developer.calendly.com/api-docs/calendly-api/webhooks/list-webhook-subscriptions
    """

    name = "webhook_subscriptions"
    endpoint = "webhook_subscriptions"
    access = Access(scope="webhooks:read", admin=True)
    parent_stream = OrganizationMemberships
    parent_param = "user"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._groups_listed = True

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri, "scope": "organization"}

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        account = self.context.account
        if not account.is_admin:
            self.logger.info(
                f"Stream {self.name}: {account.name} is not an admin or owner, so only their own user-scoped "
                "subscriptions are read; the organization's and groups' need a token of an admin or owner."
            )
        yield from super().read_allowed(sync_mode)  # a refusal of the first parent read skips the stream

    def scope(self) -> str:
        account = self.context.account
        return account.organization_uri if account.is_admin else account.user_uri

    def parents(self) -> Iterator[tuple[str, Any]]:
        """The organization, every member's user, every group (an admin's token); its own user (any other)."""
        account = self.context.account
        if not account.is_admin:
            yield account.user_uri, None
            return
        yield account.organization_uri, None
        for membership in self.parent_records():
            user = membership.get("user")
            if isinstance(user, Mapping) and user.get("uri"):
                yield str(user["uri"]), None
        for group in self.group_uris():
            yield group, None

    def always_read(self, uri: str) -> bool:
        account = self.context.account
        return uri == (account.organization_uri if account.is_admin else account.user_uri)

    def listed(self, uri: str) -> bool:
        return self._groups_listed or "/groups/" not in uri

    def group_uris(self) -> Iterator[str]:
        """Every group, from the groups listing; without it (a plan without groups has none to subscribe to; a
        token without groups:read gets a warning) no group-scoped subscription is read, and none is tombstoned."""
        groups = Groups(context=self.context)
        self._groups_listed = True
        try:
            earlier = self.context.refused.get(groups.name)  # the groups stream was refused already this sync
            if isinstance(earlier, StreamUnavailable):
                raise earlier
            for group in groups.list(groups.endpoint, groups.request_params(), shared=groups.listing_is_shared()):
                yield str(group["uri"])
        except StreamUnavailable as refused:
            self._groups_listed = False
            if refused.for_lack_of_scope:
                self.logger.warning(f"Stream {self.name}: group-scoped subscriptions were not read: {refused.reason}")

    def child_params(self, parent_uri: str) -> dict[str, str]:
        organization = self.context.account.organization_uri
        if parent_uri == organization:
            return {"organization": organization, "scope": "organization"}
        scope = "group" if "/groups/" in parent_uri else "user"
        return {"organization": organization, "scope": scope, scope: parent_uri}

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        account = self.context.account
        params = self.request_params() if account.is_admin else self.child_params(account.user_uri)
        return self.endpoint, {**params, "count": "1"}
