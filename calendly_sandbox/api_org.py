"""The endpoints added to Calendly API v2 since 2023 (Calendly's 2026 OpenAPI), routed by ``api.Api``.

Gates as Calendly words them: a missing scope is ``403 Insufficient scope``; a plan without the feature or a
role without access is ``403 Permission Denied`` with the endpoint's message. Decisions where the reference is
silent are marked DECISION; the ones that matter to a client are knobs in ``behaviour.Behaviour``.

Plans: groups need Teams or Enterprise ([EST], like routing forms); the activity log and outgoing
communications need Enterprise; webhook subscriptions (2026-11-03) and contacts (2026-11-19) are on every plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from . import errors
from .endpoint_base import Endpoints
from .listing import Handler, Listing, Principal, Query
from .orgstore import Item, Timeline
from .pagination import PageTokens, collection_body
from .store import TEAMS_PLANS, Store
from .timeutil import fmt_ms
from .tokens import (
    API_BASE,
    SCOPE_ACTIVITY_LOG,
    SCOPE_AVAILABILITY,
    SCOPE_CONTACTS,
    SCOPE_EVENT_TYPES,
    SCOPE_GROUPS,
    SCOPE_ORGS,
    SCOPE_OUTGOING,
    SCOPE_WEBHOOKS,
)

UPGRADE_ENTERPRISE = "Please upgrade your Calendly account to Enterprise."
UNAUTHORIZED = "Unauthorized"
ACTIVITY_SORT_FIELDS = ("occurred_at", "action", "namespace", "actor.display_name", "actor.uri")
MAX_TOTAL_COUNT = 10_000  # DECISION: where exceeds_max_total_count turns true (Calendly's cap is unpublished)
CONTACT_EXACT = ("timezone", "country", "state")
CONTACT_PARTIAL = ("name", "job_title", "company", "city")


def _values(q: Query, name: str) -> list[str] | None:
    """A list parameter: ``name[]`` or ``name``, comma-separated (the request parser keeps one value per key,
    so repeating ``name[]=a&name[]=b`` keeps only the last: send ``a,b``)."""
    raw = q.get(f"{name}[]", q.get(name))
    if raw is None:
        return None
    return [v.strip() for v in raw.split(",") if v.strip()]


def _one_page(blobs: list[bytes]) -> bytes:
    """A collection served whole, with the Pagination object the schema requires and nothing to follow."""
    pagination = {
        "count": len(blobs),
        "next_page": None,
        "previous_page": None,
        "next_page_token": None,
        "previous_page_token": None,
    }
    return collection_body(blobs, pagination)


class OrgEndpoints(Endpoints):
    def __init__(self, store: Store, page_tokens: PageTokens) -> None:
        super().__init__(store, page_tokens)
        self.org = store.org

    def routes(self) -> dict[tuple[tuple[str, ...], int], tuple[str, Handler]]:
        return {
            (("organizations", "invitations"), 1): ("/organizations/{uuid}/invitations", self.list_invitations),
            (("groups",), 0): ("/groups", self.list_groups),
            (("group_relationships",), 0): ("/group_relationships", self.list_group_relationships),
            (("teams",), 0): ("/teams", self.list_teams),
            (("event_type_memberships",), 0): ("/event_type_memberships", self.list_event_type_memberships),
            (("event_type_availability_schedules",), 0): (
                "/event_type_availability_schedules",
                self.list_event_type_schedules,
            ),
            (("user_availability_schedules",), 0): ("/user_availability_schedules", self.list_user_schedules),
            (("activity_log_entries",), 0): ("/activity_log_entries", self.list_activity_log),
            (("outgoing_communications",), 0): ("/outgoing_communications", self.list_communications),
            (("webhook_subscriptions",), 0): ("/webhook_subscriptions", self.list_webhooks),
            (("contacts",), 0): ("/contacts", self.list_contacts),
        }

    # -- shared checks ------------------------------------------------------------------------------------
    def _admin(self, p: Principal) -> bool:
        return self.store.is_admin(p.user, p.org)

    def _plan(self, p: Principal) -> str:
        return self.store.org_plan(p.org)

    def _required_org(self, q: Query, p: Principal, foreign: str = errors.NO_ACCESS) -> str:
        org = self._uri(q, "organization", "organizations")
        if org is None:
            raise errors.invalid(("organization", "is required"))
        if org != p.org:
            raise errors.denied(foreign)
        return org

    def _event_type(self, q: Query, p: Principal) -> str:
        uri = self._uri(q, "event_type", "event_types")
        if uri is None:
            raise errors.invalid(("event_type", "is required"))
        if uri not in self.store.event_type_by_uri:
            raise errors.not_found()
        if self.store.event_type_org[uri] != p.org:
            raise errors.denied(errors.NO_ACCESS)
        return uri

    @staticmethod
    def _listing(rows: Sequence[Item], desc: bool = False) -> Listing:
        """Rows already in key order."""
        return Listing([r.key for r in rows], rows, 0, len(rows), desc)

    # -- organization invitations -------------------------------------------------------------------------
    def list_invitations(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ORGS)
        row = self.store.orgs.get(ids[0])
        if row is None:
            raise errors.not_found()
        # Messages as the 2023 spec words them for the sibling admin listing (webhook subscriptions):
        # outside the organization "You do not have permission", not an admin "…to access this resource."
        if row.uri != p.org:
            raise errors.denied(errors.NO_PERMISSION)
        if self.store.behaviour.invitations_readers == "admins" and not self._admin(p):
            raise errors.denied(errors.NO_ACCESS)
        endpoint = f"/organizations/{ids[0]}/invitations"
        return self._paginate(p, endpoint, q, lambda params: self._invitations(row.uri, params))

    def _invitations(self, org: str, q: Query) -> Listing:
        # DECISION: the sort fields are not listed; created_at and updated_at are accepted.
        field, desc = self._sort(q, ("created_at", "updated_at"), "created_at:asc")
        status = self._enum(q, "status", ("pending", "accepted", "declined"))
        email = q.get("email")
        rows = [
            r
            for r in self.org.invitations.get(org, [])
            if (status is None or r.rec["status"] == status)
            and (email is None or r.rec["email"].lower() == email.lower())
        ]
        return self._sorted_listing(rows, lambda r: r.rec[field] + r.key, desc)

    # -- groups -------------------------------------------------------------------------------------------
    def _teams_plan(self, p: Principal) -> None:
        # DECISION: like routing forms, lower plans get the generic 403 (the wording is unconfirmed).
        if self._plan(p) not in TEAMS_PLANS:
            raise errors.denied(errors.NO_ACCESS)

    def list_groups(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_GROUPS)
        return self._paginate(p, "/groups", q, lambda params: self._groups(p, params))

    def _groups(self, p: Principal, q: Query) -> Listing:
        org = self._required_org(q, p)
        self._teams_plan(p)
        return self._listing(self.org.groups.get(org, []))

    def list_group_relationships(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_GROUPS)
        return self._paginate(p, "/group_relationships", q, lambda params: self._relationships(p, params))

    def _relationships(self, p: Principal, q: Query) -> Listing:
        # Every filter is optional (the spec); DECISION: without `organization` the caller's organization.
        org = self._uri(q, "organization", "organizations") or p.org
        group = self._uri(q, "group", "groups")
        owner = q.get("owner")
        if owner is not None and not self._owner_uri(owner):
            raise errors.invalid(("owner", "must be an organization membership or organization invitation URI"))
        if org != p.org:
            raise errors.denied(errors.NO_ACCESS)
        self._teams_plan(p)
        rows = [
            r
            for r in self.org.group_relationships.get(org, [])
            if (group is None or r.rec["group"] == group) and (owner is None or r.rec["owner"]["uri"] == owner)
        ]
        return self._listing(rows)

    @staticmethod
    def _owner_uri(uri: str) -> bool:
        membership = f"{API_BASE}/organization_memberships/"
        if uri.startswith(membership):
            return "/" not in uri[len(membership) :] and len(uri) > len(membership)
        parts = uri[len(API_BASE) :].split("/") if uri.startswith(API_BASE + "/") else []
        return len(parts) == 5 and parts[1] == "organizations" and parts[3] == "invitations" and all(parts[1:])

    # -- teams --------------------------------------------------------------------------------------------
    def list_teams(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ORGS)
        return self._paginate(p, "/teams", q, lambda params: self._teams(p, params))

    def _teams(self, p: Principal, q: Query) -> Listing:
        # No plan gate is stated; an organization without teams (Solo Co) lists none. Order: name (DECISION).
        user = self._uri(q, "user", "users")
        if user is not None and self.store.user_org.get(user) != p.org:
            raise errors.denied(errors.NOT_IN_ORG)
        if user is None and self.store.behaviour.teams_without_user == "caller":
            user = p.user
        rows = [r for r in self.org.teams.get(p.org, []) if user is None or user in self.org.team_members[r.rec["uri"]]]
        return self._listing(rows)

    # -- event type hosts and availability ----------------------------------------------------------------
    def list_event_type_memberships(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        # The spec secures this with personal access tokens only; every sandbox token is one.
        self._need_scope(p, SCOPE_EVENT_TYPES)
        return self._paginate(p, "/event_type_memberships", q, lambda params: self._hosts(p, params))

    def _hosts(self, p: Principal, q: Query) -> Listing:
        # DECISION: any member may list the hosts of any event type of their organization; order created_at.
        return self._listing(self.org.event_type_memberships.get(self._event_type(q, p), []))

    def list_event_type_schedules(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_AVAILABILITY)
        # Takes only `event_type` (no count, no page_token): one page, whatever else is sent (unconfirmed).
        uri = self._event_type(q, p)
        return _one_page([r.blob for r in self.org.event_type_schedules.get(uri, [])])

    def list_user_schedules(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_AVAILABILITY)
        user = self._member_param(p, q)
        if user != p.user and not self.store.behaviour.availability_of_others and not self._admin(p):
            raise errors.denied(errors.NO_PERMISSION)
        blobs = [r.blob for r in self.org.user_schedules.get(user, [])]
        return b'{"collection":[' + b",".join(blobs) + b"]}"  # no pagination object at all

    # -- activity log -------------------------------------------------------------------------------------
    def _enterprise(self, p: Principal) -> None:
        if self._plan(p) != "enterprise":
            raise errors.denied(UPGRADE_ENTERPRISE)

    def list_activity_log(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ACTIVITY_LOG)
        return self._paginate(
            p,
            "/activity_log_entries",
            q,
            lambda params: self._activity(p, params),
            self.store.behaviour.activity_log_max_count,
            self._activity_extras,
        )

    def _activity(self, p: Principal, q: Query) -> Listing:
        org = self._required_org(q, p)
        self._enterprise(p)
        if not self._admin(p):
            raise errors.denied(errors.NO_ACCESS)
        sort_q = {"sort": q.get("sort[]", q.get("sort", "occurred_at:desc"))}
        field, desc = self._sort(sort_q, ACTIVITY_SORT_FIELDS, "occurred_at:desc")
        lo = self._min_time(q, "min_occurred_at")
        hi = self._time(q, "max_occurred_at")
        search = q.get("search_term")
        if search is not None and len(search) > 300:
            raise errors.invalid(("search_term", "must be at most 300 characters"))
        namespaces, actions, actors = _values(q, "namespace"), _values(q, "action"), _values(q, "actor")
        retained = self.org.retained_since()
        lo = retained if lo is None else max(lo, retained)  # older entries are gone, not refused
        timeline = self.org.activity_log.get(org, Timeline())
        # DECISION: max_occurred_at is exclusive (as max_start_time); min_occurred_at per Behaviour.min_filters.
        start, end = timeline.bounds(lo, hi)
        filtered = search is not None or namespaces or actions or actors
        if field == "occurred_at" and not filtered:
            return Listing(timeline.keys, timeline.rows, start, end, desc)
        needle = search.lower().replace('"', "") if search else None
        rows = [
            r
            for r in timeline.rows[start:end]
            if (namespaces is None or r.rec["namespace"] in namespaces)
            and (actions is None or r.rec["action"] in actions)
            and (actors is None or r.rec["actor"].get("uri") in actors)
            # DECISION: search_term is a plain case-insensitive substring search (operators are not modelled).
            and (needle is None or needle in json.dumps(r.rec).lower())
        ]
        if field == "occurred_at":
            return self._listing(rows, desc)
        outer, _, inner = field.partition(".")

        def key(r: Item) -> str:
            value = r.rec[outer] if not inner else r.rec["actor"].get(inner) or ""
            return f"{value}\x00{r.key}"

        return self._sorted_listing(rows, key, desc)

    @staticmethod
    def _activity_extras(listing: Listing, page: list[Any]) -> dict[str, Any]:
        total = listing.hi - listing.lo
        newest = max((r.ts for r in page), default=None)
        return {
            "total_count": min(total, MAX_TOTAL_COUNT),
            "exceeds_max_total_count": total > MAX_TOTAL_COUNT,
            "last_event_time": fmt_ms(newest) if newest is not None else None,
        }

    # -- outgoing communications --------------------------------------------------------------------------
    def list_communications(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_OUTGOING)
        return self._paginate(
            p,
            "/outgoing_communications",
            q,
            lambda params: self._communications(p, params),
            extras=lambda listing, page: {"total_count": listing.hi - listing.lo},
        )

    def _communications(self, p: Principal, q: Query) -> Listing:
        org = self._required_org(q, p)
        self._enterprise(p)
        if self.store.behaviour.outgoing_communications_readers == "admins" and not self._admin(p):
            raise errors.denied(errors.NO_ACCESS)
        lo = self._min_time(q, "min_created_at")
        hi = self._time(q, "max_created_at")
        rows = self.org.communications_served(org, lo, hi)  # DECISION: max exclusive; min per Behaviour.min_filters
        return self._listing(rows, self.store.behaviour.outgoing_communications_order == "desc")

    # -- webhook subscriptions ----------------------------------------------------------------------------
    def list_webhooks(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_WEBHOOKS)
        return self._paginate(p, "/webhook_subscriptions", q, lambda params: self._webhooks(p, params))

    def _webhooks(self, p: Principal, q: Query) -> Listing:
        org = self._uri(q, "organization", "organizations")
        scope = self._enum(q, "scope", ("organization", "user", "group"))
        user = self._uri(q, "user", "users")
        group = self._uri(q, "group", "groups")
        _, desc = self._sort(q, ("created_at",), "created_at:asc")
        missing = [("organization", "is required")] if org is None else []
        if scope is None:
            missing.append(("scope", "is required"))
        elif scope == "user" and user is None:
            missing.append(("user", "is required when scope is user"))
        elif scope == "group" and group is None:
            missing.append(("group", "is required when scope is group"))
        if missing:
            raise errors.invalid(*missing)
        # 403 messages as the 2023 spec's examples word them.
        if org != p.org:
            raise errors.denied(errors.NO_PERMISSION)  # "Caller is not part of organization"
        # Every plan since 2026-11-03 (https://developer.calendly.com/release-notes/2026/11/3).
        admin = self._admin(p)
        if scope == "user":
            if self.store.user_org.get(user or "") != p.org or (user != p.user and not admin):
                raise errors.denied(UNAUTHORIZED)  # "Caller is not the user of the account"
        elif not admin:
            raise errors.denied(errors.NO_ACCESS)  # "Caller is not an admin/owner of the organization"
        rows = [
            r
            for r in self.org.webhooks.get(p.org, [])
            if r.rec["scope"] == scope
            and (scope != "user" or r.rec["user"] == user)
            and (scope != "group" or r.rec["group"] == group)
        ]
        return self._listing(rows, desc)

    # -- contacts -----------------------------------------------------------------------------------------
    def list_contacts(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        return self._paginate(
            p, "/contacts", q, lambda params: self._contacts(p, params), blob_of=self._contact_serialiser
        )

    @staticmethod
    def _contact_serialiser(q: Query) -> Callable[[Item], bytes] | None:
        exclude = q.get("exclude")
        if exclude is None:
            return None
        if exclude != "custom_fields":
            raise errors.invalid(("exclude", "must be custom_fields"))
        return lambda r: orjson.dumps({k: v for k, v in r.rec.items() if k != "custom_fields"})

    def contacts_of(self, p_user: str, org: str) -> list[Item]:
        """The contacts a user's token lists (before filters), per ``Behaviour.contacts_visibility``."""
        rows = self.org.contacts.get(org, [])
        if self.store.behaviour.contacts_visibility == "organization":
            return list(rows)
        return [r for r in rows if self.org.contact_owner[r.key] == p_user]

    def _contacts(self, p: Principal, q: Query) -> Listing:
        # Every plan since 2026-11-19 (https://developer.calendly.com/release-notes/2026/11/19).
        # DECISION: no default sort is stated; created_at:asc. Of a comma list, the first entry orders.
        field, desc = self._sort(q, ("created_at", "updated_at"), "created_at:asc")
        exact = {name: _values(q, name) for name in ("email", "phone_number", *CONTACT_EXACT)}
        partial = {name: [v.lower() for v in _values(q, name) or []] for name in CONTACT_PARTIAL if name in q}
        rows = [r for r in self.contacts_of(p.user, p.org) if _contact_matches(r.rec, exact, partial)]
        if q.get("contact_list"):  # 2026-11-17: the contacts of one List or View (contactbook.py)
            members = self.store.book.members_for(p.user, q["contact_list"])
            if members is None:  # DECISION: not one of the user's Lists or Views
                raise errors.not_found()
            rows = [r for r in rows if r.key in members]
        return self._sorted_listing(rows, lambda r: r.rec[field] + r.key, desc)


def _contact_matches(rec: dict[str, Any], exact: dict[str, list[str] | None], partial: dict[str, list[str]]) -> bool:
    emails = exact["email"]
    if emails is not None and not {e["email"].lower() for e in rec["emails"]} & {e.lower() for e in emails}:
        return False
    phones = exact["phone_number"]
    if phones is not None and not {n["phone_number"] for n in rec["phone_numbers"]} & set(phones):
        return False
    for name in CONTACT_EXACT:
        wanted = exact[name]
        if wanted is not None and rec[name] not in wanted:
            return False
    for name, segments in partial.items():
        value = (rec[name] or "").lower()
        if not any(seg in value for seg in segments):
            return False
    return True
