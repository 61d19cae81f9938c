"""routing_forms and its substream routing_form_submissions (Teams and Enterprise plans only)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from source_calendly.access import SCOPE_HELP
from source_calendly.config import config_error
from source_calendly.errors import error_detail, forbidden_message, required_scopes
from source_calendly.key_memory import KeysByParent
from source_calendly.streams.base import PAGE_SIZE, CalendlyStream
from source_calendly.streams.incremental import FanOutSubStream, Listed, see, timestamp

PLAN_WARNING = (
    "Calendly refused routing forms ({detail}): routing forms need the Teams or Enterprise plan (and access to the "
    "organization's routing forms). Skipping routing_forms and routing_form_submissions; the rest of the sync goes on."
)


class RoutingFormsUnavailable(Exception):
    """Calendly answered 403 for routing forms without naming a missing scope: the plan lacks them."""


class RoutingForms(CalendlyStream):
    """The organization's routing forms; skipped with a warning where the plan has none.

    https://developer.calendly.com/api-docs/calendly-api/routing-forms/list-routing-forms
    """

    name = "routing_forms"
    endpoint = "routing_forms"
    tolerated_statuses = frozenset({403})
    shared_with = "routing_form_submissions"

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {"organization": self.context.account.organization_uri, "sort": "created_at:asc"}

    def read_records(self, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        try:
            yield from super().read_records(*args, **kwargs)
        except RoutingFormsUnavailable as unavailable:
            self.logger.warning(str(unavailable))

    def on_tolerated_response(self, response: requests.Response) -> None:
        if required_scopes(response):
            raise config_error(forbidden_message(response))
        raise RoutingFormsUnavailable(PLAN_WARNING.format(detail=f"HTTP 403: {error_detail(response)}"))

    def refusal(self) -> str | None:
        """For check's report, as the optional streams have it: None if the token may read routing forms, else
        why not (one `count=1` request)."""
        response = self.get(self.endpoint, {**self.request_params(), "count": "1"})
        if response.status_code != 403:
            return None
        said = f"Calendly answered HTTP 403: {error_detail(response)}"
        scopes = required_scopes(response)
        if scopes:
            listed = ", ".join(scopes)
            return (
                f"the token lacks the scope {listed} ({said}); a sync that selects routing_forms or "
                f"routing_form_submissions fails until it has it. " + SCOPE_HELP.format(scopes=listed)
            )
        return f"it needs the Teams or Enterprise plan ({said}). Upgrade the Calendly organization's plan to read it."


class RoutingFormSubmissions(FanOutSubStream):
    """Submissions of every routing form, incremental on `updated_at`.

    Calendly lists submissions only per form and only by `created_at`, so each form is read newest first
    and stops at the window start: new submissions, and changes to submissions created within
    `lookback_days` of the previous sync (a submitter booking after submitting), are caught with the
    fewest pages. Older submissions are re-checked by the history walk: one form per sync, in turn, read on
    past the window start for up to its share of the history budget (a listing without a time filter cannot
    start in the middle, so a form's submissions beyond that share are not re-checked).

    https://developer.calendly.com/api-docs/calendly-api/routing-forms/list-routing-form-submissions
    """

    name = "routing_form_submissions"
    order_field = "created_at"
    parent: RoutingForms
    _forms_unavailable = False
    # Calendly documents no deletion of submissions; should one vanish from a form's listing, it is tombstoned.
    tracks_deletions = True

    def new_keys(self) -> KeysByParent:
        return KeysByParent()

    def parse_keys(self, raw: Any) -> KeysByParent:
        return KeysByParent.parse(raw)

    def children_read(self, parent: Mapping[str, Any], records: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Tombstones for the form's remembered submissions that its listing, complete from where it stopped,
        no longer has."""
        if not self._tracking or not isinstance(records, Listed):
            return
        memory = self._keys.of(str(parent["uri"]))
        scan = memory.scan(records.complete_from)
        gone = []
        for record in sorted(records, key=lambda r: str(r.get("created_at"))):  # listed newest first
            gone += see(scan, record, "created_at")
        gone += scan.complete_to(None)
        if gone:
            at = self.deleted_at()
            for record in gone:
                yield self.tombstone(record.key, at)
            memory.forget(gone)

    def parents(self) -> Iterator[Mapping[str, Any]]:
        resume_from = self._window.current.resume_from if self._window.current else None
        walk = self.history_range() is not None and self.history_shares().submission_pages > 0
        position = self._window.history.position if self._window.history else None
        try:
            all_forms = list(self.parent.list_own(self.parent.request_params()))
        except RoutingFormsUnavailable as unavailable:
            self.logger.warning(str(unavailable))
            self._forms_unavailable = True
            return
        # Forms come oldest first; those before the resume point were fully read by a killed sync.
        forms = [
            form
            for form in all_forms
            if resume_from is None or (created := timestamp(form, "created_at")) is None or created >= resume_from
        ]
        # The walk's form this sync: the first created after the last one walked (from the first, at a new cycle).
        # Chosen among all forms: one a resumed sync does not read waits for the next sync rather than being
        # skipped for the cycle.
        walked = next((f for f in all_forms if position is None or _created_after(f, position)), None) if walk else None
        if walk and walked is None and position is not None:
            self.note_walked(None)  # every form after the last one walked has been deleted: the cycle is over
        for form in forms:
            yield {**form, "walk": "last" if form is all_forms[-1] else "next"} if form is walked else form

    def slim(self, parent: Mapping[str, Any]) -> dict[str, Any]:
        return super().slim(parent) | ({"walk": parent["walk"]} if "walk" in parent else {})

    def scope(self) -> str:
        return self.context.account.organization_uri  # routing forms are always the organization's

    def finish_pass(self) -> None:
        if self._forms_unavailable:
            # Nothing was read: moving the window on would skip the submissions of the refused period once
            # routing forms are back.
            self.abandon_pass()
        else:
            super().finish_pass()

    def after_slice(self, parents: list[Mapping[str, Any]]) -> None:
        for form in parents:
            if "walk" in form:  # the walk moves on once the form's records are out
                self.note_walked(None if form["walk"] == "last" else timestamp(form, "created_at"))

    def is_emitted(self, record: Mapping[str, Any], parent: Mapping[str, Any]) -> bool:
        window_start = self._window.current.window_start if self._window.current else None
        created = timestamp(record, "created_at")
        if window_start is not None and created is not None and created < window_start:
            return self.note_walk_emitted(record)  # read by the history walk
        return self.note_emitted(record)

    def children_of(self, form: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
        """A form's submissions created at or after the window start, newest first; for the form the history
        walk visits, more pages past the window start, up to the walk's share and never before start_date."""
        window_start = self._window.current.window_start if self._window.current else None
        start_date = self.context.config.start_date
        params = {"form": str(form["uri"]), "sort": "created_at:desc"}
        extra_pages = self.history_shares().submission_pages if "walk" in form else 0
        out: list[Mapping[str, Any]] = []
        limit: int | None = None  # records the listing may use once the window start is passed
        complete_from: datetime | None = None  # the listing holds every submission created from then on
        for read, submission in enumerate(self.list("routing_form_submissions", params), start=1):
            created = timestamp(submission, "created_at")
            if start_date is not None and created is not None and created < start_date:
                complete_from = start_date
                break  # the walk, like the window, never reads before start_date
            if limit is None and window_start is not None and created is not None and created < window_start:
                if not extra_pages:
                    complete_from = window_start
                    break  # everything after this was created earlier still
                limit = (-(-read // PAGE_SIZE) + extra_pages) * PAGE_SIZE  # this page, then the walk's pages
            out.append(submission)
            if limit is not None and read >= limit:
                # More may have been created at this instant, on the next page: complete only after it.
                complete_from = created + timedelta(microseconds=1) if created is not None else _NEVER
                break  # before the listing asks for a page past the walk's share
        return Listed(out, complete_from), None


_NEVER = datetime.max.replace(tzinfo=UTC)  # a listing that tells nothing is complete from nowhere


def _created_after(form: Mapping[str, Any], position: datetime) -> bool:
    created = timestamp(form, "created_at")
    return created is None or created > position
