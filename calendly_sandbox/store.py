"""In-memory data, per-scope sorted indices, and the thread-safe mutations.

Records are kept as orjson bytes ("blobs"): a page is then a join of ready-made bytes, 100,000 events cost a
few hundred MB less than as dicts, and the heap holds few objects for the garbage collector to scan. A
mutation decodes a blob, edits the copy and stores new bytes, so a reader that already picked up the old blob
(outside the lock) still serialises a consistent record.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from . import vocab
from .behaviour import Behaviour
from .contactbook import ContactBook
from .dataset import Dataset
from .notetaker import Notetaker
from .orgstore import OrgStore
from .records import FastRandom, Record, new_event, new_invitee, tracking, uuid4
from .rows import EMPTY_INDEX, EventRow, InviteeRow, Row, SortedIndex, pack, uuid_of
from .timeutil import DAY, MINUTE, fmt, now_us, parse, to_us
from .tokens import API_BASE

TEAMS_PLANS = frozenset({"teams", "enterprise"})


class Store:
    """All sandbox data. Read paths take ``lock`` briefly; mutations hold it for their whole change."""

    def __init__(self, ds: Dataset) -> None:
        """Index ``ds``. Consumes ``ds.events`` and ``ds.invitees`` (their entries are released as they are packed)."""
        self.lock = threading.RLock()
        self.anchor_us = ds.anchor_us
        self.spec = ds.spec
        self.token_users = dict(ds.token_users)
        self._rng = FastRandom(ds.spec.seed ^ 0x5A4DB0C5)  # ids of records created by mutations
        self._last_now = 0
        self._guest_counter = 0
        self.clock_offset_us = 0  # moved by advance_clock
        self.behaviour = Behaviour()  # how the API answers where Calendly's behaviour is unconfirmed

        self.orgs: dict[str, Row] = {}
        self.org_by_uri: dict[str, Row] = {}
        for rec in ds.organizations:
            row = Row(rec)
            self.orgs[row.uuid] = row
            self.org_by_uri[row.uri] = row

        self.users: dict[str, Row] = {}
        self.user_by_uri: dict[str, Row] = {}
        self.user_org: dict[str, str] = {}
        for rec in ds.users:
            row = Row(rec)
            self.users[row.uuid] = row
            self.user_by_uri[row.uri] = row
            self.user_org[row.uri] = rec["current_organization"]

        self.roles: dict[str, str] = {}
        self.removed_users: set[str] = set()  # users removed from their organization by remove_member
        self.memberships: dict[str, list[Row]] = {}
        self.membership_by_uuid: dict[str, Row] = {}
        for rec in sorted(ds.memberships, key=lambda m: (m["created_at"], m["uri"])):
            row = Row(rec)
            self.memberships.setdefault(rec["organization"], []).append(row)
            self.membership_by_uuid[row.uuid] = row
            self.roles[rec["user"]["uri"]] = rec["role"]

        self.event_types: dict[str, list[Row]] = {}
        self.event_type_by_uri: dict[str, Row] = {}
        self.event_type_org: dict[str, str] = {}
        for rec in ds.event_types:
            row = Row(rec)
            org = self.user_org[rec["profile"]["owner"]]
            self.event_types.setdefault(org, []).append(row)
            self.event_type_by_uri[row.uri] = row
            self.event_type_org[row.uri] = org
        self.capacity = dict(ds.event_type_capacity)
        self.pool = {k: list(v) for k, v in ds.event_type_pool.items()}

        self.events: dict[str, EventRow] = {}
        self.invitees: dict[str, InviteeRow] = {}
        self.no_shows: dict[str, tuple[InviteeRow, str]] = {}  # no-show uuid -> (invitee, created_at)
        self.email_events: dict[str, list[EventRow]] = {}
        self.index: dict[tuple[str, str | None], SortedIndex] = {}
        rows: list[EventRow] = []
        events, invitees = ds.events, ds.invitees
        for i in range(len(events)):
            rec, invs = events[i], invitees[i]
            # Release each record dict once packed: freed dict memory is reused for the blobs, which keeps the
            # peak close to the size of the dicts alone (the store must not hold both forms of 100k events).
            events[i] = invitees[i] = None  # type: ignore[call-overload]
            hosts = rec["event_memberships"]
            row = EventRow(rec, self.user_org[hosts[0]["user"]])
            for inv in invs:
                irow = InviteeRow(inv, row)
                row.invitees.append(irow)
                self._register_invitee(irow, inv)
            row.invitees.sort(key=lambda r: r.key)
            self.events[row.uuid] = row
            rows.append(row)
        rows.sort(key=lambda r: r.key)
        for row in rows:  # appending in key order keeps every index sorted without bisecting
            for idx in self._indices_of(row):
                idx.keys.append(row.key)
                idx.rows.append(row)

        self.forms: dict[str, list[Row]] = {}
        self.form_by_uuid: dict[str, Row] = {}
        for rec in sorted(ds.routing_forms, key=lambda f: (f["created_at"], f["uri"])):
            row = Row(rec)
            self.forms.setdefault(rec["organization"], []).append(row)
            self.form_by_uuid[row.uuid] = row
        self.submissions: dict[str, list[Row]] = {}
        self.submission_by_uuid: dict[str, Row] = {}
        for rec in sorted(ds.submissions, key=lambda s: (s["created_at"], s["uri"])):
            row = Row(rec)
            self.submissions.setdefault(rec["routing_form"], []).append(row)
            self.submission_by_uuid[row.uuid] = row
        self.org = OrgStore(self, ds.org)
        self.notetaker = Notetaker(self)
        self.book = ContactBook(self)  # definitions, Lists and Views, notes (contactbook.py)

    # -- lookups ------------------------------------------------------------------------------------------
    def _indices_of(self, row: EventRow) -> Iterable[SortedIndex]:
        scopes = (row.org, *dict.fromkeys(row.hosts))
        for scope in scopes:
            for status in (None, row.status):
                idx = self.index.get((scope, status))
                if idx is None:
                    idx = self.index[(scope, status)] = SortedIndex()
                yield idx

    def _refresh_contacts(self, *events: Record) -> None:
        """A meeting was booked, canceled or moved: its invitees' contacts get their meeting dates again."""
        now = self._now()
        for event in events:
            row = self.events[uuid_of(event["uri"])]
            for email in {irow.email for irow in row.invitees}:
                meetings = [
                    other.key[: len(event["start_time"])]
                    for other in self.email_events.get(email, [])
                    if other.org == row.org
                    and other.status == "active"
                    and any(i.email == email and i.status == "active" for i in other.invitees)
                ]
                self.org.refresh_meeting_dates(row.org, email.lower(), meetings, now)

    def _register_invitee(self, irow: InviteeRow, rec: Record) -> None:
        self.invitees[irow.uuid] = irow
        events = self.email_events.setdefault(irow.email, [])
        if not events or events[-1] is not irow.event:
            events.append(irow.event)
        if rec.get("no_show"):
            self.no_shows[uuid_of(rec["no_show"]["uri"])] = (irow, rec["no_show"]["created_at"])

    def event_index(self, scope: str, status: str | None) -> SortedIndex:
        return self.index.get((scope, status), EMPTY_INDEX)

    def role_in(self, user_uri: str, org_uri: str) -> str | None:
        return self.roles.get(user_uri) if self.user_org.get(user_uri) == org_uri else None

    def is_admin(self, user_uri: str, org_uri: str) -> bool:
        return self.role_in(user_uri, org_uri) in ("owner", "admin")

    def org_plan(self, org_uri: str) -> str:
        return self.org_by_uri[org_uri].rec["plan"]

    def event_by_uri(self, uri: str) -> EventRow:
        if not uri.startswith(f"{API_BASE}/scheduled_events/"):
            raise KeyError(uri)
        return self.events[uuid_of(uri)]

    def invitee_by_uri(self, uri: str) -> InviteeRow:
        row = self.invitees[uuid_of(uri)]
        if row.uri != uri:
            raise KeyError(uri)
        return row

    def form_by_uri(self, uri: str) -> Row:
        row = self.form_by_uuid[uuid_of(uri)]
        if row.uri != uri:
            raise KeyError(uri)
        return row

    def clock_us(self) -> int:
        """The store's clock, which the activity log's 90-day retention counts from: the anchor, or the time of
        the latest mutation when later, plus whatever ``advance_clock`` added. It stands still between
        mutations, so the API and the truth always agree on what is retained, whatever the wall clock does."""
        return max(self.anchor_us, self._last_now) + self.clock_offset_us

    def advance_clock(self, days: float = 0.0, seconds: float = 0.0) -> str:
        """Move the store's clock forward (retention only; record timestamps stay as they are)."""
        step = int(days * DAY + seconds * 1_000_000)
        if step < 0:
            raise ValueError("the clock only moves forward")
        with self.lock:
            self.clock_offset_us += step
            return fmt(self.clock_us())

    # -- mutations ----------------------------------------------------------------------------------------
    @property
    def last_stamp_us(self) -> int:
        """The latest "now" a mutation wrote (0 before any): what ``Sandbox.last_change`` may not precede."""
        return self._last_now

    def _now(self) -> int:
        """Strictly increasing "now": mutations always move updated_at forward, even within one microsecond."""
        now = max(now_us(), self._last_now + 1, self.anchor_us + 1)
        self._last_now = now
        return now

    def _move_status(self, row: EventRow, status: str) -> None:
        for scope in (row.org, *dict.fromkeys(row.hosts)):
            self.index.get((scope, row.status), EMPTY_INDEX).remove(row)
        row.status = status
        for scope in (row.org, *dict.fromkeys(row.hosts)):
            idx = self.index.get((scope, status))
            if idx is None:
                idx = self.index[(scope, status)] = SortedIndex()
            idx.insert(row)

    def _insert_event(self, row: EventRow) -> None:
        self.events[row.uuid] = row
        for idx in self._indices_of(row):
            idx.insert(row)

    def _guest(self) -> tuple[str, str, str]:
        self._guest_counter += 1
        first = self._rng.choice(vocab.FIRST_NAMES)
        last = self._rng.choice(vocab.LAST_NAMES)
        return first, last, f"guest{self._guest_counter}.{first.lower()}@example.com"

    def book_event(
        self,
        start: datetime | str,
        event_type_uri: str | None = None,
        invitees: int = 1,
        host_uri: str | None = None,
        invitee_emails: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        start_us = _to_us(start)
        if invitees < 1:
            raise ValueError("invitees must be >= 1")
        with self.lock:
            et = self._pick_event_type(event_type_uri, invitees, host_uri)
            cap = self.capacity[et.uri]
            if invitees > cap:
                raise ValueError(f"event type {et.uri} takes at most {cap} invitee(s) per event")
            hosts = self._hosts_for(et, host_uri)
            rng = self._rng
            created = self._now()
            # Mutation-made conferences are already "pushed" (anchor shifted past the 10-minute processing window).
            rec = new_event(rng, et.rec, hosts, start_us, created, cap, created + 20 * MINUTE)
            rec["updated_at"] = rec["created_at"]
            row = EventRow(rec, self.event_type_org[et.uri])
            inv_recs = []
            for i in range(invitees):
                if invitee_emails and i < len(invitee_emails):
                    email = invitee_emails[i]
                    local = email.split("@")[0].replace(".", " ").title().split()
                    who = (local[0] if local else "Guest", local[1] if len(local) > 1 else "Invitee", email)
                else:
                    who = self._guest()
                inv = new_invitee(rng, rec, et.rec, self._now(), who, hosts[0])
                inv["updated_at"] = inv["created_at"]
                inv_recs.append(inv)
            rec["invitees_counter"]["total"] = rec["invitees_counter"]["active"] = invitees
            row.blob = pack(rec)
            for inv in inv_recs:
                irow = InviteeRow(inv, row)
                row.invitees.append(irow)
                self._register_invitee(irow, inv)
            self._insert_event(row)
            self._refresh_contacts(rec)
            return {"event": rec, "invitees": inv_recs}

    def _pick_event_type(self, uri: str | None, invitees: int, host_uri: str | None) -> Row:
        if uri is not None:
            row = self.event_type_by_uri.get(uri)
            if row is None:
                raise KeyError(uri)
            return row
        org = self.user_org[host_uri] if host_uri else self.user_org[self.token_users["admin"]]
        candidates = self.event_types.get(org, [])
        want_group = invitees > 1
        ranked = sorted(
            candidates,
            key=lambda r: (
                (r.rec["kind"] == "group") != want_group,
                host_uri is not None and host_uri not in self.pool[r.uri],
                r.rec["pooling_type"] is not None,
                not r.rec["active"],
                r.rec["created_at"],
            ),
        )
        if not ranked:
            raise ValueError("no event type to book")
        return ranked[0]

    def _hosts_for(self, et: Row, host_uri: str | None) -> list[Record]:
        org = self.event_type_org[et.uri]
        if host_uri is not None:
            if self.user_org.get(host_uri) != org:
                raise ValueError(f"host {host_uri} is not in the event type's organization")
            return [self.user_by_uri[host_uri].rec]
        pool = self.pool[et.uri]
        hosts = pool[:2] if et.rec["pooling_type"] == "collective" else pool[:1]
        return [self.user_by_uri[u].rec for u in hosts]

    @staticmethod
    def _cancellation(by: str, reason: str | None, canceler_type: str, at: int) -> Record:
        if canceler_type not in ("host", "invitee"):
            raise ValueError("canceler_type must be 'host' or 'invitee'")
        return {"canceled_by": by, "reason": reason, "canceler_type": canceler_type, "created_at": fmt(at)}

    def cancel_event(
        self,
        event_uri: str,
        reason: str | None = "Canceled by host",
        canceled_by: str | None = None,
        canceler_type: str = "host",
    ) -> dict[str, Any]:
        with self.lock:
            row = self.event_by_uri(event_uri)
            rec = row.record()
            if rec["status"] != "active":
                raise ValueError(f"event {event_uri} is already canceled")
            at = self._now()
            if canceled_by is None:
                first_inv = row.invitees[0].record() if row.invitees else None
                by_host = canceler_type == "host" or first_inv is None
                canceled_by = rec["event_memberships"][0]["user_name"] if by_host else first_inv["name"]
            cancellation = self._cancellation(canceled_by, reason, canceler_type, at)
            rec["status"] = "canceled"
            rec["cancellation"] = cancellation
            rec["updated_at"] = fmt(at)
            changed = []
            for irow in row.invitees:
                if irow.status != "active":
                    continue
                inv = irow.record()
                inv["status"] = "canceled"
                inv["cancellation"] = dict(cancellation)
                inv["updated_at"] = fmt(self._now())
                irow.status = "canceled"
                irow.blob = pack(inv)
                changed.append(inv)
            rec["invitees_counter"]["active"] = 0
            row.blob = pack(rec)
            self._move_status(row, "canceled")
            self._refresh_contacts(rec)
            return {"event": rec, "invitees": changed}

    def _is_group(self, row: EventRow) -> bool:
        et = self.event_type_by_uri.get(row.event_type)
        return et is not None and et.rec["kind"] == "group"

    def cancel_invitee(
        self,
        invitee_uri: str,
        reason: str | None = "Something came up",
        canceled_by: str | None = None,
        canceler_type: str = "invitee",
    ) -> dict[str, Any]:
        with self.lock:
            irow = self.invitee_by_uri(invitee_uri)
            inv = irow.record()
            if inv["status"] != "active":
                raise ValueError(f"invitee {invitee_uri} is already canceled")
            at = self._now()
            cancellation = self._cancellation(canceled_by or inv["name"], reason, canceler_type, at)
            event = self._cancel_one(irow, inv, cancellation, at)
            self._refresh_contacts(event)
            return {"invitee": inv, "event": event}

    def _cancel_one(self, irow: InviteeRow, inv: Record, cancellation: Record, at: int) -> Record:
        """Cancel one invitee and apply the consequence to its event; returns the event record after."""
        inv["status"] = "canceled"
        inv["cancellation"] = cancellation
        inv["updated_at"] = fmt(at)
        irow.status = "canceled"
        irow.blob = pack(inv)
        row = irow.event
        rec = row.record()
        rec["invitees_counter"]["active"] = sum(1 for r in row.invitees if r.status == "active")
        if self._is_group(row):
            # A group event stays active and (by default) keeps its updated_at: only the counter changes. A
            # connector has to notice such changes through the counter, not through the event's updated_at.
            if self.behaviour.group_changes_move_updated_at:
                rec["updated_at"] = fmt(self._now())
            row.blob = pack(rec)
            return rec
        if rec["status"] == "active":
            rec["status"] = "canceled"
            rec["cancellation"] = dict(cancellation)
            rec["updated_at"] = fmt(self._now())
            row.blob = pack(rec)
            self._move_status(row, "canceled")
        return rec

    def reschedule(self, invitee_uri: str, new_start: datetime | str, reason: str | None = None) -> dict[str, Any]:
        start_us = _to_us(new_start)
        with self.lock:
            irow = self.invitee_by_uri(invitee_uri)
            old = irow.record()
            if old["status"] != "active":
                raise ValueError(f"invitee {invitee_uri} is not active")
            old_row = irow.event
            et = self.event_type_by_uri[old_row.event_type]
            hosts = [self.user_by_uri[u].rec for u in old_row.hosts]
            at = self._now()
            target = self._joinable_group_event(old_row, start_us) if self._is_group(old_row) else None
            joined = target is not None
            if target is None:
                created = self._now()
                cap = self.capacity[et.uri]
                new_rec = new_event(self._rng, et.rec, hosts, start_us, created, cap, created + 20 * MINUTE)
                new_rec["updated_at"] = new_rec["created_at"]
                target = EventRow(new_rec, old_row.org)
                self._insert_event(target)
            else:
                new_rec = target.record()
            first, _, last = old["name"].partition(" ")
            new_inv = new_invitee(self._rng, new_rec, et.rec, self._now(), (first, last, old["email"]), hosts[0])
            for keep in ("first_name", "last_name", "name", "questions_and_answers", "timezone", "tracking",
                         "text_reminder_number", "payment", "scheduling_method", "invitee_scheduled_by"):  # fmt: skip
                new_inv[keep] = old[keep]
            new_inv["updated_at"] = new_inv["created_at"]
            new_inv["old_invitee"] = old["uri"]
            new_irow = InviteeRow(new_inv, target)
            target.invitees.append(new_irow)
            self._register_invitee(new_irow, new_inv)
            counter = new_rec["invitees_counter"]
            counter["total"] = len(target.invitees)
            counter["active"] = sum(1 for r in target.invitees if r.status == "active")
            if joined and self.behaviour.group_changes_move_updated_at:
                new_rec["updated_at"] = fmt(self._now())
            target.blob = pack(new_rec)

            old["rescheduled"] = True
            old["new_invitee"] = new_inv["uri"]
            cancellation = self._cancellation(old["name"], reason, "invitee", at)
            old_event = self._cancel_one(irow, old, cancellation, at)
            self._refresh_contacts(old_event, new_rec)
            return {"old_invitee": old, "old_event": old_event, "new_invitee": new_inv, "new_event": new_rec}

    def _joinable_group_event(self, old: EventRow, start_us: int) -> EventRow | None:
        """An active event of the same group type, host and start with a free seat (reschedules join it)."""
        start = fmt(start_us)
        idx = self.event_index(old.hosts[0], "active")
        i = bisect_left(idx.keys, start)
        while i < len(idx.keys) and idx.keys[i].startswith(start):
            row = idx.rows[i]
            i += 1
            if row is not old and row.event_type == old.event_type:
                active = sum(1 for r in row.invitees if r.status == "active")
                if active < self.capacity[row.event_type]:
                    return row
        return None

    def join_group_event(self, event_uri: str, email: str | None = None) -> dict[str, Any]:
        """A new invitee books a seat on an existing active group event; its invitees_counter moves."""
        with self.lock:
            row = self.event_by_uri(event_uri)
            rec = row.record()
            if rec["status"] != "active" or not self._is_group(row):
                raise ValueError(f"event {event_uri} is not an active group event")
            active = sum(1 for r in row.invitees if r.status == "active")
            if active >= self.capacity[row.event_type]:
                raise ValueError(f"event {event_uri} is full")
            et = self.event_type_by_uri[row.event_type]
            host = self.user_by_uri[row.hosts[0]].rec
            who = self._guest()
            if email:
                who = (who[0], who[1], email)
            inv = new_invitee(self._rng, rec, et.rec, self._now(), who, host)
            inv["updated_at"] = inv["created_at"]
            irow = InviteeRow(inv, row)
            row.invitees.append(irow)
            self._register_invitee(irow, inv)
            rec["invitees_counter"]["total"] = len(row.invitees)
            rec["invitees_counter"]["active"] = active + 1
            if self.behaviour.group_changes_move_updated_at:
                rec["updated_at"] = fmt(self._now())
            row.blob = pack(rec)
            self._refresh_contacts(rec)
            return {"invitee": inv, "event": rec}

    def edit_meeting_notes(self, event_uri: str, notes: str | None) -> dict[str, Any]:
        """The host edits the event's meeting notes (any time, also long after the meeting)."""
        with self.lock:
            row = self.event_by_uri(event_uri)
            rec = row.record()
            rec["meeting_notes_plain"] = notes
            rec["meeting_notes_html"] = f"<p>{notes}</p>" if notes is not None else None
            if self.behaviour.notes_move_updated_at:
                rec["updated_at"] = fmt(self._now())
            row.blob = pack(rec)
            return {"event": rec}

    def mark_no_show(self, invitee_uri: str) -> dict[str, Any]:
        with self.lock:
            irow = self.invitee_by_uri(invitee_uri)
            inv = irow.record()
            if inv["status"] != "active":
                raise ValueError(f"invitee {invitee_uri} is canceled")
            if inv["no_show"] is not None:
                raise ValueError(f"invitee {invitee_uri} is already marked no-show")
            at = fmt(self._now())
            no_show = {"uri": f"{API_BASE}/invitee_no_shows/{uuid4(self._rng)}", "created_at": at}
            inv["no_show"] = no_show
            inv["updated_at"] = at
            irow.blob = pack(inv)
            self.no_shows[uuid_of(no_show["uri"])] = (irow, at)
            return {"invitee": inv, "no_show": no_show}

    def unmark_no_show(self, invitee_uri: str) -> dict[str, Any]:
        with self.lock:
            irow = self.invitee_by_uri(invitee_uri)
            inv = irow.record()
            if inv["no_show"] is None:
                raise ValueError(f"invitee {invitee_uri} is not marked no-show")
            self.no_shows.pop(uuid_of(inv["no_show"]["uri"]), None)
            inv["no_show"] = None
            inv["updated_at"] = fmt(self._now())  # whether Calendly bumps it here is UNCONFIRMED; we do
            irow.blob = pack(inv)
            return {"invitee": inv}

    def link_submission(self, submission_uri: str, invitee_uri: str) -> dict[str, Any]:
        """The submitter of an existing submission books: it gains its invitee, and its updated_at moves."""
        with self.lock:
            row = self.submission_by_uuid[uuid_of(submission_uri)]
            if row.uri != submission_uri:
                raise KeyError(submission_uri)
            invitee = self.invitee_by_uri(invitee_uri)
            rec = orjson.loads(row.blob)
            rec["submitter"] = invitee.uri
            rec["submitter_type"] = "Invitee"
            rec["updated_at"] = fmt(self._now())
            row.set(rec)
            return {"submission": rec}

    def add_form_submission(self, form_uri: str, submitter_uri: str | None = None) -> dict[str, Any]:
        with self.lock:
            form = self.form_by_uri(form_uri)
            rng = self._rng
            submitter = self.invitee_by_uri(submitter_uri).record() if submitter_uri else None
            first, last, email = self._guest()
            if submitter:
                first, _, last = submitter["name"].partition(" ")
                email = submitter["email"]
            answers = []
            for q in form.rec["questions"]:
                if q["type"] == "name":
                    ans: str | None = f"{first} {last}"
                elif q["type"] == "email":
                    ans = email
                elif q["answer_choices"]:
                    ans = rng.choice(q["answer_choices"])
                else:
                    ans = None
                answers.append({"question_uuid": q["uuid"], "question": q["name"], "answer": ans})
            types = self.event_types.get(form.rec["organization"], [])
            if submitter:
                result: Record = {"type": "event_type", "value": self.event_by_uri(submitter["event"]).event_type}
            elif types:
                result = {"type": "event_type", "value": rng.choice(types).uri}
            else:
                headline, body = vocab.CUSTOM_MESSAGES[0]
                result = {"type": "custom_message", "value": {"headline": headline, "body": body}}
            at = fmt(self._now())
            rec = {
                "uri": f"{API_BASE}/routing_form_submissions/{uuid4(rng)}",
                "routing_form": form.uri,
                "questions_and_answers": answers,
                "tracking": tracking(rng, False),
                "result": result,
                "submitter": submitter["uri"] if submitter else None,
                "submitter_type": "Invitee" if submitter else None,
                "created_at": at,
                "updated_at": at,
            }
            row = Row(rec)
            self.submissions.setdefault(form.uri, []).append(row)
            self.submission_by_uuid[row.uuid] = row
            return {"submission": rec}

    # -- mutations of the newer resources (orgstore.py) ---------------------------------------------------
    def add_activity_log_entry(
        self,
        namespace: str = "User",
        action: str = "Login",
        actor_uri: str | None = None,
        details: dict[str, Any] | None = None,
        occurred_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            if actor_uri is not None and actor_uri not in self.user_org:
                raise KeyError(actor_uri)
            at = self._now() if occurred_at is None else _to_us(occurred_at)
            return {"entry": self.org.add_activity_log_entry(namespace, action, actor_uri, details, at)}

    def add_event_type_host(self, event_type_uri: str, user_uri: str) -> dict[str, Any]:
        with self.lock:
            if self.user_org.get(user_uri) != self.event_type_org[event_type_uri] or user_uri in self.removed_users:
                raise ValueError(f"{user_uri} is not in the event type's organization")
            now = self._now()
            membership = self.org.add_event_type_host(event_type_uri, user_uri, now)
            self._event_types_changed([event_type_uri], now)
            return {"membership": membership}

    def change_default_availability(self, user_uri: str) -> dict[str, Any]:
        with self.lock:
            now = self._now()
            schedule, event_types = self.org.change_default_availability(user_uri)
            if self.behaviour.user_availability_moves_updated_at:
                self._user_changed(user_uri, now)
            self._event_types_changed(event_types, now)
            return {"schedule": schedule, "event_types": event_types}

    def add_webhook_subscription(self, scope: str, of: str | None) -> dict[str, Any]:
        with self.lock:
            admin = self.token_users["admin"]
            org = self.user_org[admin]
            if scope == "user" and (self.user_org.get(of or "") != org or of in self.removed_users):
                raise ValueError(f"{of} is not a member of the organization")
            if scope not in ("organization", "user", "group"):
                raise ValueError(f"unknown scope {scope!r}")
            return {"subscription": self.org.add_webhook_subscription(org, scope, of, admin, self._now())}

    def delete_webhook_subscription(self, uri: str) -> dict[str, Any]:
        with self.lock:
            return {"subscription": self.org.delete_webhook_subscription(uri)}

    def remove_member(self, user_uri: str) -> dict[str, Any]:
        with self.lock:
            org = self.user_org[user_uri]
            rows = self.memberships.get(org, [])
            membership = next(r for r in rows if r.rec["user"]["uri"] == user_uri)
            rows.remove(membership)
            self.membership_by_uuid.pop(membership.uuid, None)
            self.roles.pop(user_uri, None)
            self.removed_users.add(user_uri)
            now = self._now()
            self._event_types_changed(self.org.remove_member(user_uri), now)
            return {"membership": membership.rec}

    def _event_types_changed(self, uris: Iterable[str], now: int) -> None:
        """Hosts or availability of these event types changed: their updated_at moves if the behaviour says so."""
        if not self.behaviour.event_type_changes_move_updated_at:
            return
        for uri in set(uris):
            row = self.event_type_by_uri[uri]
            row.set({**row.rec, "updated_at": fmt(now)})

    def _user_changed(self, user_uri: str, now: int) -> None:
        at = fmt(now)
        user = self.user_by_uri[user_uri]
        user.set({**user.rec, "updated_at": at})
        for membership in self.memberships.get(self.user_org[user_uri], []):
            if membership.rec["user"]["uri"] == user_uri:
                membership.set({**membership.rec, "user": {**membership.rec["user"], "updated_at": at}})

    def create_contact(self, email: str, owner_uri: str | None = None, **fields: Any) -> dict[str, Any]:
        with self.lock:
            owner = owner_uri or self.token_users["admin"]
            if owner not in self.user_org:
                raise KeyError(owner)
            contact = self.org.create_contact(owner, email, fields, self._now())
            return {"contact": self.book.contact_created(contact["uri"])}

    def revoke_invitation(self, invitation_uri: str) -> dict[str, Any]:
        with self.lock:
            if invitation_uri not in self.org.invitation_by_uri:
                raise KeyError(invitation_uri)
            return {"invitation": self.org.revoke_invitation(invitation_uri)}

    def update_contact(self, contact_uri: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            if contact_uri not in self.org.contact_by_uri:
                raise KeyError(contact_uri)
            contact = self.org.update_contact(contact_uri, changes, self._now())
            self.book.recount()
            return {"contact": contact}

    def add_outgoing_communication(self, event_uri: str | None = None, type: str = "email") -> dict[str, Any]:
        with self.lock:
            if event_uri is None:  # Acme's active event that starts last
                rows = self.event_index(self.user_org[self.token_users["admin"]], "active").rows
                if not rows:
                    raise ValueError("no active event to write about")
                row = rows[-1]
            else:
                row = self.event_by_uri(event_uri)
            return {"communication": self.org.add_communication(row.record(), type, self._now())}


def _to_us(value: datetime | str | int) -> int:
    if isinstance(value, datetime):
        return to_us(value)
    if isinstance(value, int):
        return value
    return parse(value)
