"""Indices and mutations for the newer organization resources (orgdata.py builds them).

Rows follow store.py's rule: records live as orjson blobs and are replaced, never edited in place. Keys sort
lexically in listing order; time keys are zero-padded epoch microseconds so filters can bisect them.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Protocol

import orjson

from .behaviour import Behaviour
from .orgdata import USER_KEYS, OrgDataset
from .records import FastRandom, Record, phone, uuid4
from .rows import EventRow, Row
from .timeutil import DAY, fmt, fmt_ms, parse
from .tokens import API_BASE, APP_BASE

RETENTION_DAYS = 90  # Calendly keeps 90 days of activity log


class CoreStore(Protocol):
    """What the org store reads from the core store (``store.Store``) that owns it: people, event types,
    events, the clock, the behaviour switches, and the RNG that names records created by mutations."""

    _rng: FastRandom
    behaviour: Behaviour
    token_users: dict[str, str]
    user_by_uri: dict[str, Row]
    user_org: dict[str, str]
    roles: dict[str, str]
    event_type_by_uri: dict[str, Row]

    def event_by_uri(self, uri: str) -> EventRow: ...

    def clock_us(self) -> int: ...


def pack(rec: Record) -> bytes:
    return bytes(memoryview(orjson.dumps(rec)))


def time_key(us: int, tie: str) -> str:
    return f"{us:016d}{tie}"


class Item:
    """One record with its listing key (and an epoch-microsecond time for the time-filtered listings)."""

    __slots__ = ("blob", "key", "rec", "ts")

    def __init__(self, rec: Record, key: str, ts: int = 0) -> None:
        self.rec = rec
        self.key = key
        self.ts = ts
        self.blob = pack(rec)

    def set(self, rec: Record) -> None:
        self.rec = rec
        self.blob = pack(rec)


class Timeline:
    """Items kept in ascending key order (keys start with the zero-padded time)."""

    __slots__ = ("keys", "rows")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.rows: list[Item] = []

    def add(self, item: Item) -> None:
        i = bisect_left(self.keys, item.key)
        self.keys.insert(i, item.key)
        self.rows.insert(i, item)

    def bounds(self, lo_us: int | None, hi_us: int | None) -> tuple[int, int]:
        """Positions [lo, hi) of items with lo_us <= time < hi_us."""
        lo = bisect_left(self.keys, f"{lo_us:016d}") if lo_us is not None else 0
        hi = bisect_left(self.keys, f"{hi_us:016d}") if hi_us is not None else len(self.keys)
        return lo, max(lo, hi)


def _by_created(rec: Record, tie: str) -> str:
    return rec["created_at"] + tie


def _uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class OrgStore:
    """The newer resources of every organization, indexed the way their endpoints list them."""

    def __init__(self, store: CoreStore, data: OrgDataset) -> None:
        self._store = store
        self.invitations: dict[str, list[Item]] = {}
        self.invitation_by_uri: dict[str, Item] = {}
        for rec in data.invitations:
            item = Item(rec, _by_created(rec, _uuid(rec["uri"])))
            self.invitations.setdefault(rec["organization"], []).append(item)
            self.invitation_by_uri[rec["uri"]] = item
        self.groups: dict[str, list[Item]] = {}
        self.group_by_uri: dict[str, Item] = {}
        for rec in data.groups:
            item = Item(rec, _by_created(rec, _uuid(rec["uri"])))
            self.groups.setdefault(rec["organization"], []).append(item)
            self.group_by_uri[rec["uri"]] = item
        self.group_relationships: dict[str, list[Item]] = {}
        for rec in data.group_relationships:
            item = Item(rec, _by_created(rec, _uuid(rec["uri"])))
            self.group_relationships.setdefault(rec["organization"], []).append(item)
        self.teams: dict[str, list[Item]] = {}
        for rec in data.teams:
            item = Item(rec, rec["name"] + "\x00" + _uuid(rec["uri"]))
            self.teams.setdefault(rec["organization"], []).append(item)
        self.team_members = {k: list(v) for k, v in data.team_members.items()}
        self.event_type_memberships: dict[str, list[Item]] = {}
        for rec in data.event_type_memberships:
            item = Item(rec, _by_created(rec, _uuid(rec["uri"])))
            self.event_type_memberships.setdefault(rec["event_type"]["uri"], []).append(item)
        self.user_schedules: dict[str, list[Item]] = {}
        for rec in data.user_schedules:
            # Listed default first, then by name (the endpoint has no sort parameter).
            item = Item(rec, f"{0 if rec['default'] else 1}{rec['name']}\x00{_uuid(rec['uri'])}")
            self.user_schedules.setdefault(rec["user"], []).append(item)
        self.event_type_schedules: dict[str, list[Item]] = {}
        for n, rec in enumerate(data.event_type_schedules):
            item = Item(rec, f"{n:08d}")
            self.event_type_schedules.setdefault(rec["event_type"], []).append(item)
        self.activity_log: dict[str, Timeline] = {}
        for rec in data.activity_log:
            self._add_activity(rec)
        self.contacts: dict[str, list[Item]] = {}  # organization -> contacts
        self.contact_by_uri: dict[str, Item] = {}
        self.contact_owner = dict(data.contact_owner)
        for rec in data.contacts:
            self._add_contact(rec, self._store.user_org[self.contact_owner[rec["uri"]]])
        self.communications: dict[str, Timeline] = {}
        self._comm_seq = 0
        for org, rec in data.communications:
            self._add_communication(org, rec)
        self.colliding: set[str] = set()  # keys of the items Behaviour.communication_collisions hides when False
        for org, rec in data.colliding_communications:
            self.colliding.add(self._add_communication(org, rec).key)
        self.webhooks: dict[str, list[Item]] = {}
        for rec in data.webhooks:
            item = Item(rec, _by_created(rec, _uuid(rec["uri"])))
            self.webhooks.setdefault(rec["organization"], []).append(item)
        for index in (self.invitations, self.groups, self.group_relationships, self.teams, self.webhooks):
            for rows in index.values():
                rows.sort(key=lambda r: r.key)
        for index in (self.event_type_memberships, self.user_schedules):
            for rows in index.values():
                rows.sort(key=lambda r: r.key)

    # -- indexing -----------------------------------------------------------------------------------------
    def _add_activity(self, rec: Record) -> Item:
        ts = parse(rec["occurred_at"])
        item = Item(rec, time_key(ts, _uuid(rec["uri"])), ts)
        self.activity_log.setdefault(rec["organization"], Timeline()).add(item)
        return item

    def _add_contact(self, rec: Record, org: str) -> Item:
        item = Item(rec, rec["uri"])
        self.contacts.setdefault(org, []).append(item)
        self.contact_by_uri[rec["uri"]] = item
        return item

    def _add_communication(self, org: str, rec: Record) -> Item:
        self._comm_seq += 1
        ts = parse(rec["created_at"])
        item = Item(rec, time_key(ts, f"{self._comm_seq:010d}"), ts)
        self.communications.setdefault(org, Timeline()).add(item)
        return item

    def communications_served(self, org: str, lo_us: int | None, hi_us: int | None) -> list[Item]:
        """The communications /outgoing_communications lists, created_at in [lo, hi), ascending."""
        timeline = self.communications.get(org, Timeline())
        start, end = timeline.bounds(lo_us, hi_us)
        rows = timeline.rows[start:end]
        if self._store.behaviour.communication_collisions:
            return rows
        return [r for r in rows if r.key not in self.colliding]

    def retained_since(self) -> int:
        """Oldest occurred_at the activity log still serves: 90 days before the store's clock."""
        return self._store.clock_us() - RETENTION_DAYS * DAY

    # -- mutations (the caller holds the store lock) ------------------------------------------------------
    def add_activity_log_entry(
        self,
        namespace: str,
        action: str,
        actor_uri: str | None,
        details: dict[str, Any] | None,
        occurred_at: int,
    ) -> Record:
        s = self._store
        org = s.user_org[actor_uri] if actor_uri else s.user_org[s.token_users["admin"]]
        rec: Record = {
            "occurred_at": fmt_ms(occurred_at),
            "uri": f"{API_BASE}/activity_log_entries/{uuid4(s._rng)}",
            "organization": org,
            "namespace": namespace,
            "action": action,
            "fully_qualified_name": f"{namespace}.{action}",
            "details": dict(details or {}),
        }
        if actor_uri is None:
            rec["actor"] = {"type": "System", "display_name": "Calendly System"}
        else:
            user = s.user_by_uri[actor_uri].rec
            rec["actor"] = {
                "type": "User",
                "uri": actor_uri,
                "display_name": user["name"],
                "alternative_identifier": user["email"],
                "organization": {"uri": org, "role": s.roles[actor_uri]},
            }
        self._add_activity(rec)
        return rec

    def add_event_type_host(self, event_type_uri: str, user_uri: str, now: int) -> Record:
        """A user becomes a host of an event type: a new /event_type_memberships row, and the event type's
        availability gains that host's default schedule (one schedule per host)."""
        s = self._store
        hosts = self.event_type_memberships.setdefault(event_type_uri, [])
        if any(item.rec["member"]["uri"] == user_uri for item in hosts):
            raise ValueError(f"{user_uri} already hosts {event_type_uri}")
        user = s.user_by_uri[user_uri].rec
        at = fmt(now)
        rec: Record = {
            "uri": f"{API_BASE}/event_type_memberships/{uuid4(s._rng)}",
            "event_type": s.event_type_by_uri[event_type_uri].rec,
            "member": {k: user[k] for k in USER_KEYS},
            "created_at": at,
            "updated_at": at,
        }
        hosts.append(Item(rec, _by_created(rec, _uuid(rec["uri"]))))
        hosts.sort(key=lambda r: r.key)
        schedule = self.user_schedules[user_uri][0].rec  # the default is listed first
        rule = {k: schedule[k] for k in ("timezone", "uri", "name")} | {"user": user_uri, "rules": schedule["rules"]}
        schedules = self.event_type_schedules.setdefault(event_type_uri, [])
        entry = {"event_type": event_type_uri, "availability_setting": "host", "availability_rule": rule}
        schedules.append(Item(entry, f"{len(schedules):08d}"))
        return rec

    def change_default_availability(self, user_uri: str) -> tuple[Record, list[str]]:
        """The user's default schedule gets other weekday hours; so does every event type schedule that uses it.
        Returns the schedule and the event types whose availability changed."""
        item = self.user_schedules[user_uri][0]
        rec = orjson.loads(item.blob)
        for rule in rec["rules"]:
            if rule["type"] == "wday" and rule["intervals"]:
                end = rule["intervals"][-1]["to"]
                rule["intervals"][-1]["to"] = "19:00" if end != "19:00" else "18:30"
        item.set(rec)
        changed: list[str] = []
        for event_type_uri, rows in self.event_type_schedules.items():
            for row in rows:
                rule = row.rec["availability_rule"]
                if isinstance(rule, dict) and rule.get("uri") == rec["uri"]:
                    row.set({**row.rec, "availability_rule": {**rule, "rules": rec["rules"]}})
                    changed.append(event_type_uri)
        return rec, changed

    def remove_member(self, user_uri: str) -> list[str]:
        """A user leaves the organization: their schedules go, and so do they as a host. Returns the event types
        that lost the user as a host."""
        self.user_schedules.pop(user_uri, None)
        changed: list[str] = []
        for event_type_uri, rows in self.event_type_memberships.items():
            kept = [r for r in rows if r.rec["member"]["uri"] != user_uri]
            if len(kept) != len(rows):
                rows[:] = kept
                changed.append(event_type_uri)
        for rows in self.event_type_schedules.values():
            rows[:] = [r for r in rows if (r.rec.get("availability_rule") or {}).get("user") != user_uri]
        return changed

    def create_contact(self, owner_uri: str, email: str, fields: dict[str, Any], now: int) -> Record:
        s = self._store
        at = fmt(now)
        uuid = uuid4(s._rng)
        rec: Record = {
            "uri": f"{API_BASE}/contacts/{uuid}",
            "app_url": f"{APP_BASE}/app/contacts/{uuid}",  # 2026-10-22
            "emails": [{"email": email, "is_primary": True}],
            "phone_numbers": [],
            "name": None,
            "timezone": None,
            "job_title": None,
            "company": None,
            "country": None,
            "state": None,
            "city": None,
            "linkedin": None,
            "custom_fields": [],
            "created_at": at,
            "updated_at": at,
            # Calendly leaves these null straight after creation.
            "first_email_date": None,
            "last_email_date": None,
            "next_meeting_date": None,
            "last_meeting_date": None,
            "last_interaction_date": None,
        }
        rec.update(self._contact_changes(fields))
        self.contact_owner[rec["uri"]] = owner_uri
        self._add_contact(rec, s.user_org[owner_uri])
        return rec

    def add_webhook_subscription(self, org: str, scope: str, of: str | None, creator: str, now: int) -> Record:
        """A subscription created now (POST /webhook_subscriptions), listed with the others of its scope:
        https://developer.calendly.com/api-docs/calendly-api/webhooks/create-webhook-subscription"""
        at = fmt(now)
        uuid = uuid4(self._store._rng)
        rec: Record = {
            "uri": f"{API_BASE}/webhook_subscriptions/{uuid}",
            "callback_url": f"https://hooks.acme.example/calendly/{uuid[:8]}",
            "created_at": at,
            "updated_at": at,
            "retry_started_at": None,
            "state": "active",
            "events": ["invitee.created", "invitee.canceled"],
            "scope": scope,
            "organization": org,
            "user": of if scope == "user" else None,
            "group": of if scope == "group" else None,
            "creator": creator,
        }
        rows = self.webhooks.setdefault(org, [])
        rows.append(Item(rec, _by_created(rec, _uuid(rec["uri"]))))
        rows.sort(key=lambda r: r.key)
        return rec

    def delete_webhook_subscription(self, uri: str) -> Record:
        """DELETE /webhook_subscriptions/{uuid}: the subscription leaves every listing."""
        for rows in self.webhooks.values():
            for item in rows:
                if item.rec["uri"] == uri:
                    rows.remove(item)
                    return item.rec
        raise KeyError(uri)

    def revoke_invitation(self, uri: str) -> Record:
        # DELETE /organizations/{uuid}/invitations/{uuid} answers 204, and an invitation has no "revoked" status
        # (pending, accepted, declined): a revoked invitation leaves the list.
        # https://developer.calendly.com/api-docs/calendly-api/organizations/revoke-organization-invitation
        item = self.invitation_by_uri.pop(uri)
        rec = orjson.loads(item.blob)
        self.invitations[rec["organization"]].remove(item)
        return rec

    def refresh_meeting_dates(self, org: str, email: str, meetings: list[str], now: int) -> None:
        """Set the meeting dates of `org`'s contacts with this email from the start times of their active meetings
        (the time of `now` splits next from last); their updated_at moves only with
        ``Behaviour.contact_meetings_move_updated_at``."""
        now_s = fmt(now)
        upcoming = [t for t in meetings if t >= now_s]
        past = [t for t in meetings if t < now_s]
        for item in self.contacts.get(org, []):
            if email not in {e["email"].lower() for e in item.rec["emails"]}:
                continue
            rec = dict(item.rec)
            rec["next_meeting_date"] = min(upcoming) if upcoming else None
            rec["last_meeting_date"] = max(past) if past else None
            interactions = [t for t in (rec["last_meeting_date"], rec["last_email_date"]) if t is not None]
            rec["last_interaction_date"] = max(interactions) if interactions else None
            if rec == item.rec:
                continue
            if self._store.behaviour.contact_meetings_move_updated_at:
                rec["updated_at"] = now_s
            item.set(rec)

    def update_contact(self, uri: str, changes: dict[str, Any], now: int) -> Record:
        item = self.contact_by_uri[uri]
        rec = orjson.loads(item.blob)
        rec.update(self._contact_changes(changes))
        rec["updated_at"] = fmt(now)
        item.set(rec)
        return rec

    @staticmethod
    def _contact_changes(changes: dict[str, Any]) -> dict[str, Any]:
        editable = {
            "name", "timezone", "job_title", "company", "country", "state", "city", "linkedin", "phone_numbers",
            "emails", "custom_fields",
        }  # fmt: skip
        unknown = set(changes) - editable
        if unknown:
            raise ValueError(f"contact fields that cannot be set: {sorted(unknown)}")
        return dict(changes)

    def add_communication(self, event: Record, kind: str, now: int) -> Record:
        s = self._store
        if kind not in ("email", "sms"):
            raise ValueError("type must be 'email' or 'sms'")
        et = s.event_type_by_uri[event["event_type"]].rec
        host = event["event_memberships"][0]
        row = s.event_by_uri(event["uri"])
        invitee = row.invitees[0].record() if row.invitees else None
        to = invitee["email"] if invitee else "guest@example.com"
        rec: Record = {
            "type": kind,
            "to": to if kind == "email" else (invitee or {}).get("text_reminder_number") or phone(s._rng),
            "from": host["user_email"] if kind == "email" else "+1 415-555-0134",
            "body": f"Reminder: {event['name']} with {host['user_name']} at {event['start_time']}.",
            "subject": f"Reminder: {event['name']}" if kind == "email" else None,
            "sender_uri": host["user"] if kind == "email" else None,
            "sender_email": host["user_email"] if kind == "email" else None,
            "event_type_uri": et["uri"],
            "event_uri": event["uri"],
            "scheduling_url": et["scheduling_url"],
            "sent_at": fmt(now + 1),
            "created_at": fmt(now),
        }
        self._add_communication(row.org, rec)
        return rec
