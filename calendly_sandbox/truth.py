"""Ground truth: what a complete listing would return, computed by brute force.

Deliberately independent of the API's indices and pagination (a full scan plus a sort), so tests comparing
the two check the fast path against a simple one. Records are fresh copies: callers may mutate them.
"""

from __future__ import annotations

from typing import Any

import orjson

from .notetaker import RECAP_STATUSES
from .rows import uuid_of
from .store import TEAMS_PLANS, Store
from .tokens import (
    SCOPE_ACTIVITY_LOG,
    SCOPE_AVAILABILITY,
    SCOPE_CONTACTS,
    SCOPE_GROUPS,
    SCOPE_LOCATIONS,
    SCOPE_MEETING_RECAPS,
    SCOPE_OUTGOING,
    SCOPE_ROUTING,
    SCOPE_WEBHOOKS,
    TOKEN_SCOPES,
    Tokens,
)

Record = dict[str, Any]
RETENTION_DAYS = 90


class Truth:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    def _user(self, token: str) -> tuple[str, str, str]:
        """(label, user URI, org URI) of a token, given as the token string or its label."""
        labels = self._tokens.by_label()
        label = token if token in labels else self._tokens.label_of(token)
        if label is None:
            raise KeyError(f"unknown token or label {token!r}")
        user = self._store.token_users[label]
        return label, user, self._store.user_org[user]

    def scheduled_events(self, token: str) -> list[Record]:
        """Admins/owners: every event of their organization; members: events they host. start_time asc."""
        _, user, org = self._user(token)
        s = self._store
        with s.lock:
            admin = s.is_admin(user, org)
            rows = [r for r in s.events.values() if (r.org == org if admin else user in r.hosts)]
            rows.sort(key=lambda r: r.key)
            return [orjson.loads(r.blob) for r in rows]

    def invitees(self, event_uri: str) -> list[Record]:
        """All invitees (any status) of one event, created_at asc."""
        s = self._store
        with s.lock:
            row = s.events[uuid_of(event_uri)]
            return [orjson.loads(r.blob) for r in sorted(row.invitees, key=lambda r: r.key)]

    def event_invitees(self, token: str) -> list[Record]:
        """Invitees of every event in the token's scope, event by event (the connector's fan-out result)."""
        return [inv for event in self.scheduled_events(token) for inv in self.invitees(event["uri"])]

    def event_types(self, token: str) -> list[Record]:
        """Admins/owners: the organization's event types; members: their own. name asc."""
        _, user, org = self._user(token)
        s = self._store
        with s.lock:
            admin = s.is_admin(user, org)
            rows = [r for r in s.event_types.get(org, []) if admin or r.rec["profile"]["owner"] == user]
            rows.sort(key=lambda r: (r.rec["name"] or "", r.uuid))
            return [orjson.loads(r.blob) for r in rows]

    def organization_memberships(self, token: str) -> list[Record]:
        """Every membership of the token's organization (any member may list them), created_at asc."""
        _, _, org = self._user(token)
        s = self._store
        with s.lock:
            rows = sorted(s.memberships.get(org, []), key=lambda r: (r.rec["created_at"], r.uuid))
            return [orjson.loads(r.blob) for r in rows]

    def _routing_org(self, token: str) -> str:
        label, _, org = self._user(token)
        if SCOPE_ROUTING not in TOKEN_SCOPES[label]:
            raise PermissionError("token lacks routing_forms:read (the API answers 403 Insufficient scope)")
        if self._store.org_plan(org) not in TEAMS_PLANS:
            raise PermissionError("organization has no Teams plan (the API answers 403 Permission Denied)")
        return org

    def routing_forms(self, token: str) -> list[Record]:
        """The organization's routing forms, created_at asc; PermissionError where the API answers 403."""
        org = self._routing_org(token)
        s = self._store
        with s.lock:
            rows = sorted(s.forms.get(org, []), key=lambda r: (r.rec["created_at"], r.uuid))
            return [orjson.loads(r.blob) for r in rows]

    def routing_form_submissions(self, token: str, form_uri: str | None = None) -> list[Record]:
        """Submissions of every form (or of ``form_uri``), form by form, each created_at asc."""
        forms = self.routing_forms(token)
        s = self._store
        out: list[Record] = []
        with s.lock:
            for form in forms:
                if form_uri is not None and form["uri"] != form_uri:
                    continue
                rows = sorted(s.submissions.get(form["uri"], []), key=lambda r: (r.rec["created_at"], r.uuid))
                out.extend(orjson.loads(r.blob) for r in rows)
        return out

    def user(self, token: str) -> Record:
        """What ``/users/me`` returns for the token."""
        _, user, _ = self._user(token)
        with self._store.lock:
            return orjson.loads(self._store.user_by_uri[user].blob)

    def organization(self, token: str) -> Record:
        _, _, org = self._user(token)
        with self._store.lock:
            return orjson.loads(self._store.org_by_uri[org].blob)

    # -- the newer streams (Calendly's 2026 OpenAPI); see api_org.py for the gates they mirror ------------------
    def _need(self, token: str, scope: str) -> tuple[str, str, str]:
        label, user, org = self._user(token)
        if scope not in TOKEN_SCOPES[label]:
            raise PermissionError(f"token lacks {scope} (the API answers 403 Insufficient scope)")
        return label, user, org

    def _admin(self, user: str, org: str) -> bool:
        return self._store.is_admin(user, org)

    @staticmethod
    def _loads(rows: list[Any], key: Any) -> list[Record]:
        return [orjson.loads(r.blob) for r in sorted(rows, key=key)]

    def organization_records(self, token: str) -> list[Record]:
        """The ``organization`` stream: the token's organization, one record."""
        return [self.organization(token)]

    def users(self, token: str) -> list[Record]:
        """The user embedded in each membership, in membership order (any member may list memberships)."""
        return [m["user"] for m in self.organization_memberships(token)]

    def groups(self, token: str) -> list[Record]:
        """Groups of the organization (Teams and Enterprise plans), created_at asc."""
        _, _, org = self._need(token, SCOPE_GROUPS)
        if self._store.org_plan(org) not in TEAMS_PLANS:
            raise PermissionError("organization has no Teams plan (the API answers 403 Permission Denied)")
        with self._store.lock:
            return self._loads(self._store.org.groups.get(org, []), lambda r: (r.rec["created_at"], r.rec["uri"]))

    def group_relationships(self, token: str) -> list[Record]:
        """Group relationships of the organization (Teams and Enterprise), created_at asc."""
        self.groups(token)  # the same gates
        _, _, org = self._user(token)
        with self._store.lock:
            rows = self._store.org.group_relationships.get(org, [])
            return self._loads(rows, lambda r: (r.rec["created_at"], r.rec["uri"]))

    def organization_invitations(self, token: str) -> list[Record]:
        """Invitations of the organization, created_at asc; admins and owners only by default."""
        _, user, org = self._user(token)
        if self._store.behaviour.invitations_readers == "admins" and not self._admin(user, org):
            raise PermissionError("only admins and owners list invitations (the API answers 403)")
        with self._store.lock:
            rows = self._store.org.invitations.get(org, [])
            return self._loads(rows, lambda r: (r.rec["created_at"], r.rec["uri"]))

    def teams(self, token: str) -> list[Record]:
        """Teams of the organization (or the caller's, per Behaviour.teams_without_user), name asc."""
        _, user, org = self._user(token)
        s = self._store
        with s.lock:
            rows = [
                r
                for r in s.org.teams.get(org, [])
                if s.behaviour.teams_without_user == "organization" or user in s.org.team_members[r.rec["uri"]]
            ]
            return self._loads(rows, lambda r: (r.rec["name"], r.rec["uri"]))

    def event_type_memberships(self, token: str) -> list[Record]:
        """Hosts of every event type the token lists (event types by name asc), each created_at asc."""
        types = self.event_types(token)
        s = self._store
        with s.lock:
            return [
                rec
                for et in types
                for rec in self._loads(
                    s.org.event_type_memberships.get(et["uri"], []), lambda r: (r.rec["created_at"], r.rec["uri"])
                )
            ]

    def event_type_availability_schedules(self, token: str) -> list[Record]:
        """Availability of every event type the token lists, one entry per host, in host order."""
        self._need(token, SCOPE_AVAILABILITY)
        types = self.event_types(token)
        s = self._store
        with s.lock:
            return [orjson.loads(r.blob) for et in types for r in s.org.event_type_schedules.get(et["uri"], [])]

    def user_availability_schedules(self, token: str) -> list[Record]:
        """Schedules of every user in membership order, each user's default first then by name.

        With ``Behaviour.availability_of_others`` off, a plain member gets only their own (the others 403)."""
        _, user, org = self._need(token, SCOPE_AVAILABILITY)
        s = self._store
        users = [u["uri"] for u in self.users(token)]
        if not s.behaviour.availability_of_others and not self._admin(user, org):
            users = [user]
        with s.lock:
            return [
                rec
                for u in users
                for rec in self._loads(
                    s.org.user_schedules.get(u, []), lambda r: (not r.rec["default"], r.rec["name"], r.rec["uri"])
                )
            ]

    def activity_log_entries(self, token: str) -> list[Record]:
        """Entries of the last 90 days on the store's clock, occurred_at asc (Enterprise, admins and owners)."""
        _, user, org = self._need(token, SCOPE_ACTIVITY_LOG)
        s = self._store
        if s.org_plan(org) != "enterprise":
            raise PermissionError("the activity log needs the Enterprise plan (403)")
        if not self._admin(user, org):
            raise PermissionError("only admins and owners read the activity log (403)")
        with s.lock:
            since = s.clock_us() - RETENTION_DAYS * 86_400_000_000
            rows = [r for r in s.org.activity_log.get(org).rows if r.ts >= since] if org in s.org.activity_log else []
            return self._loads(rows, lambda r: (r.ts, r.rec["uri"]))

    def contacts(self, token: str, sort: str = "updated_at:desc") -> list[Record]:
        """The token's contacts (per Behaviour.contacts_visibility), in ``sort`` order (uri breaks ties)."""
        _, user, org = self._need(token, SCOPE_CONTACTS)
        s = self._store
        field, _, direction = sort.partition(":")
        with s.lock:
            rows = [
                r
                for r in s.org.contacts.get(org, [])
                if s.behaviour.contacts_visibility == "organization" or s.org.contact_owner[r.rec["uri"]] == user
            ]
            out = self._loads(rows, lambda r: (r.rec[field], r.rec["uri"]))
        return out[::-1] if direction == "desc" else out

    # -- the contact book (contactbook.py): every plan, contacts:read ------------------------------------
    def contact_custom_field_definitions(self, token: str) -> list[Record]:
        _, _, org = self._need(token, SCOPE_CONTACTS)
        with self._store.lock:
            return self._loads(self._store.book.definitions.get(org, []), lambda d: d.key)

    def contact_lists(self, token: str) -> list[Record]:
        _, user, _ = self._need(token, SCOPE_CONTACTS)
        with self._store.lock:
            return orjson.loads(orjson.dumps(self._store.book.lists.get(user, [])))

    def contact_list_memberships(self, token: str) -> list[Record]:
        """(contact_list, contact) pairs, per List or View in listing order, contacts by created_at."""
        s = self._store
        rows = []
        for lst in self.contact_lists(token):
            with s.lock:
                members = set(s.book.contacts_of_list(lst["uri"]))
            for c in self.contacts(token, "created_at:asc"):
                if c["uri"] in members:
                    rows.append({"contact_list": lst["uri"], "contact": c["uri"]})
        return rows

    def contact_notes(self, token: str) -> list[Record]:
        """The token user's own notes about its contacts, newest change first."""
        _, user, _ = self._need(token, SCOPE_CONTACTS)
        mine = {c["uri"] for c in self.contacts(token)}
        with self._store.lock:
            rows = [n for n in self._store.book.notes.get(user, []) if n.rec["contact"] in mine]
            return self._loads(rows, lambda n: n.key)[::-1]

    def outgoing_communications(self, token: str) -> list[Record]:
        """The organization's outgoing emails and SMS (Enterprise), in the order the API lists them
        (Behaviour.outgoing_communications_order on created_at)."""
        _, user, org = self._need(token, SCOPE_OUTGOING)
        s = self._store
        if s.org_plan(org) != "enterprise":
            raise PermissionError("outgoing communications need the Enterprise plan (403)")
        if s.behaviour.outgoing_communications_readers == "admins" and not self._admin(user, org):
            raise PermissionError("only admins and owners read outgoing communications (403)")
        with s.lock:
            rows = s.org.communications_served(org, None, None)
            out = self._loads(rows, lambda r: r.key)  # created_at, then the order they were written in
        return out[::-1] if s.behaviour.outgoing_communications_order == "desc" else out

    def webhook_subscriptions(self, token: str) -> list[Record]:
        """Subscriptions of all three scopes (every plan since 2026-11-03), as a reader of each scope in turn lists
        them: scope=organization, then scope=user per member in membership order, then scope=group per group in
        groups order (none where groups are refused); created_at asc within each listing. The organization and
        group scopes are an admin's or owner's: any other member gets their own user's subscriptions only."""
        _, user, org = self._need(token, SCOPE_WEBHOOKS)
        s = self._store
        admin = self._admin(user, org)
        # Any other member lists only their own user's (the organization and group scopes are refused).
        members = [m["user"]["uri"] for m in self.organization_memberships(token)] if admin else [user]
        try:
            groups = [g["uri"] for g in self.groups(token)] if admin else []
        except PermissionError:
            groups = []
        with s.lock:
            rows = sorted(s.org.webhooks.get(org, []), key=lambda r: (r.rec["created_at"], r.rec["uri"]))
            listings = [[r for r in rows if r.rec["scope"] == "organization"]] if admin else []
            listings += [[r for r in rows if r.rec["scope"] == "user" and r.rec["user"] == m] for m in members]
            listings += [[r for r in rows if r.rec["scope"] == "group" and r.rec["group"] == g] for g in groups]
            return [orjson.loads(r.blob) for listing in listings for r in listing]

    # -- meeting recaps and locations (notetaker.py) --------------------------------------------------------
    def _recaps(self, token: str) -> list[Any]:
        """The token's recaps of every status, in the order the connector lists them: status by status
        (available, processing, unavailable), each in the API's order. PermissionError on a free plan."""
        _, user, org = self._need(token, SCOPE_MEETING_RECAPS)
        s = self._store
        if s.org_plan(org) == "basic":
            raise PermissionError("meeting recaps need a paid plan (403 Please upgrade to a paid Calendly account)")
        whole = s.behaviour.meeting_recaps_visibility == "organization" and self._admin(user, org)
        with s.lock:
            mine = [r for r in s.notetaker.recaps.values() if r.org == org and (whole or r.host == user)]
            order = {status: i for i, status in enumerate(RECAP_STATUSES)}
            return sorted(mine, key=lambda r: (order[r.status], r.key))

    def meeting_recaps(self, token: str) -> list[Record]:
        """Every recap the token may list (each status), as list items."""
        return [orjson.loads(orjson.dumps(r.item)) for r in self._recaps(token)]

    def meeting_recap_transcripts(self, token: str) -> list[Record]:
        """The transcript of every available recap, with ``recap`` (its URI) as the connector adds it."""
        return [
            {"recap": r.uri, "uri": r.item["transcript"], "text": r.transcript}
            for r in self._recaps(token)
            if r.status == "available"
        ]

    def locations(self, token: str) -> list[Record]:
        """Every member's meeting locations, in membership order, with ``user`` (the member's URI) as the
        connector adds it; any member may read any member's (only "This user is not in your organization" is
        documented as a refusal)."""
        self._need(token, SCOPE_LOCATIONS)
        users = [u["uri"] for u in self.users(token)]
        with self._store.lock:
            return [{"user": u, **rec} for u in users for rec in self._store.notetaker.locations.get(u, [])]

    def records(self, stream: str, token: str) -> list[Record]:
        """What a complete listing of ``stream`` gives the token, in listing order; PermissionError where the
        API answers 403 (plan, role or scope). Per-parent streams are concatenated in parent listing order."""
        if stream not in self.STREAMS:
            raise KeyError(f"unknown stream {stream!r}")
        if stream == "organization":
            return self.organization_records(token)
        return getattr(self, stream)(token)

    STREAMS = (
        "scheduled_events",
        "event_invitees",
        "event_types",
        "organization_memberships",
        "routing_forms",
        "routing_form_submissions",
        "organization",
        "users",
        "groups",
        "group_relationships",
        "organization_invitations",
        "event_type_memberships",
        "user_availability_schedules",
        "event_type_availability_schedules",
        "activity_log_entries",
        "contacts",
        "outgoing_communications",
        "webhook_subscriptions",
        "teams",
        "meeting_recaps",
        "meeting_recap_transcripts",
        "locations",
        "contact_custom_field_definitions",
        "contact_lists",
        "contact_list_memberships",
        "contact_notes",
    )
