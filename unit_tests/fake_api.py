"""A small, dynamic Calendly on requests-mock for unit tests: scope rules, filters and page tokens.

The faithful fake is `calendly_sandbox` (integration tests); this one is just enough to drive the
connector in-process and to inject exact failures.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests_mock

API = "https://api.calendly.com"
ORG = f"{API}/organizations/org-1"
ADMIN_USER = f"{API}/users/admin-1"
MEMBER_USER = f"{API}/users/member-1"
ADMIN_TOKEN = "unit-admin-token-Zq81"
MEMBER_TOKEN = "unit-member-token-Kx27"
NOT_FOUND = {"title": "Resource Not Found", "message": "The server could not find the requested resource."}
NO_PERMISSION = {"title": "Permission Denied", "message": "You do not have permission to access this resource."}
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
TEAMS_PLUS = ("teams", "enterprise")
PAID = ("essentials", "standard", "professional", "teams", "enterprise")
# path -> (scope, plans that have it or None for all, admins and owners only)
OPTIONAL_ACCESS: dict[str, tuple[str, tuple[str, ...] | None, bool]] = {
    "/groups": ("groups:read", TEAMS_PLUS, False),
    "/group_relationships": ("groups:read", TEAMS_PLUS, False),
    "/event_type_memberships": ("event_types:read", None, False),
    "/user_availability_schedules": ("availability:read", None, False),
    "/event_type_availability_schedules": ("availability:read", None, False),
    "/activity_log_entries": ("activity_log:read", ("enterprise",), True),
    "/contacts": ("contacts:read", None, False),
    "/contacts/custom_field_definitions": ("contacts:read", None, False),
    "/contact_lists": ("contacts:read", None, False),
    "/notes": ("contacts:read", None, False),
    "/outgoing_communications": ("outgoing_communications:read", ("enterprise",), False),
    "/webhook_subscriptions": ("webhooks:read", None, False),  # every plan since 2026-11-03; roles: see _route
    "/teams": ("organizations:read", None, False),
    "/meeting_recaps": ("meeting_recaps:read", PAID, False),
    "/locations": ("locations:read", None, False),
}
PLAN_MESSAGES = {
    "/meeting_recaps": "Please upgrade to a paid Calendly account",
    "/activity_log_entries": "Please upgrade your Calendly account to Enterprise.",
    "/outgoing_communications": "Please upgrade your Calendly account to Enterprise.",
}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def event(uuid: str, start: datetime, updated: datetime, host: str = ADMIN_USER, **extra: Any) -> dict[str, Any]:
    return {
        "uri": f"{API}/scheduled_events/{uuid}",
        "name": f"Meeting {uuid}",
        "status": "active",
        "start_time": ts(start),
        "end_time": ts(start + timedelta(minutes=30)),
        "event_type": f"{API}/event_types/et-1",
        "location": {"type": "zoom", "status": "pushed", "join_url": "https://zoom.example/j/1"},
        "invitees_counter": {"total": 1, "active": 1, "limit": 1},
        "created_at": ts(updated - timedelta(days=1)),
        "updated_at": ts(updated),
        "event_memberships": [{"user": host, "user_email": "host@example.com", "user_name": "Host"}],
        "event_guests": [],
        "meeting_notes_plain": None,
        **extra,
    }


def invitee(event_record: dict[str, Any], uuid: str, updated: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "uri": f"{event_record['uri']}/invitees/{uuid}",
        "email": f"{uuid}@example.com",
        "name": f"Invitee {uuid}",
        "status": "active",
        "event": event_record["uri"],
        "created_at": ts(updated - timedelta(hours=1)),
        "updated_at": ts(updated),
        "rescheduled": False,
        "no_show": None,
        **extra,
    }


def cancel(record: dict[str, Any], at: datetime, by: str = "Host", reason: str = "conflict") -> None:
    record["status"] = "canceled"
    record["updated_at"] = ts(at)
    record["cancellation"] = {"canceled_by": by, "reason": reason, "canceler_type": "host", "created_at": ts(at)}


# Calendly's answer to a page token redeemed too late.
EXPIRED_TOKEN = {"title": "Invalid Argument", "message": "The supplied parameters are invalid.",
                 "details": [{"parameter": "page_token", "message": "is invalid"}]}  # fmt: skip


@dataclass
class Fault:
    """Answer the next `times` matching requests with this instead of the data."""

    path: str  # regex matched against the URL path
    status: int
    body: Any = None  # dict/list: JSON; str: raw text; bytes: raw
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    query_has: str | None = None  # only requests with this query parameter ("page_token") or value ("user=…")


@dataclass
class FakeCalendly:
    events: list[dict[str, Any]] = field(default_factory=list)
    invitees: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by event uri
    event_types: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"uri": f"{API}/organization_memberships/m-admin", "role": "owner", "organization": ORG,
             "user": {"uri": ADMIN_USER, "name": "Ada Admin", "email": "ada@example.com"},
             "created_at": ts(days(-400)), "updated_at": ts(days(-400))},
            {"uri": f"{API}/organization_memberships/m-member", "role": "user", "organization": ORG,
             "user": {"uri": MEMBER_USER, "name": "Max Member", "email": "max@example.com"},
             "created_at": ts(days(-300)), "updated_at": ts(days(-300))},
        ]
    )  # fmt: skip
    routing_forms: list[dict[str, Any]] | None = field(default_factory=list)  # None: plan without routing forms
    submissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by form uri
    # The optional streams (see `_route_optional`): the plan gates groups, the activity log, outgoing
    # communications and webhooks; `missing_scopes` are scopes the admin token lacks.
    plan: str = "enterprise"
    missing_scopes: set[str] = field(default_factory=set)
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_relationships: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    hosts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by event type uri
    user_schedules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by user uri
    event_type_schedules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by event type uri
    activity: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    contact_definitions: list[dict[str, Any]] = field(default_factory=list)
    contact_lists: list[dict[str, Any]] = field(default_factory=list)
    list_members: dict[str, list[str]] = field(default_factory=dict)  # list uri -> contact uris
    notes: list[dict[str, Any]] = field(default_factory=list)
    outgoing: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    recaps: list[dict[str, Any]] = field(default_factory=list)  # list items, each with its status
    transcripts: dict[str, str] = field(default_factory=dict)  # recap uri -> text (available recaps)
    locations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by user uri
    activity_max_count: int = 1000  # 100: a larger count answers 400 naming count (the shared Pagination schema)
    availability_of_others: bool = False  # whether a member may read other users' availability schedules
    exclusive_min_filters: bool = False  # `min_*` filters read as strictly after (see calendly_sandbox.behaviour)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)  # requests-mock's request objects: proxies, verify, headers
    server_date: datetime = NOW
    repeat_token: bool = False  # answer every page with the same next_page_token
    mocker: requests_mock.Mocker | None = None  # to answer (and watch) hosts other than the API's
    clock: Callable[[], float] | None = None  # a test's clock: `request_times` then holds it per request
    request_times: list[float] = field(default_factory=list)

    def add_event(self, record: dict[str, Any], *invitees: dict[str, Any]) -> dict[str, Any]:
        self.events.append(record)
        self.invitees.setdefault(record["uri"], []).extend(invitees)
        return record

    def install(self, mocker: requests_mock.Mocker) -> None:
        self.mocker = mocker
        mocker.get(re.compile(re.escape(API) + "/.*"), content=self._answer)

    # dispatch ---------------------------------------------------------------------------------------------------
    def _answer(self, request: Any, context: Any) -> bytes:
        import orjson

        parts = urlsplit(request.url)
        query = parse_qs(parts.query)
        self.requests.append((parts.path, query))
        self.sent.append(request)
        if self.clock is not None:
            self.request_times.append(self.clock())
        context.headers["Date"] = self.server_date.strftime("%a, %d %b %Y %H:%M:%S GMT")
        for fault in self.faults:
            name, _, value = (fault.query_has or "").partition("=")
            wanted = fault.query_has is None or (name in query and (not value or value in query[name]))
            if fault.times > 0 and re.search(fault.path, parts.path) and wanted:
                fault.times -= 1
                context.status_code = fault.status
                context.headers.update(fault.headers)
                if isinstance(fault.body, bytes):
                    return fault.body
                if isinstance(fault.body, str):
                    return fault.body.encode()
                return orjson.dumps(fault.body if fault.body is not None else {"title": "Error", "message": "x"})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = {ADMIN_TOKEN: ADMIN_USER, MEMBER_TOKEN: MEMBER_USER}.get(token)
        if user is None:
            context.status_code = 401
            return orjson.dumps({"title": "Unauthenticated", "message": "The access token is invalid"})
        status, body = self._route(parts.path, query, user)
        context.status_code = status
        return orjson.dumps(body)

    def _route(self, path: str, q: dict[str, list[str]], user: str) -> tuple[int, Any]:
        one: Callable[[str], str | None] = lambda key: q.get(key, [None])[0]  # noqa: E731
        is_admin = user == ADMIN_USER
        if path == "/users/me":
            name = "Ada Admin" if is_admin else "Max Member"
            return 200, {"resource": {"uri": user, "name": name, "email": "u@example.com",
                                      "current_organization": ORG}}  # fmt: skip
        if path == "/organization_memberships":
            rows = [m for m in self.memberships if one("user") in (None, m["user"]["uri"])]
            return 200, self._page(path, q, rows)
        if path == "/scheduled_events":
            if one("organization") and not is_admin:
                return 403, {"title": "Permission Denied", "message": "You do not have permission"}
            rows = [e for e in self.events if one("organization") or e["event_memberships"][0]["user"] == user]
            if one("min_start_time"):
                rows = [e for e in rows if self._from(e["start_time"], one("min_start_time"))]
            if one("max_start_time"):
                rows = [e for e in rows if e["start_time"] < one("max_start_time")]
            rows.sort(key=lambda e: e["start_time"])
            return 200, self._page(path, q, rows)
        match = re.fullmatch(r"/scheduled_events/([^/]+)/invitees", path)
        if match:
            uri = f"{API}/scheduled_events/{match.group(1)}"
            if uri not in self.invitees:
                return 404, NOT_FOUND
            return 200, self._page(path, q, self.invitees[uri])
        if path == "/event_types":
            if one("organization") and not is_admin:
                return 403, {"title": "Permission Denied", "message": "You do not have permission"}
            return 200, self._page(path, q, self.event_types)
        if path == "/routing_forms":
            if self.routing_forms is None:
                return 403, NO_PERMISSION
            return 200, self._page(path, q, self.routing_forms)
        if path == "/routing_form_submissions":
            rows = sorted(self.submissions.get(one("form") or "", []), key=lambda s: s["created_at"], reverse=True)
            return 200, self._page(path, q, rows)
        return self._route_optional(path, q, user)

    def _route_optional(self, path: str, q: dict[str, list[str]], user: str) -> tuple[int, Any]:
        one: Callable[[str], str | None] = lambda key: q.get(key, [None])[0]  # noqa: E731
        is_admin = user == ADMIN_USER
        recap = re.fullmatch(r"/meeting_recaps/([^/]+)(/transcript)?", path)
        scope, plans, admin_only = OPTIONAL_ACCESS.get("/meeting_recaps" if recap else path, (None, None, False))
        if re.fullmatch(r"/contacts/[^/]+", path) and path != "/contacts/custom_field_definitions":
            scope, plans, admin_only = OPTIONAL_ACCESS["/contacts"]
        if path.startswith("/organizations/"):
            scope, plans, admin_only = "organizations:read", None, path.endswith("/invitations")
        if scope is None:
            return 404, NOT_FOUND
        if is_admin and scope in self.missing_scopes:
            return 403, {"title": "Insufficient scope", "message": "This operation requires the scopes listed in the "
                         "'required_scopes' array.", "required_scopes": [scope]}  # fmt: skip
        if plans is not None and self.plan not in plans:
            return 403, {"title": "Permission Denied", "message": PLAN_MESSAGES.get(path, NO_PERMISSION["message"])}
        if admin_only and not is_admin:
            return 403, NO_PERMISSION
        if recap:
            return self._recap(f"{API}/meeting_recaps/{recap.group(1)}", bool(recap.group(2)))
        if path == "/meeting_recaps":
            rows = [r for r in self.recaps if r["status"] == (one("status") or "available")]
            return 200, self._page(path, q, rows)
        if path == "/locations":
            if one("user") not in {m["user"]["uri"] for m in self.memberships}:
                return 403, {"title": "Permission Denied", "message": "This user is not in your organization"}
            return 200, {"collection": self.locations.get(one("user") or "", [])}
        if path == ORG.removeprefix(API):
            organization = {"uri": ORG, "name": "Org One", "kind": "multiple", "plan": self.plan, "stage": "paid",
                            "created_at": ts(days(-900)), "updated_at": ts(days(-5))}  # fmt: skip
            return 200, {"resource": organization}
        if path == ORG.removeprefix(API) + "/invitations":
            return 200, self._page(path, q, self.invitations)
        if path == "/user_availability_schedules":
            if not is_admin and one("user") != user and not self.availability_of_others:
                return 403, NO_PERMISSION
            return 200, {"collection": self.user_schedules.get(one("user") or "", [])}
        if path == "/event_type_availability_schedules":
            if one("event_type") not in self.event_type_schedules:
                return 404, NOT_FOUND
            return 200, {"collection": self.event_type_schedules[one("event_type") or ""], "pagination": {
                "count": 0, "next_page": None, "previous_page": None, "next_page_token": None,
                "previous_page_token": None}}  # fmt: skip
        if path == "/event_type_memberships":
            return 200, self._page(path, q, self.hosts.get(one("event_type") or "", []))
        if path == "/activity_log_entries":
            if int(one("count") or "20") > self.activity_max_count:
                return 400, {"title": "Invalid Argument", "message": "The supplied parameters are invalid.",
                             "details": [{"parameter": "count", "message": "must be between 1 and 100"}]}  # fmt: skip
            rows = [e for e in self.activity if self._from(e["occurred_at"], one("min_occurred_at"))]
            rows.sort(key=lambda e: e["occurred_at"], reverse=one("sort") != "occurred_at:asc")
            return 200, self._page(path, q, rows)
        if path == "/contacts/custom_field_definitions":
            return 200, {"collection": self.contact_definitions}
        if path == "/contact_lists":
            return 200, {"collection": self.contact_lists, "pagination": {
                "count": len(self.contact_lists), "next_page": None, "previous_page": None, "next_page_token": None,
                "previous_page_token": None}}  # fmt: skip
        if path == "/notes":
            wanted = (one("contact") or "").split(",")
            if not one("contact") or len(wanted) > 10 or set(q) - {"contact", "count", "page_token"}:
                return 400, {"title": "Invalid Argument", "message": "The supplied parameters are invalid.",
                             "details": [{"parameter": "contact", "message": "1 to 10 contacts"}]}  # fmt: skip
            rows = [n for n in self.notes if n["contact"] in wanted]
            rows.sort(key=lambda n: n["updated_at"], reverse=True)
            return 200, self._page(path, q, rows)
        if path.startswith("/contacts/"):
            found = [c for c in self.contacts if c["uri"] == API + path]
            return (200, {"resource": found[0]}) if found else (404, NOT_FOUND)
        if path == "/contacts":
            sort = one("sort") or "updated_at:asc"
            field_name, _, direction = sort.partition(":")
            rows = sorted(self.contacts, key=lambda c: (c[field_name], c["uri"]), reverse=direction == "desc")
            if one("contact_list"):
                if one("contact_list") not in self.list_members:
                    return 404, NOT_FOUND
                rows = [c for c in rows if c["uri"] in self.list_members[one("contact_list") or ""]]
            if one("email"):  # exact match, a comma-separated list
                wanted = {e.lower() for e in (one("email") or "").split(",")}
                rows = [c for c in rows if {e["email"].lower() for e in c.get("emails", [])} & wanted]
            return 200, self._page(path, q, rows)
        if path == "/outgoing_communications":
            rows = [c for c in self.outgoing if self._from(c["created_at"], one("min_created_at"))]
            return 200, self._page(path, q, rows)
        if path == "/webhook_subscriptions":
            scope = one("scope")
            if scope is None or (scope in ("user", "group") and one(scope) is None):
                return 400, {"title": "Invalid Argument", "message": "The supplied parameters are invalid."}
            if not is_admin and (scope != "user" or one("user") != user):  # a member: its own user's only
                return 403, NO_PERMISSION
            of = one(scope) if scope != "organization" else None
            rows = [w for w in self.webhooks if w["scope"] == scope and (of is None or w[scope] == of)]
            return 200, self._page(path, q, rows)
        rows = {"/groups": self.groups, "/group_relationships": self.group_relationships, "/teams": self.teams}[path]
        if path == "/teams" and one("user"):
            rows = [t for t in rows if one("user") in t.get("members", [])]
        return 200, self._page(path, q, rows)

    def _recap(self, uri: str, transcript: bool) -> tuple[int, Any]:
        [found] = [r for r in self.recaps if r["uri"] == uri] or [None]
        if found is None or (transcript and uri not in self.transcripts):
            return 404, NOT_FOUND
        if transcript:
            return 200, {"resource": {"uri": f"{uri}/transcript", "text": self.transcripts[uri]}}
        return 200, {"resource": found}

    def _from(self, value: str, bound: str | None) -> bool:
        """Whether a record's time passes a `min_*` filter, read inclusively or (`exclusive_min_filters`) not."""
        if bound is None:
            return True
        try:
            at, since = datetime.fromisoformat(value), datetime.fromisoformat(bound)
        except ValueError:  # a record with an unreadable time: compared as text, as the fake sorts it
            return value > bound if self.exclusive_min_filters else value >= bound
        return at > since if self.exclusive_min_filters else at >= since

    def _page(self, path: str, q: dict[str, list[str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
        count = int(q.get("count", ["20"])[0])
        token = q.get("page_token", [None])[0]
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = rows[offset : offset + count]
        more = offset + count < len(rows)
        next_token = None
        if more:
            next_offset = count if self.repeat_token else offset + count
            next_token = base64.urlsafe_b64encode(str(next_offset).encode()).decode()
        return {
            "collection": page,
            "pagination": {
                "count": len(page),
                "next_page": f"https://evil.example{path}?page_token={next_token}" if more else None,
                "previous_page": None,
                "next_page_token": next_token,
                "previous_page_token": None,
            },
        }

    def paths(self, path: str) -> list[dict[str, list[str]]]:
        """Query strings of the requests made to exactly this path, in order."""
        return [q for p, q in self.requests if p == path]
