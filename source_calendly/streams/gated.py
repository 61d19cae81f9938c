"""Optional streams: gated by plan, role and scope, and fanned out over another stream's listing.

A refusal (HTTP 403) ends the stream empty with one warning that says what is missing; the other streams
sync and the exit code stays 0. The same declaration (`access`) words check's capability report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import requests
from airbyte_cdk.models import SyncMode

from source_calendly.access import Access, StreamUnavailable, refusal_reason, skip_warning
from source_calendly.errors import required_scopes
from source_calendly.streams.base import PAGE_SIZE, CalendlyStream


@dataclass
class Children:
    """One parent's records as this sync read them."""

    parent: str
    records: list[Mapping[str, Any]]
    # False: refused (403) or gone (404) after the listing named it; nothing may be concluded about its records.
    complete: bool = True
    warning: str | None = None


class _ParentGone(Exception):
    """A parent was deleted between listing it and listing its children (HTTP 404)."""


class GatedStream(CalendlyStream):
    """A stream Calendly may refuse for the plan, the role or a scope; subclasses declare `access`."""

    access: Access
    tolerated_statuses = frozenset({403})

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        try:
            yield from self.read_allowed(sync_mode)
        except StreamUnavailable as refused:
            self.context.refused[self.name] = refused
            self.logger.warning(skip_warning(self.name, refused.reason))

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        """The stream's records; a refusal raises StreamUnavailable (read_records turns it into the warning)."""
        yield from self.list_own(self.request_params())

    def on_tolerated_response(self, response: requests.Response) -> None:
        if response.status_code == 403:
            raise StreamUnavailable(
                refusal_reason(self.access, response, self.context.account.is_admin), bool(required_scopes(response))
            )
        super().on_tolerated_response(response)

    # check's capability report -------------------------------------------------------------------------------
    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        """The one cheapest request that tells whether this token may read the stream; None: no request needed."""
        return self.endpoint, {**self.request_params(), "count": "1"}

    def refusal(self) -> str | None:
        """None if this token may read the stream, else why not and how to get it (one request at most)."""
        try:
            probe = self.probe_request()
        except StreamUnavailable as refused:
            return refused.reason
        if probe is None:
            return None
        response = self.get(*probe)
        if response.status_code == 403:
            return refusal_reason(self.access, response, self.context.account.is_admin)
        return None


class PerParentStream(GatedStream):
    """One list per record of a parent stream (`GET endpoint?<parent_param>=<parent uri>`).

    The parent's listing is the parent stream's own, read once per sync and replayed from the spool when
    both streams are selected; the children are fetched on the sync's worker threads, within the one rate
    budget, and emitted in parent order.
    """

    parent_stream: type[CalendlyStream]
    parent_param: str  # the query parameter that names the parent, e.g. event_type
    paginated = True  # False: Calendly answers the whole collection at once, with no page_token or count
    tolerated_statuses = frozenset({403, 404})

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.parent = self.parent_stream(context=context)

    def parent_records(self) -> Iterator[Mapping[str, Any]]:
        """The parent stream's listing (read once per sync, replayed from the spool), asked as this stream: a
        token refused the parent listing (without its scope, say) skips this stream with a warning rather than
        failing the sync."""
        parent = self.parent
        return self.list(
            parent.endpoint, parent.request_params(), shared=parent.listing_is_shared(), record_key=parent.record_key
        )

    def parent_uris(self) -> Iterator[str]:
        """The URIs of the parents whose children this token may read."""
        for record in self.parent_records():
            yield str(record["uri"])

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        for children in self.read_parents(self.parent_uris()):
            yield from children.records

    def read_parents(self, parents: Iterator[str]) -> Iterator[Children]:
        """Each parent's children, in parent order. The first parent alone, so that a refusal costs one request
        rather than one per worker (it refuses the stream: StreamUnavailable); then a page of parents at a time,
        so that results wait in memory only for the parents in flight."""
        first = next(parents, None)
        if first is None:
            return
        yield self._logged(self.children_of(first))
        while batch := list(islice(parents, PAGE_SIZE)):
            for _, children in self.fan_out(batch, self._children_or_skip):
                yield self._logged(children)

    def _children_or_skip(self, parent_uri: str) -> Children:
        """After the first parent was answered, a refusal for one more is that parent's, not the stream's."""
        try:
            return self.children_of(parent_uri)
        except StreamUnavailable as refused:
            skipped = f"Stream {self.name}: Calendly refused the records of {parent_uri}; they are skipped"
            return Children(parent_uri, [], complete=False, warning=f"{skipped} ({refused.reason})")

    def _logged(self, children: Children) -> Children:
        if children.warning:
            self.logger.warning(children.warning)
        return children

    def children_of(self, parent_uri: str) -> Children:
        """A parent's records; runs on a worker thread, so it logs nothing itself (the warning is returned)."""
        params = self.child_params(parent_uri)
        try:
            if self.paginated:
                records = list(self.list(self.endpoint, params))
            else:
                records = self.list_unpaged(self.endpoint, params)
        except _ParentGone:
            gone = f"Stream {self.name}: {parent_uri} no longer exists (HTTP 404); its records are skipped."
            return Children(parent_uri, [], complete=False, warning=gone)
        return Children(parent_uri, [self.decorate(record, parent_uri) for record in records])

    def child_params(self, parent_uri: str) -> dict[str, str]:
        """The query that lists one parent's records."""
        return {self.parent_param: parent_uri}

    def decorate(self, record: Mapping[str, Any], parent_uri: str) -> Mapping[str, Any]:
        return record

    def list_unpaged(self, path: str, params: Mapping[str, str]) -> list[Mapping[str, Any]]:
        """A collection Calendly returns whole, in one response without pagination."""
        response = self.get(path, params)
        if not response.ok:
            self.on_tolerated_response(response)
        return self.parse_response(response)

    def on_tolerated_response(self, response: requests.Response) -> None:
        if response.status_code == 404:
            raise _ParentGone()
        super().on_tolerated_response(response)

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        response = self.get(self.parent.endpoint, {**self.parent.request_params(), "count": "1"})
        if not response.ok:
            self.on_tolerated_response(response)  # a refused parent listing refuses this stream
        first = self.parent.parse_response(response)[:1]
        if not first:
            return None  # no parent to ask about: nothing to read either way
        params = self.child_params(str(first[0]["uri"]))
        return self.endpoint, (params if not self.paginated else {**params, "count": "1"})
