"""Meeting recaps and users' meeting locations (Calendly API v2, 2026), on top of ``api.Api``.

- GET /meeting_recaps: paid plans, ``meeting_recaps:read``; paginated; filters ``event``, ``start_time`` (the
  meeting ends at or after), ``end_time`` (it starts at or before), ``status`` (default ``available`` only),
  ``attendee``; no sort. https://developer.calendly.com/api-docs/calendly-api/notetaker/list-meeting-recaps
  The 2026-07-22 release note also names ``user``, ``organization``, ``min_start_time`` and ``max_start_time``,
  which the reference page does not list: DECISION, they are ignored like any parameter the page lacks.
- GET /meeting_recaps/{uuid} and /meeting_recaps/{uuid}/transcript (get-meeting-recaps-uuid-recap,
  get-transcript-meeting-recaps): the recap with its highlights; the transcript ``{uri, text}``. DECISION: a
  recap that is not available has no transcript (404), as "if it is available" suggests.
- GET /locations?user=: ``locations:read``, no plan stated, no pagination (``{collection}`` alone).
  https://developer.calendly.com/api-docs/calendly-api/locations/list-user-locations

Whose recaps a token lists is not documented ("accessible to the authenticated user"):
``Behaviour.meeting_recaps_visibility`` (see behaviour.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from . import errors
from .endpoint_base import Endpoints
from .listing import Handler, Listing, Principal, Query
from .notetaker import RECAP_STATUSES, Recap
from .pagination import resource_body
from .timeutil import fmt, parse
from .tokens import SCOPE_LOCATIONS, SCOPE_MEETING_RECAPS

# Calendly's 403 for a plan without the Notetaker API, verbatim from the List Recaps errors.
UPGRADE_PAID = "Please upgrade to a paid Calendly account"
FREE_PLANS = frozenset({"basic"})


def whole_organization(behaviour: object, is_admin: bool) -> bool:
    """Whether the token lists its organization's recaps (else only those of its own user's meetings)."""
    return is_admin and getattr(behaviour, "meeting_recaps_visibility", "own") == "organization"


class NotetakerEndpoints(Endpoints):
    def routes(self) -> dict[tuple[tuple[str, ...], int], tuple[str, Handler]]:
        return {
            (("meeting_recaps",), 0): ("/meeting_recaps", self.list_recaps),
            (("meeting_recaps",), 1): ("/meeting_recaps/{uuid}", self.get_recap),
            (("meeting_recaps", "transcript"), 1): ("/meeting_recaps/{uuid}/transcript", self.get_transcript),
            (("locations",), 0): ("/locations", self.list_locations),
        }

    def _gate(self, p: Principal) -> None:
        self._need_scope(p, SCOPE_MEETING_RECAPS)
        if self.store.org_plan(p.org) in FREE_PLANS:
            raise errors.denied(UPGRADE_PAID)

    def _visible(self, p: Principal) -> list[Recap]:
        whole = whole_organization(self.store.behaviour, self.store.is_admin(p.user, p.org))
        return self.store.notetaker.visible(p.user, p.org, whole)

    # -- recaps ----------------------------------------------------------------------------------------------
    def list_recaps(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._gate(p)
        return self._paginate(
            p, "/meeting_recaps", q, lambda params: self._recaps(p, params), blob_of=lambda _: Recap.blob
        )

    def _recaps(self, p: Principal, q: Query) -> Listing:
        status = self._enum(q, "status", RECAP_STATUSES) or "available"
        event = self._uri(q, "event", "scheduled_events")
        attendee = (q.get("attendee") or "").lower() or None
        ends_from = _filter_time(q, "start_time")
        starts_until = _filter_time(q, "end_time")
        rows = []
        for recap in self._visible(p):
            item = recap.item
            if item["status"] != status or (event is not None and item["event"] != event):
                continue
            if attendee is not None and attendee not in {a["user_email"].lower() for a in item["attendees"] or []}:
                continue
            if ends_from is not None and (item["end_time"] is None or item["end_time"] < ends_from):
                continue
            if starts_until is not None and (item["start_time"] is None or item["start_time"] > starts_until):
                continue
            rows.append(recap)
        return Listing([r.key for r in rows], rows, 0, len(rows), False)

    def _recap(self, p: Principal, uuid: str) -> Recap:
        recap = self.store.notetaker.recaps.get(uuid)
        if recap is None or recap.org != p.org:
            raise errors.not_found()
        if recap not in self._visible(p):
            raise errors.denied(errors.NO_ACCESS)
        return recap

    def get_recap(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._gate(p)
        with self.store.lock:
            recap = self._recap(p, ids[0])
            return resource_body(orjson.dumps(recap.full()))

    def get_transcript(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._gate(p)
        with self.store.lock:
            recap = self._recap(p, ids[0])
            if recap.status != "available":
                raise errors.not_found()
            return resource_body(orjson.dumps({"uri": recap.item["transcript"], "text": recap.transcript}))

    # -- locations -------------------------------------------------------------------------------------------
    def list_locations(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_LOCATIONS)
        user = self._member_param(p, q)
        with self.store.lock:
            blobs = [orjson.dumps(r) for r in self.store.notetaker.locations.get(user, [])]
        return b'{"collection":[' + b",".join(blobs) + b"]}"  # no pagination object at all


def _filter_time(q: Query, name: str) -> str | None:
    raw = q.get(name)
    if raw is None:
        return None
    try:
        return fmt(parse(raw))
    except ValueError:
        raise errors.invalid((name, "must be an ISO 8601 date-time")) from None
