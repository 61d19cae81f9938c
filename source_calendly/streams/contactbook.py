"""The token user's contact book beyond the contacts themselves: custom field definitions, Lists and Views, who
is on each, and the user's private notes. Every plan since 2026-11-19, `contacts:read`
(https://developer.calendly.com/release-notes/2026/11/19: no plan 403 any more)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from airbyte_cdk.models import SyncMode

from source_calendly.access import Access
from source_calendly.streams.activity import Contacts
from source_calendly.streams.gated import GatedStream, PerParentStream

CONTACTS_ACCESS = Access(scope="contacts:read")


class UnpagedStream(GatedStream):
    """A collection Calendly answers whole, in one response: no `count`, no `page_token` sent."""

    def unpaged(self) -> list[Mapping[str, Any]]:
        response = self.get(self.endpoint, {})
        if not response.ok:
            self.on_tolerated_response(response)
        return self.parse_response(response)

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        yield from self.unpaged()

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.endpoint, {}


class ContactCustomFieldDefinitions(UnpagedStream):
    """The custom fields a contact can carry (2026-08-25): label, type (text, number, currency, tags, date,
    single_select, invitee_question), options and currency. Returned whole, without pagination (the page
    documents only `collection`). Read whole every sync: a deleted definition leaves the next overwrite.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contact-custom-field-definitions
    """

    name = "contact_custom_field_definitions"
    endpoint = "contacts/custom_field_definitions"
    access = CONTACTS_ACCESS


class ContactLists(UnpagedStream):
    """The user's Lists (`static_list`) and Views (`dynamic_view`), at most 25, "in one response, without
    pages". `contact_count` is null when Calendly cannot count (2026-12-01). Read whole every sync: a
    deleted List leaves the next overwrite.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contact-lists
    """

    name = "contact_lists"
    endpoint = "contact_lists"
    access = CONTACTS_ACCESS
    shared_with = "contact_list_memberships"

    def records(self) -> Iterator[Mapping[str, Any]]:
        """The listing, read once per sync for this stream and the memberships (replayed from the spool)."""
        key = (self.endpoint, ())
        replayed = self.context.spool.replay(key)
        if replayed is not None:
            return replayed
        if not self.context.read_more_than_once(self.name, "contact_list_memberships"):
            return iter(self.unpaged())
        return self.context.spool.keep(key, iter(self.unpaged()))

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        yield from self.records()


class ContactListMemberships(PerParentStream):
    """Who is on each List and View: `GET /contacts?contact_list=<list uri>` (2026-11-17), one record per
    (list, contact). Full refresh: one listing per List or View every sync, ⌈its contacts/100⌉ requests
    each (at most 25 of them). A View's members change with its saved filters, and nothing a List returns
    says its members changed (a List has no documented `updated_at` that moves with them, and `contact_count`
    misses a swap of one contact for another), so no cheaper incremental read is sound.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-contacts
    """

    name = "contact_list_memberships"
    endpoint = "contacts"
    primary_key = ["contact_list", "contact"]
    fields_every_record_has = ("uri",)
    parent_stream = ContactLists
    parent_param = "contact_list"
    access = CONTACTS_ACCESS

    def parent_records(self) -> Iterator[Mapping[str, Any]]:
        return self.parent.records()  # type: ignore[attr-defined]

    def child_params(self, parent_uri: str) -> dict[str, str]:
        return {self.parent_param: parent_uri, "exclude": "custom_fields"}  # only the uri is kept

    def decorate(self, record: Mapping[str, Any], parent_uri: str) -> Mapping[str, Any]:
        return {"contact_list": parent_uri, "contact": record["uri"]}

    def record_key(self, record: Mapping[str, Any]) -> str:
        return str(record.get("uri"))  # while listing, the records are contacts

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.parent.endpoint, {}


class ContactNotes(GatedStream):
    """The token user's own notes about its contacts (2026-11-17): `GET /notes?contact=` takes 1 to 10
    contact URIs, and a user sees only the notes they wrote. So a sync lists every contact (⌈contacts/100⌉
    requests) and asks for the notes of ten at a time:
    ⌈contacts/10⌉ requests more, 100 per 1,000 contacts, each page of notes beyond the first one more.
    Opt-in (`sync_contact_notes`), off by default: the cost, and notes are private text. Read whole every
    sync; a deleted note leaves the next overwrite.

    https://developer.calendly.com/api-docs/calendly-api/contacts/list-notes
    """

    name = "contact_notes"
    endpoint = "notes"
    access = CONTACTS_ACCESS
    contacts_per_request = 10  # the documented maximum

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.contacts = Contacts(context=context)

    def contact_uris(self) -> Iterator[str]:
        """Every contact, oldest first (the contacts stream reads newest changes first and stops at its cursor,
        so its listing cannot be shared)."""
        for record in self.list(self.contacts.endpoint, {"exclude": "custom_fields"}):
            yield str(record["uri"])

    def read_allowed(self, sync_mode: SyncMode) -> Iterable[Mapping[str, Any]]:
        uris = self.contact_uris()
        while batch := list(islice(uris, self.contacts_per_request)):
            yield from self.list(self.endpoint, {"contact": ",".join(batch)})

    def probe_request(self) -> tuple[str, dict[str, str]] | None:
        return self.contacts.endpoint, {"count": "1"}
