"""The Calendly API v2 read endpoints: authentication, scopes, parameters, permissions, listings.

Transport-free: ``Api.authenticate`` resolves the bearer token, ``Api.route`` finds the handler for a path, and
a handler turns (principal, query, path ids) into body bytes or raises ``ApiError``. The HTTP server adds rate
limiting, faults and the wire format. Decisions where the real API is undocumented are
marked DECISION below. The endpoints added since 2023 (groups, teams, invitations, hosts, availability, activity
log, outgoing communications, webhook subscriptions, contacts) live in ``api_org.py``; both share the parameter
parsing and pagination of ``endpoint_base.py``, and the routing, rate limiting and request log of this module.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import orjson

from . import errors
from .api_contactbook import ContactBookEndpoints
from .api_notetaker import NotetakerEndpoints
from .api_org import OrgEndpoints
from .endpoint_base import ID_RE, Endpoints
from .errors import ApiError
from .listing import Handler, Listing, Principal, Query
from .oauth import OAuthServer
from .pagination import PageTokens, resource_body
from .rows import EventRow, Row
from .store import TEAMS_PLANS, Store
from .timeutil import fmt
from .tokens import (
    API_BASE,
    SCOPE_EVENT_TYPES,
    SCOPE_EVENTS,
    SCOPE_ORGS,
    SCOPE_ROUTING,
    SCOPE_USERS,
    TOKEN_SCOPES,
    Tokens,
)


class Api(Endpoints):
    def __init__(self, store: Store, tokens: Tokens, page_tokens: PageTokens) -> None:
        super().__init__(store, page_tokens)
        self.principals: dict[str, Principal] = {}
        self._by_label: dict[str, Principal] = {}
        for label, token in tokens.by_label().items():
            user = store.token_users[label]
            self.principals[token] = Principal(label, user, store.user_org[user], TOKEN_SCOPES[label])
            self._by_label[label] = self.principals[token]
        self.oauth: OAuthServer | None = None  # set by the sandbox: OAuth access tokens act as their grantor
        # (collection names of the path, number of ids) -> (endpoint label, handler)
        self._routes: dict[tuple[tuple[str, ...], int], tuple[str, Handler]] = {
            (("users",), 1): ("/users/{uuid}", self.get_user),
            (("organizations",), 1): ("/organizations/{uuid}", self.get_organization),
            (("organization_memberships",), 0): ("/organization_memberships", self.list_memberships),
            (("organization_memberships",), 1): ("/organization_memberships/{uuid}", self.get_membership),
            (("event_types",), 0): ("/event_types", self.list_event_types),
            (("event_types",), 1): ("/event_types/{uuid}", self.get_event_type),
            (("scheduled_events",), 0): ("/scheduled_events", self.list_events),
            (("scheduled_events",), 1): ("/scheduled_events/{uuid}", self.get_event),
            (("scheduled_events", "invitees"), 1): ("/scheduled_events/{uuid}/invitees", self.list_invitees),
            (("scheduled_events", "invitees"), 2): ("/scheduled_events/{uuid}/invitees/{uuid}", self.get_invitee),
            (("invitee_no_shows",), 1): ("/invitee_no_shows/{uuid}", self.get_no_show),
            (("routing_forms",), 0): ("/routing_forms", self.list_routing_forms),
            (("routing_forms",), 1): ("/routing_forms/{uuid}", self.get_routing_form),
            (("routing_form_submissions",), 0): ("/routing_form_submissions", self.list_submissions),
            (("routing_form_submissions",), 1): ("/routing_form_submissions/{uuid}", self.get_submission),
        }
        self._routes.update(OrgEndpoints(store, page_tokens).routes())
        self._routes.update(NotetakerEndpoints(store, page_tokens).routes())
        book = ContactBookEndpoints(store, page_tokens)
        self._routes.update(book.routes())
        self._static_routes = book.static_routes()  # exact paths, matched before the id patterns

    # -- entry points -------------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        principal = self._principal_of(authorization)
        if principal is None:
            token = authorization.partition(" ")[2].strip() if authorization else ""
            if self.oauth is not None and self.oauth.is_known(token):
                raise errors.access_token_expired()
            raise errors.unauthenticated()
        return principal

    def _principal_of(self, authorization: str | None) -> Principal | None:
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer":
                token = token.strip()
                principal = self.principals.get(token)
                if principal is None and self.oauth is not None:
                    label = self.oauth.principal_label(token)
                    principal = self._by_label.get(label) if label else None
                return principal
        return None

    def label_of(self, authorization: str | None) -> str | None:
        principal = self._principal_of(authorization)
        return principal.label if principal else None

    def user_of(self, authorization: str | None) -> str | None:
        principal = self._principal_of(authorization)
        return principal.user if principal else None

    def endpoint_label(self, path: str) -> str:
        """Path with ids replaced by ``{uuid}`` (for logs and stats); "(unknown)" for unknown paths."""
        try:
            return self.route(path)[0]
        except ApiError:
            return "(unknown)"

    def route(self, path: str) -> tuple[str, Handler, Sequence[str]]:
        """(endpoint label for stats, handler, path ids) or 404. Labels use ``{uuid}`` for ids."""
        parts = path.strip("/").split("/")
        if path.endswith("/") or any(not part for part in parts):  # strict paths: no trailing slash
            raise errors.not_found()
        static = self._static_routes.get(path)
        if static is not None:
            return static[0], static[1], ()
        ids = parts[1::2]
        if any(not ID_RE.match(i) for i in ids):
            raise errors.not_found()
        found = self._routes.get((tuple(parts[0::2]), len(ids)))
        if found is None:
            raise errors.not_found()
        if parts == ["users", "me"]:
            return "/users/me", found[1], ids
        return found[0], found[1], ids

    # -- users & organizations ----------------------------------------------------------------------------
    def get_user(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_USERS)
        if ids[0] == "me":
            return resource_body(self.store.user_by_uri[p.user].blob)
        row = self.store.users.get(ids[0])
        if row is None:
            raise errors.not_found()
        if self.store.user_org[row.uri] != p.org:
            raise errors.denied(errors.NO_ACCESS)
        return resource_body(row.blob)

    def get_organization(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ORGS)  # DECISION: scope UNCONFIRMED; organizations:read is the natural one
        row = self.store.orgs.get(ids[0])
        if row is None:
            raise errors.not_found()
        if row.uri != p.org:
            raise errors.denied(errors.NO_ACCESS)
        return resource_body(row.blob)

    # -- organization memberships -------------------------------------------------------------------------
    def list_memberships(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ORGS)
        return self._paginate(p, "/organization_memberships", q, lambda params: self._memberships(p, params))

    def _memberships(self, p: Principal, q: Query) -> Listing:
        store = self.store
        org = self._uri(q, "organization", "organizations")
        user = self._uri(q, "user", "users")
        role = self._enum(q, "role", ("owner", "admin", "user"))
        email = q.get("email")
        if org is None and user is None:
            raise errors.invalid(("organization", "is required when user is not given"))
        if org is not None:
            # Any member may list their organization's memberships; `user` is then a plain filter.
            if org != p.org:
                raise errors.denied(errors.NO_ACCESS)
        elif user != p.user:
            assert user is not None
            if not store.is_admin(p.user, p.org):
                raise errors.denied(errors.NO_PERMISSION)
            if store.user_org.get(user) != p.org:
                raise errors.denied(errors.NOT_IN_ORG)
        rows = store.memberships.get(p.org, [])
        out = [
            r
            for r in rows
            if (user is None or r.rec["user"]["uri"] == user)
            and (role is None or r.rec["role"] == role)
            and (email is None or r.rec["user"]["email"].lower() == email.lower())
        ]
        # DECISION: `sort` is undocumented here (Airbyte sends updated_at:desc); it is accepted and ignored,
        # the order is created_at ascending.
        return self._sorted_listing(out, lambda r: r.rec["created_at"] + r.uuid, False)

    def get_membership(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ORGS)
        row = self.store.membership_by_uuid.get(ids[0])
        if row is None:
            raise errors.not_found()
        if row.rec["organization"] != p.org:
            raise errors.denied(errors.NO_ACCESS)
        return resource_body(row.blob)

    # -- event types --------------------------------------------------------------------------------------
    def list_event_types(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENT_TYPES)
        return self._paginate(p, "/event_types", q, lambda params: self._event_types(p, params))

    def _event_types(self, p: Principal, q: Query) -> Listing:
        store = self.store
        org = self._uri(q, "organization", "organizations")
        user = self._uri(q, "user", "users")
        active = self._bool(q, "active")
        admin_managed = self._bool(q, "admin_managed")
        field, desc = self._sort(q, ("name", "position", "created_at", "updated_at"), "name:asc")
        if org is None and user is None:
            raise errors.invalid(("organization", "is required when user is not given"))
        admin = store.is_admin(p.user, p.org)
        if org is not None and org != p.org:
            raise errors.denied(errors.NOT_IN_ORG)  # per the 2023 spec's "Caller is not in organization"
        if user is not None and user != p.user:
            if not admin:
                raise errors.denied(errors.NO_PERMISSION)
            if store.user_org.get(user) != p.org:
                raise errors.denied(errors.NOT_IN_ORG)
        if user is None and not admin:
            raise errors.denied(errors.NO_PERMISSION)
        rows = [
            r
            for r in store.event_types.get(p.org, [])
            if (user is None or r.rec["profile"]["owner"] == user)
            and (active is None or r.rec["active"] == active)
            and (admin_managed is None or r.rec["admin_managed"] == admin_managed)
        ]
        if field == "position":
            return self._sorted_listing(rows, lambda r: f"{r.rec['position']:010d}\x00{r.uuid}", desc)
        return self._sorted_listing(rows, lambda r: f"{r.rec[field] or ''}\x00{r.uuid}", desc)

    def get_event_type(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENT_TYPES)
        row = self.store.event_type_by_uri.get(f"{API_BASE}/event_types/{ids[0]}")
        if row is None:
            raise errors.not_found()
        if self.store.event_type_org[row.uri] != p.org:
            raise errors.denied(errors.NO_ACCESS)
        return resource_body(row.blob)

    # -- scheduled events ---------------------------------------------------------------------------------
    def list_events(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENTS)
        return self._paginate(p, "/scheduled_events", q, lambda params: self._events(p, params))

    def _event_scope(self, p: Principal, org: str | None, user: str | None) -> str:
        """The index scope (an org or user URI) the requester may read, or a 403 as Calendly words it."""
        store = self.store
        if org is None and user is None:
            raise errors.invalid(("organization", "is required when user is not given"), ("user", "is required"))
        if org is not None:
            if org != p.org:
                raise errors.denied(errors.NO_ACCESS)
            if not store.is_admin(p.user, org):
                # DECISION: a plain member may still name themselves together with their organization.
                if user == p.user:
                    return user
                raise errors.denied(errors.NO_PERMISSION)
            if user is None:
                return org
            if store.user_org.get(user) != org:
                raise errors.denied(errors.NOT_IN_ORG)
            return user
        assert user is not None
        if user == p.user:
            return user
        if store.is_admin(p.user, p.org) and store.user_org.get(user) == p.org:
            raise errors.denied(errors.SPECIFY_ORG)
        raise errors.denied(errors.NO_PERMISSION)

    def _events(self, p: Principal, q: Query) -> Listing:
        org = self._uri(q, "organization", "organizations")
        user = self._uri(q, "user", "users")
        status = self._enum(q, "status", ("active", "canceled"))
        _, desc = self._sort(q, ("start_time",), "start_time:asc")
        min_start = self._min_time(q, "min_start_time")
        max_start = self._time(q, "max_start_time")
        email = q.get("invitee_email")
        scope = self._event_scope(p, org, user)  # DECISION: `group` is accepted and ignored (no groups modelled)
        lo_key = fmt(min_start) if min_start is not None else None
        hi_key = fmt(max_start) if max_start is not None else None
        if email is None:
            idx = self.store.event_index(scope, status)
            keys = idx.keys
            lo = bisect_left(keys, lo_key) if lo_key else 0
            hi = bisect_left(keys, hi_key) if hi_key else len(keys)  # start_time == max is excluded
            return Listing(keys, idx.rows, lo, max(lo, hi), desc)
        # DECISION: invitee_email matches any invitee of the event (active or canceled), case-insensitively.
        candidates: list[EventRow] = [
            r
            for r in self.store.email_events.get(email.lower(), [])
            if (r.org == scope or scope in r.hosts)
            and (status is None or r.status == status)
            and (lo_key is None or r.key >= lo_key)
            and (hi_key is None or r.key < hi_key)
        ]
        return self._sorted_listing(candidates, lambda r: r.key, desc)

    def _readable_event(self, p: Principal, uuid: str, message: str) -> EventRow:
        row = self.store.events.get(uuid)
        if row is None:
            raise errors.not_found()
        if p.user not in row.hosts and not (row.org == p.org and self.store.is_admin(p.user, p.org)):
            raise errors.denied(message)
        return row

    def get_event(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENTS)
        return resource_body(self._readable_event(p, ids[0], errors.NO_ACCESS).blob)

    def list_invitees(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENTS)
        event = self._readable_event(p, ids[0], errors.NOT_ALLOWED_EVENT)
        endpoint = f"/scheduled_events/{ids[0]}/invitees"
        return self._paginate(p, endpoint, q, lambda params: self._invitees(event, params))

    def _invitees(self, event: EventRow, q: Query) -> Listing:
        status = self._enum(q, "status", ("active", "canceled"))
        _, desc = self._sort(q, ("created_at",), "created_at:asc")
        email = q.get("email")
        email = email.lower() if email is not None else None
        rows = [
            r for r in event.invitees if (status is None or r.status == status) and (email is None or r.email == email)
        ]
        return Listing([r.key for r in rows], rows, 0, len(rows), desc)  # event.invitees is kept sorted

    def get_invitee(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENTS)
        event = self._readable_event(p, ids[0], "You do not have permission to view this event")
        row = self.store.invitees.get(ids[1])
        if row is None or row.event is not event:
            raise errors.not_found()
        return resource_body(row.blob)

    def get_no_show(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_EVENTS)
        found = self.store.no_shows.get(ids[0])
        if found is None:
            raise errors.not_found()
        invitee, created_at = found
        self._readable_event(p, invitee.event.uuid, errors.NO_ACCESS)
        body = {"uri": f"{API_BASE}/invitee_no_shows/{ids[0]}", "invitee": invitee.uri, "created_at": created_at}
        return resource_body(orjson.dumps(body))

    # -- routing forms ------------------------------------------------------------------------------------
    def _teams_org(self, p: Principal, org: str) -> None:
        if org != p.org:
            raise errors.denied(errors.NO_ACCESS)
        # DECISION: routing forms are Teams-or-higher; lower plans get the generic 403 (wording UNCONFIRMED).
        if self.store.org_plan(org) not in TEAMS_PLANS:
            raise errors.denied(errors.NO_ACCESS)

    def list_routing_forms(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ROUTING)
        return self._paginate(p, "/routing_forms", q, lambda params: self._routing_forms(p, params))

    def _routing_forms(self, p: Principal, q: Query) -> Listing:
        org = self._uri(q, "organization", "organizations")
        _, desc = self._sort(q, ("created_at",), "created_at:asc")
        if org is None:
            raise errors.invalid(("organization", "is required"))
        self._teams_org(p, org)
        rows = self.store.forms.get(org, [])
        return self._sorted_listing(rows, lambda r: r.rec["created_at"] + r.uuid, desc)

    def get_routing_form(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ROUTING)
        row = self.store.form_by_uuid.get(ids[0])
        if row is None:
            raise errors.not_found()
        self._teams_org(p, row.rec["organization"])
        return resource_body(row.blob)

    def list_submissions(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ROUTING)
        return self._paginate(p, "/routing_form_submissions", q, lambda params: self._submissions(p, params))

    def _submissions(self, p: Principal, q: Query) -> Listing:
        form_uri = self._uri(q, "form", "routing_forms")
        _, desc = self._sort(q, ("created_at",), "created_at:asc")
        if form_uri is None:
            raise errors.invalid(("form", "is required"))
        form = self.store.form_by_uuid.get(form_uri.rsplit("/", 1)[-1])
        if form is None:
            raise errors.not_found()
        self._teams_org(p, form.rec["organization"])
        rows: list[Row] = self.store.submissions.get(form.uri, [])
        return self._sorted_listing(rows, lambda r: r.rec["created_at"] + r.uuid, desc)

    def get_submission(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_ROUTING)
        row = self.store.submission_by_uuid.get(ids[0])
        if row is None:
            raise errors.not_found()
        form = self.store.form_by_uri(row.rec["routing_form"])
        self._teams_org(p, form.rec["organization"])
        return resource_body(row.blob)
