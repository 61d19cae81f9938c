"""Ground truth: what a complete listing would return, computed by brute force.

Deliberately independent of the API's indices and pagination (a full scan plus a sort), so tests comparing
the two check the fast path against a simple one. Records are fresh copies: callers may mutate them.
"""

from __future__ import annotations

from typing import Any

import orjson

from .store import TEAMS_PLANS, Store, uuid_of
from .tokens import SCOPE_ROUTING, TOKEN_SCOPES, Tokens

Record = dict[str, Any]


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

    STREAMS = (
        "scheduled_events",
        "event_invitees",
        "event_types",
        "organization_memberships",
        "routing_forms",
        "routing_form_submissions",
    )
