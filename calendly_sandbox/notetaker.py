"""Meeting recaps (Calendly's Notetaker, 2026-07-22) and users' meeting locations: data and its changes.

Built from the store's events and users, deterministically (its own RNG, seeded from the dataset's seed), so
the same dataset always yields the same recaps. Recaps follow the List Recaps reference
(https://developer.calendly.com/api-docs/calendly-api/notetaker/list-meeting-recaps): a list item carries no
highlights (summary, action items, discussion) and no transcript text; those are kept beside it and served by
the single GET and the transcript GET. Locations follow List User Meeting Locations (kind, connected).

Holds no lock of its own: the store's lock guards it (the API and the mutations take it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .records import FastRandom, uuid4
from .timeutil import DAY, MINUTE, fmt, parse_own
from .tokens import API_BASE, APP_BASE

Record = dict[str, Any]

RECAP_STATUSES = ("available", "processing", "unavailable")
RECAP_DAYS = 45  # recaps exist for meetings of the last 45 days before the anchor (DECISION: any bound will do)
RECAP_SHARE = 0.3  # of the active past events in that span
EXTERNAL_SHARE = 0.15  # recaps of external meetings (no Calendly event), relative to the event recaps
LOCATION_KINDS = (
    "ask_invitee", "custom", "google_conference", "gotomeeting_conference", "inbound_call",
    "microsoft_teams_conference", "outbound_call", "physical", "webex_conference", "zoom_conference",
)  # fmt: skip
CONFERENCING = frozenset(k for k in LOCATION_KINDS if k.endswith("_conference"))
SPEAKER_LINES = (
    "Thanks for making the time today.",
    "Let's go over the open items first.",
    "We agreed to send the proposal by Friday.",
    "Can you share the numbers from last quarter?",
    "I'll follow up with the team and get back to you.",
)


@dataclass
class Recap:
    """One recap: the list item as served, plus what only the single GET and the transcript GET show."""

    item: Record
    host: str  # the user whose notetaker took it: whose recap it is
    org: str
    highlights: Record = field(default_factory=dict)
    transcript: str = ""

    @property
    def uri(self) -> str:
        return str(self.item["uri"])

    @property
    def status(self) -> str:
        return str(self.item["status"])

    @property
    def key(self) -> str:
        """Listing order (DECISION: the reference has no sort; created_at asc, the uri breaking ties)."""
        return f"{self.item['created_at']}{self.uri}"

    def blob(self) -> bytes:
        return orjson.dumps(self.item)

    def full(self) -> Record:
        """What GET /meeting_recaps/{uuid} returns (MeetingRecap): the list item with the highlights."""
        return {**self.item, **self.highlights}


class Notetaker:
    """Every organization's recaps and every user's meeting locations."""

    def __init__(self, store: Any) -> None:
        self._rng = FastRandom(store.spec.seed ^ 0x7EC0_A9)
        self.recaps: dict[str, Recap] = {}  # by uuid
        self.locations: dict[str, list[Record]] = {}  # user URI -> MeetingLocation records
        self._build_recaps(store)
        for uri in sorted(store.user_by_uri):
            self.locations[uri] = self._locations()

    # -- generation ----------------------------------------------------------------------------------------
    def _build_recaps(self, store: Any) -> None:
        rng = self._rng
        since, until = fmt(store.anchor_us - RECAP_DAYS * DAY), fmt(store.anchor_us)
        rows = sorted((r for r in store.events.values() if since <= r.key < until), key=lambda r: r.key)
        for row in rows:
            if row.status != "active" or rng.random() >= RECAP_SHARE:
                continue
            event = row.record()
            invitees = [i.record() for i in row.invitees if i.status == "active"]
            self._add(self._recap(store, event, invitees, row.org, rng.random()))
            if rng.random() < EXTERNAL_SHARE:
                self._add(self._external(store, row.hosts[0], row.org, event["end_time"], rng.random()))

    def _add(self, recap: Recap) -> None:
        self.recaps[recap.uri.rsplit("/", 1)[-1]] = recap

    def _people(self, store: Any, host: str) -> Record:
        user = store.user_by_uri[host].rec
        return {"host": True, "user_email": user["email"], "user_name": user["name"]}

    def _recap(self, store: Any, event: Record, invitees: list[Record], org: str, draw: float) -> Recap:
        host = event["event_memberships"][0]["user"]
        attendees = [self._people(store, host)]
        attendees += [{"host": False, "user_email": i["email"], "user_name": i["name"]} for i in invitees]
        status = "processing" if draw < 0.08 else "unavailable" if draw < 0.14 else "available"
        return self._new(host, org, event["uri"], event["name"], event.get("location"), event, attendees, status)

    def _external(self, store: Any, host: str, org: str, after: str, draw: float) -> Recap:
        start = parse_own(after) + self._rng.randrange(1, 48) * 30 * MINUTE
        times = {"start_time": fmt(start), "end_time": fmt(start + 30 * MINUTE)}
        status = "processing" if draw < 0.08 else "available"
        location = {"type": "google_conference", "status": "pushed", "join_url": "https://meet.google.com/abc"}
        return self._new(host, org, None, "External meeting", location, times, [self._people(store, host)], status)

    def _new(
        self,
        host: str,
        org: str,
        event: str | None,
        name: str | None,
        location: Record | None,
        times: Record,
        attendees: list[Record],
        status: str,
    ) -> Recap:
        rng = self._rng
        uuid = uuid4(rng)
        uri = f"{API_BASE}/meeting_recaps/{uuid}"
        created = fmt(parse_own(times["end_time"]) + rng.randrange(1, 10) * MINUTE)
        item: Record = {
            "uri": uri,
            "app_url": f"{APP_BASE}/app/meeting_recaps/{uuid}",
            "event": event,
            "status": status,
            "name": name,
            "start_time": times["start_time"],
            "end_time": times["end_time"],
            "created_at": created,
            "updated_at": created,
            "attendees": attendees,
            "transcript": f"{uri}/transcript",
        }
        if location is not None:
            item["location"] = location
        recap = Recap(item, host, org)
        if status == "available":
            recap.highlights, recap.transcript = self._content(attendees)
        return recap

    def _content(self, attendees: list[Record]) -> tuple[Record, str]:
        rng = self._rng
        speakers = [a["user_name"] or a["user_email"] for a in attendees] or ["Host"]
        lines = [f"{rng.choice(speakers)}: {rng.choice(SPEAKER_LINES)}" for _ in range(rng.randint(3, 8))]
        highlights = {
            "summary_md": f"Talked through {rng.randint(2, 5)} topics.",
            "action_items_md": "- Send the proposal\n- Book a follow-up",
            "discussion_md": "## Numbers\nLast quarter's figures were reviewed.",
            "share_link": None,
        }
        return highlights, "\n".join(lines)

    def _locations(self) -> list[Record]:
        rng = self._rng
        kinds = sorted(set(rng.sample(LOCATION_KINDS, rng.randint(1, 4))))
        return [self._location(kind) for kind in kinds]

    def _location(self, kind: str) -> Record:
        record: Record = {"kind": kind}
        if kind in CONFERENCING:
            record["connected"] = self._rng.random() < 0.8
        return record

    # -- reads -----------------------------------------------------------------------------------------------
    def visible(self, user: str, org: str, whole_org: bool) -> list[Recap]:
        """The recaps a user may list (their own, or the organization's), in listing order."""
        rows = [r for r in self.recaps.values() if r.org == org and (whole_org or r.host == user)]
        return sorted(rows, key=lambda r: r.key)

    def by_uri(self, uri: str) -> Recap:
        recap = self.recaps.get(uri.rsplit("/", 1)[-1])
        if recap is None or recap.uri != uri:
            raise LookupError(uri)
        return recap

    # -- changes ---------------------------------------------------------------------------------------------
    def create(self, store: Any, host: str, org: str, status: str, now: int) -> Recap:
        """A recap of an external meeting that ended just now (the notetaker joined it)."""
        if status not in RECAP_STATUSES:
            raise ValueError(f"status must be one of {RECAP_STATUSES}")
        times = {"start_time": fmt(now - 30 * MINUTE), "end_time": fmt(now)}
        recap = self._new(host, org, None, "External meeting", None, times, [self._people(store, host)], status)
        recap.item["created_at"] = recap.item["updated_at"] = fmt(now)
        self._add(recap)
        return recap

    def finish(self, uri: str, now: int) -> Recap:
        """A processing recap becomes available: its highlights and transcript are there."""
        recap = self.by_uri(uri)
        if recap.status != "processing":
            raise ValueError(f"{uri} is {recap.status}, not processing")
        recap.item = {**recap.item, "status": "available", "updated_at": fmt(now)}
        recap.highlights, recap.transcript = self._content(recap.item["attendees"] or [])
        return recap

    def edit(self, uri: str, changes: Record, now: int) -> Recap:
        """PATCH /meeting_recaps/{uuid}: highlights change. DECISION: the list item's updated_at moves (the
        meeting_recap.updated webhook fires for it; whether updated_at moves is not documented)."""
        unknown = set(changes) - {"summary_md", "action_items_md", "discussion_md"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        recap = self.by_uri(uri)
        recap.highlights = {**recap.highlights, **changes}
        recap.item = {**recap.item, "updated_at": fmt(now)}
        return recap

    def delete(self, uri: str) -> Recap:
        recap = self.by_uri(uri)
        del self.recaps[uri.rsplit("/", 1)[-1]]
        return recap

    def set_locations(self, user: str, kinds: Iterable[str]) -> list[Record]:
        wanted = sorted(set(kinds))
        if any(k not in LOCATION_KINDS for k in wanted):
            raise ValueError(f"kinds must be among {LOCATION_KINDS}")
        before = {r["kind"]: r for r in self.locations.get(user, [])}
        self.locations[user] = [before.get(k) or self._location(k) for k in wanted]
        return self.locations[user]
