"""Endpoints of the contact book: custom field definitions, one contact, Lists and Views, notes; and the
`contact_list` filter of GET /contacts. Every plan since 2026-11-19 ("no longer return 403 Permission Denied
for a plan", https://developer.calendly.com/release-notes/2026/11/19); `contacts:read`.

- GET /contacts/custom_field_definitions: the whole collection, no pagination (the page documents only
  `collection`: https://developer.calendly.com/api-docs/calendly-api/contacts/list-contact-custom-field-definitions).
- GET /contacts/{uuid}: one of the token user's contacts, else 404.
- GET /contact_lists: "in one response, without pages"; `pagination.count` is the number returned, the other
  fields null; `type` filters (https://developer.calendly.com/api-docs/calendly-api/contacts/list-contact-lists).
- GET /notes: `contact` required, 1 to 10 URIs; "A query parameter other than contact, count, or page_token
  returns 400"; the author's notes only, `updated_at` newest first, then by id
  (https://developer.calendly.com/api-docs/calendly-api/contacts/list-notes).
DECISION: a `contact_list` that is not one of the user's Lists or Views answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from . import errors
from .endpoint_base import Endpoints
from .listing import Handler, Listing, Principal, Query
from .pagination import collection_body, resource_body
from .tokens import API_BASE, SCOPE_CONTACTS

MAX_NOTE_CONTACTS = 10
NOTE_PARAMS = frozenset({"contact", "count", "page_token"})
LIST_TYPES = ("static_list", "dynamic_view")


def _whole(blobs: list[bytes]) -> bytes:
    return collection_body(
        blobs,
        {"count": len(blobs), "next_page": None, "previous_page": None, "next_page_token": None,
         "previous_page_token": None},
    )  # fmt: skip


class ContactBookEndpoints(Endpoints):
    def routes(self) -> dict[tuple[tuple[str, ...], int], tuple[str, Handler]]:
        return {
            (("contacts",), 1): ("/contacts/{uuid}", self.get_contact),
            (("contact_lists",), 0): ("/contact_lists", self.list_contact_lists),
            (("contact_lists",), 1): ("/contact_lists/{uuid}", self.get_contact_list),
            (("notes",), 0): ("/notes", self.list_notes),
        }

    def static_routes(self) -> dict[str, tuple[str, Handler]]:
        """Paths whose second segment is a name, not an id."""
        return {"/contacts/custom_field_definitions": ("/contacts/custom_field_definitions", self.list_definitions)}

    def list_definitions(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        with self.store.lock:
            return _whole([d.blob for d in sorted(self.store.book.definitions.get(p.org, []), key=lambda d: d.key)])

    def get_contact(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        uri = f"{API_BASE}/contacts/{ids[0]}"
        with self.store.lock:
            item = self.store.org.contact_by_uri.get(uri)
            visible = item is not None and (
                self.store.behaviour.contacts_visibility == "organization"
                or self.store.org.contact_owner.get(uri) == p.user
            )
            if not visible:
                raise errors.not_found()
            return resource_body(item.blob)  # type: ignore[union-attr]

    def list_contact_lists(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        kind = self._enum(q, "type", LIST_TYPES)
        with self.store.lock:
            rows = [r for r in self.store.book.lists.get(p.user, []) if kind is None or r["type"] == kind]
            return _whole([orjson.dumps(r) for r in rows])

    def get_contact_list(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        uri = f"{API_BASE}/contact_lists/{ids[0]}"
        with self.store.lock:
            book = self.store.book
            if book.list_owner.get(uri) != p.user:
                raise errors.not_found()
            return resource_body(orjson.dumps(next(r for r in book.lists[p.user] if r["uri"] == uri)))

    def list_notes(self, p: Principal, q: Query, ids: Sequence[str]) -> bytes:
        self._need_scope(p, SCOPE_CONTACTS)
        unknown = sorted(set(q) - NOTE_PARAMS)
        if unknown:
            raise errors.invalid(*((name, "is not a valid parameter") for name in unknown))
        if not q.get("page_token"):
            contacts = [c.strip() for c in (q.get("contact") or "").split(",") if c.strip()]
            if not contacts:
                raise errors.invalid(("contact", "is required"))
            if len(contacts) > MAX_NOTE_CONTACTS:
                raise errors.invalid(("contact", f"accepts 1 to {MAX_NOTE_CONTACTS} contact URIs"))
        return self._paginate(p, "/notes", q, lambda params: self._notes(p, params))

    def _notes(self, p: Principal, q: Query) -> Listing:
        wanted = {c.strip() for c in (q.get("contact") or "").split(",") if c.strip()}
        rows = [n for n in self.store.book.notes.get(p.user, []) if n.rec["contact"] in wanted]
        return self._sorted_listing(rows, lambda n: n.key, True)
