"""Deleted contacts: a rolling re-listing that finds contacts Calendly no longer has, within a budget per sync.

Calendly lists no deleted contacts and has no filter that would show one. So the contacts stream remembers the
ids of the contacts it has sent (`known`), and each incremental sync lists a few more pages of every contact,
oldest created first (`sort=created_at:asc`, where a new contact comes last), continuing with the page token
the previous sync stopped at. A known contact that the finished pass never listed is a candidate; it becomes a
tombstone only when `GET /contacts/{uuid}` answers 404. Nothing else does: a 403, a failed or refused page or a
killed sync stops the pass without any conclusion (the state keeps its last committed position), a page token
Calendly refuses starts the pass over, and a candidate that answers 200 (a pass that missed it) stays known.

State: the ids (a UUID packed into 22 characters, see `tombstones.KeyCodec`), space-separated, and the pass in
progress (its page token and the known ids not listed yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from source_calendly.errors import is_page_token_rejection
from source_calendly.tombstones import KeyCodec

KNOWN = "known"
SWEEP = "deletion_sweep"
PREFIXES = "key_prefixes"


def _split(value: Any) -> set[str] | None:
    return set(value.split()) if isinstance(value, str) else None


@dataclass
class SweepState:
    """What the contacts stream remembers for deletions (absent from a state saved before this existed)."""

    codec: KeyCodec = field(default_factory=lambda: KeyCodec([]))
    known: set[str] | None = None  # encoded ids of the contacts sent and not deleted; None: not tracked yet
    page_token: str | None = None  # where the pass in progress continues
    pending: set[str] | None = None  # known ids the pass in progress has not listed; None: no pass
    listed: bool = False  # the pass has listed everything: `pending` are the candidates left to confirm

    @classmethod
    def load(cls, value: Mapping[str, Any] | None) -> SweepState:
        value = value or {}
        codec = KeyCodec.parse(value.get(PREFIXES)) or KeyCodec([])
        known = _split(value.get(KNOWN))
        sweep = value.get(SWEEP)
        if known is None or not isinstance(sweep, Mapping):
            return cls(codec, known)
        token = sweep.get("page_token")
        token = token if isinstance(token, str) else None
        return cls(codec, known, token, _split(sweep.get("pending")), sweep.get("listed") is True)

    def dump(self, into: MutableMapping[str, Any]) -> None:
        if self.known is None:
            return
        into[PREFIXES] = self.codec.prefixes
        into[KNOWN] = " ".join(sorted(self.known))
        if self.pending is not None:
            pending = " ".join(sorted(self.pending))
            into[SWEEP] = {"page_token": self.page_token, "pending": pending, "listed": self.listed}

    def encode(self, uri: str) -> str:
        return self.codec.encode([uri])

    def decode(self, encoded: str) -> str:
        return str(self.codec.decode(encoded)[0])


class DeletionSweep:
    """One sync's share of the pass: at most `budget` requests, pages and confirmations together."""

    def __init__(self, stream: Any, state: SweepState, budget: int) -> None:
        self.stream = stream  # a CalendlyStream (get, parse_response, next_page_token, on_tolerated_response)
        self.state = state
        self.budget = budget
        self.requests = 0

    def run(self) -> Iterator[str]:
        """The URIs of contacts found deleted (confirmed by a 404); updates `state` as it goes."""
        state = self.state
        if state.known is None or self.budget <= 0:
            return
        if state.pending is None:
            state.pending, state.page_token, state.listed = set(state.known), None, False
        while not state.listed and self.requests < self.budget:
            self._page()
        while state.listed:
            if not state.pending:
                state.pending, state.page_token, state.listed = None, None, False  # the pass is done
                return
            if self.requests >= self.budget:
                return  # the next sync confirms the rest
            candidate = min(state.pending)
            uri = state.decode(candidate)
            deleted = self._confirm(uri)
            state.pending.discard(candidate)
            if deleted:
                state.known.discard(candidate)
                yield uri

    def _page(self) -> None:
        state, stream = self.state, self.stream
        params = {"sort": "created_at:asc", "count": "100", "exclude": "custom_fields"}
        if state.page_token:
            params["page_token"] = state.page_token
        response = stream.get(stream.endpoint, params)
        self.requests += 1
        if is_page_token_rejection(response):  # the pass starts over; nothing is concluded
            stream.logger.info(f"Stream {stream.name}: the deletion check's page token was refused; starting over.")
            state.pending, state.page_token = set(state.known or ()), None
            return
        if not response.ok:
            stream.on_tolerated_response(response)  # a 403 refuses the stream (StreamUnavailable): no conclusion
            return
        for record in stream.parse_response(response):
            key = state.encode(str(record["uri"]))
            state.pending.discard(key)  # type: ignore[union-attr]
            state.known.add(key)  # type: ignore[union-attr]  # a contact never sent (an older state) is tracked now
        token = (stream.next_page_token(response) or {}).get("page_token")
        state.page_token, state.listed = token, not token

    def _confirm(self, uri: str) -> bool:
        """Whether Calendly says the contact is gone (404); a 200 or a 403 says nothing of the kind."""
        stream = self.stream
        response = stream.get(f"{stream.endpoint}/{uri.rstrip('/').rsplit('/', 1)[-1]}")
        self.requests += 1
        return response.status_code == 404


def remember(state: SweepState, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Pass records through, adding their ids to `known`."""
    for record in records:
        if state.known is not None and record.get("uri"):
            state.known.add(state.encode(str(record["uri"])))
        yield record
