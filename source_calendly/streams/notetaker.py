"""Meeting recaps (Calendly Notetaker, 2026-07-22) and, opt-in, their transcripts.

Calendly offers no usable change filter or sort for recaps: List Recaps filters only by meeting time
(`start_time`/`end_time`), an event or an attendee, and a recap changes long after its meeting (processing
becomes available, highlights are edited) or is deleted. So every sync lists all recaps, one listing per status
(the default lists only available ones), and the stream is incremental by difference (`DiffedListingStream`):
only new or changed recaps are emitted, and a deleted one becomes a tombstone in the next sync.
https://developer.calendly.com/api-docs/calendly-api/notetaker/list-meeting-recaps
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.streams.base import uuid_of
from source_calendly.streams.diffed import DiffedListingStream
from source_calendly.streams.gated import Children
from source_calendly.streams.tracked import TrackedPerParentStream

# "Requires paid plan" on every Notetaker page; the 403 says "Please upgrade to a paid Calendly account".
NOTETAKER = Access(scope="meeting_recaps:read", plan="a paid plan (Standard or higher)")
# Processing first: a recap that becomes available or unavailable while the listings are read is then listed
# again by a later listing, never missed by both (see DiffedListingStream.listed_records).
STATUSES = ("processing", "available", "unavailable")


class MeetingRecaps(DiffedListingStream):
    """Every meeting recap the token may list, whatever its status (available, processing, unavailable), as
    List Recaps returns it: without the highlights and transcript text, which take a request per recap.

    Whose recaps a token lists is not documented ("recaps accessible to the authenticated user"); the
    connector asks without filters and takes what Calendly lists (the sandbox runs both readings).

    https://developer.calendly.com/api-docs/calendly-api/notetaker/list-meeting-recaps
    """

    name = "meeting_recaps"
    endpoint = "meeting_recaps"
    shared_with = "meeting_recap_transcripts"  # its available listing names the recaps with a transcript
    access = NOTETAKER
    tolerated_statuses = frozenset({403, 404})

    def listings(self) -> Sequence[Mapping[str, str]]:
        return [{"status": status} for status in STATUSES]

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {"count": "1"}

    def confirm_gone(self, key: Sequence[Any]) -> bool:
        """A recap missing from every listing is gone only if Calendly answers 404 for it (one request per
        disappearance): an unsorted listing may skip a record that moves between its pages."""
        return recap_is_gone(self, str(key[0]))


def recap_is_gone(stream: Any, recap_uri: str) -> bool:
    """Whether Calendly answers 404 for the recap; any other answer (it is there, or a 403) concludes nothing."""
    return stream.get(f"meeting_recaps/{uuid_of(recap_uri)}").status_code == 404


class MeetingRecapTranscripts(TrackedPerParentStream):
    """The transcript of every available recap, keyed by the recap's URI (`recap`, added by the connector;
    `uri` is the transcript's own). Opt-in (`include_meeting_recap_transcripts`): sensitive, large, and one
    request per recap. A transcript is read when its recap is new in the available listing or its list item
    changed; one whose recap was deleted or is no longer available gets a tombstone (after a 404 or a
    non-available answer for the recap confirms it). No rotation: a transcript does not change on its own.

    https://developer.calendly.com/api-docs/calendly-api/notetaker/get-transcript-meeting-recaps
    """

    name = "meeting_recap_transcripts"
    endpoint = "meeting_recaps"
    primary_key = "recap"
    parent_stream = MeetingRecaps
    parent_param = "status"
    access = NOTETAKER
    rotates = False

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._listed: set[str] = set()

    def parent_records(self) -> Iterator[Mapping[str, Any]]:
        parent = self.parent
        return self.list(
            parent.endpoint, {"status": "available"}, shared=parent.listing_is_shared(), record_key=parent.record_key
        )

    def parents(self) -> Iterator[tuple[str, Any]]:
        for record in self.parent_records():
            self._listed.add(str(record["uri"]))
            yield str(record["uri"]), record  # any change to the list item reads the transcript again

    def scope(self) -> str:
        return self.context.account.user_uri  # whose recaps: the listing takes no organization or user

    def listed(self, uri: str) -> bool:
        return uri in self._listed or gone_or_unavailable(self, uri)

    def children_of(self, parent_uri: str) -> Children:
        response = self.get(f"meeting_recaps/{uuid_of(parent_uri)}/transcript")
        if response.status_code == 404:  # not ready after all, or deleted since the listing: asked again later
            return Children(parent_uri, [], complete=False)
        resource, _ = self._resource(response)
        return Children(parent_uri, [{"recap": parent_uri, **resource}])

    def _resource(self, response: Any) -> tuple[Mapping[str, Any], Any]:
        if not response.ok:
            self.on_tolerated_response(response)
        resource = self._body(response).get("resource")
        return (resource if isinstance(resource, Mapping) else {}), response

    def read_allowed(self, sync_mode: SyncMode) -> Iterator[Mapping[str, Any]]:
        self._listed = set()
        yield from super().read_allowed(sync_mode)

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {"count": "1"}


def gone_or_unavailable(stream: Any, recap_uri: str) -> bool:
    """Whether a recap the available listing no longer names has no transcript to keep: deleted (404) or no
    longer available. A 403 or an available recap (skipped by the listing) concludes nothing."""
    response = stream.get(f"meeting_recaps/{uuid_of(recap_uri)}")
    if response.status_code == 404:
        return True
    if response.status_code == 403:
        return False
    if not response.ok:
        stream.on_tolerated_response(response)
    status = str(stream._body(response).get("resource", {}).get("status", "")).lower()
    return status != "available"
