"""The contact book beyond the contacts: custom field definitions (2026-08-25), Lists and Views, and private
notes (2026-11-17), with their mutations. Store layer: built from the store's contacts, changed under its lock.

- Definitions belong to an organization. Every contact carries every defined field ("Every defined field is
  included, with unset scalars as null and unset arrays as []",
  https://developer.calendly.com/release-notes/2026/8/25); a single_select value is an option uuid, a currency
  value an amount in the definition's currency (https://developer.calendly.com/release-notes/2026/10/22).
- Lists and Views belong to a user, at most 25 (https://developer.calendly.com/api-docs/calendly-api/contacts/
  list-contact-lists). A List holds the contacts added to it; a View's contacts are those its saved filter
  matches (here: a country). `contact_count` counts either (Views too since 2026-12-01).
- A note belongs to its author and is about one contact; only the author reads it.

DECISIONS where the reference is silent: deleting a contact removes it from every List and deletes its notes;
deleting a definition removes its entry from contacts without moving their `updated_at`; adding or removing
List members moves the List's `updated_at` (Behaviour-free: the connector reads memberships whole either way).
"""

from __future__ import annotations

import zlib
from typing import Any

from .orgstore import Item
from .records import FastRandom, Record, between, uuid4
from .timeutil import DAY, fmt, parse
from .tokens import API_BASE

MAX_LISTS = 25
# (label, field_type, options or currency)
DEFINITIONS: tuple[tuple[str, str, tuple[str, ...] | str | None], ...] = (
    ("Lead score", "number", None),
    ("Segment", "single_select", ("smb", "mid-market", "enterprise")),
    ("Interests", "tags", None),
    ("Renewal date", "date", None),
    ("Source", "text", None),
    ("Contract value", "currency", "USD"),
    ("What brings you here?", "invitee_question", None),
)
NOTE_TITLES = ("Follow up", "Pricing question", "Intro call recap", None)
NOTE_BODIES = ("Asked about the Teams plan.", "Wants a demo for the sales team.", None, "Sent the deck.")


def _uuid(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class ContactBook:
    def __init__(self, store: Any) -> None:  # the store.Store that holds it (not imported: it imports this)
        self._store = store
        self.definitions: dict[str, list[Item]] = {}  # organization -> definitions, by created_at
        self.lists: dict[str, list[Record]] = {}  # user -> Lists and Views, in the web app's order
        self.members: dict[str, list[str]] = {}  # List uri -> contact uris (a View: computed)
        self.view_country: dict[str, str] = {}  # View uri -> the country its saved filter matches
        self.list_owner: dict[str, str] = {}
        self.notes: dict[str, list[Item]] = {}  # author -> notes
        self._rng = FastRandom(0xB00C)  # the book's own ids: the store's random sequence stays as it was
        org = store.org
        for org_uri, rows in org.contacts.items():
            rng = FastRandom(zlib.crc32(org_uri.encode()))
            self._define(org_uri, rng)
            for item in rows:
                item.set({**item.rec, "custom_fields": self._values(org_uri, item.rec, rng)})
        by_owner: dict[str, list[str]] = {}
        for org_rows in org.contacts.values():
            for item in org_rows:
                by_owner.setdefault(org.contact_owner[item.key], []).append(item.key)
        for owner, uris in sorted(by_owner.items()):
            rng = FastRandom(zlib.crc32(owner.encode()))
            self._reference_lists(owner, uris, rng)
            self._reference_notes(owner, uris, rng)

    # -- reference data -----------------------------------------------------------------------------------
    def _anchor(self) -> int:
        return self._store.anchor_us

    def _define(self, org_uri: str, rng: FastRandom) -> None:
        created = self._anchor() - 200 * DAY
        out: list[Item] = []
        for n, (label, kind, extra) in enumerate(DEFINITIONS):
            at = fmt(created + n * DAY)
            rec: Record = {
                "uri": f"{API_BASE}/contacts/custom_field_definitions/{uuid4(rng)}",
                "label": label,
                "field_type": kind,
                "created_at": at,
                "updated_at": at,
            }
            if kind == "single_select":
                rec["options"] = [
                    {"uuid": uuid4(rng), "label": o, "color": "#0069ff" if i == 0 else None, "is_active": True}
                    for i, o in enumerate(extra or ())
                ]
            if kind == "currency":
                rec["currency"] = extra
            if kind == "invitee_question":
                types = sorted(u for u, o in self._store.event_type_org.items() if o == org_uri)[:1]
                rec["source"] = {
                    "type": "event_type_invitee_question",
                    "event_type_uri": types[0] if types else None,
                    "question": label,
                }
            out.append(Item(rec, rec["created_at"] + _uuid(rec["uri"])))
        self.definitions[org_uri] = out

    def _values(self, org_uri: str, contact: Record, rng: FastRandom) -> list[Record]:
        """Every defined field, with a value for about half of them (the others null, or [] for tags)."""
        had = {f.get("label"): f.get("value") for f in contact.get("custom_fields") or []}
        out = []
        for item in self.definitions.get(org_uri, []):
            d = item.rec
            value: Any = had.get(d["label"])
            if d["field_type"] == "single_select" and value is not None:
                value = next((o["uuid"] for o in d["options"] if o["label"] == value), None)
            elif d["field_type"] == "currency":
                value = rng.randint(1, 200) * 500 if rng.random() < 0.3 else None
            elif d["field_type"] == "invitee_question":
                value = "A demo for my team" if rng.random() < 0.2 else None
            if d["field_type"] == "tags" and value is None:
                value = []
            out.append({"uri": d["uri"], "label": d["label"], "value": value})
        return out

    def _reference_lists(self, owner: str, uris: list[str], rng: FastRandom) -> None:
        start = self._anchor() - 90 * DAY
        for name, share in (("Customers", 0.3), ("Newsletter", 0.5)):
            chosen = [u for u in uris if rng.random() < share]
            self._new_list(owner, name, "static_list", chosen, between(rng, start, self._anchor() - DAY))
        self._new_list(owner, "In the United States", "dynamic_view", [], between(rng, start, self._anchor() - DAY))
        self.view_country[self.lists[owner][-1]["uri"]] = "US"
        self._count(self.lists[owner][-1]["uri"])

    def _reference_notes(self, owner: str, uris: list[str], rng: FastRandom) -> None:
        for uri in uris:
            if rng.random() < 0.25:
                for _ in range(rng.randint(1, 2)):
                    created = between(rng, parse(self._store.org.contact_by_uri[uri].rec["created_at"]), self._anchor())
                    self._new_note(owner, uri, rng.choice(NOTE_TITLES) or "Note", rng.choice(NOTE_BODIES), created)

    def _new_list(self, owner: str, name: str, kind: str, contacts: list[str], now: int) -> Record:
        if len(self.lists.get(owner, [])) >= MAX_LISTS:
            raise ValueError(f"a user has at most {MAX_LISTS} Lists and Views")
        rng = self._rng
        at = fmt(now)
        rec: Record = {
            "uri": f"{API_BASE}/contact_lists/{uuid4(rng)}",
            "name": name,
            "type": kind,
            "contact_count": None,
            "created_at": at,
            "updated_at": at,
        }
        self.lists.setdefault(owner, []).append(rec)
        self.list_owner[rec["uri"]] = owner
        self.members[rec["uri"]] = list(dict.fromkeys(contacts))
        self._count(rec["uri"])
        return rec

    def _new_note(self, owner: str, contact: str, title: str | None, body: str | None, now: int) -> Record:
        at = fmt(now)
        rec: Record = {
            "uri": f"{API_BASE}/notes/{uuid4(self._rng)}",
            "contact": contact,
            "title": title,
            "body": body,
            "remind_at": None,
            "created_at": at,
            "updated_at": at,
        }
        self.notes.setdefault(owner, []).append(Item(rec, rec["updated_at"] + _uuid(rec["uri"])))
        return rec

    def _count(self, list_uri: str) -> None:
        rec = next(r for r in self.lists[self.list_owner[list_uri]] if r["uri"] == list_uri)
        rec["contact_count"] = len(self.contacts_of_list(list_uri))

    # -- reads (callers hold the store's lock) ------------------------------------------------------------
    def contacts_of_list(self, list_uri: str) -> list[str]:
        """The contact URIs of a List, or those a View's filter matches, among its owner's contacts."""
        country = self.view_country.get(list_uri)
        if country is None:
            return list(self.members.get(list_uri, []))
        org = self._store.org
        owner = self.list_owner[list_uri]
        return [
            item.key
            for rows in org.contacts.values()
            for item in rows
            if org.contact_owner[item.key] == owner and item.rec.get("country") == country
        ]

    def members_for(self, user: str, list_uri: str) -> set[str] | None:
        """For GET /contacts?contact_list=: the contacts of one of `user`'s Lists or Views; None if not theirs."""
        if self.list_owner.get(list_uri) != user:
            return None
        return set(self.contacts_of_list(list_uri))

    # -- mutations (callers hold the store's lock) --------------------------------------------------------
    def create_list(self, owner: str, name: str, contacts: list[str], now: int) -> Record:
        if any(r["name"].strip().lower() == name.strip().lower() for r in self.lists.get(owner, [])):
            raise ValueError(f"a List named {name!r} exists (Calendly answers 409)")
        return dict(self._new_list(owner, name, "static_list", self._owned(owner, contacts), now))

    def create_view(self, owner: str, name: str, country: str, now: int) -> Record:
        rec = self._new_list(owner, name, "dynamic_view", [], now)
        self.view_country[rec["uri"]] = country
        self._count(rec["uri"])
        return dict(rec)

    def change_members(self, list_uri: str, add: list[str], remove: list[str], now: int) -> Record:
        if list_uri not in self.list_owner:
            raise KeyError(list_uri)
        if list_uri in self.view_country:
            raise ValueError("a View's saved filters decide its contacts (Calendly answers 409)")
        owner = self.list_owner[list_uri]
        members = [u for u in self.members[list_uri] if u not in set(remove)]
        members += [u for u in self._owned(owner, add) if u not in members]
        self.members[list_uri] = members
        rec = next(r for r in self.lists[owner] if r["uri"] == list_uri)
        rec["updated_at"] = fmt(now)
        self._count(list_uri)
        return dict(rec)

    def delete_list(self, list_uri: str) -> None:
        owner = self.list_owner.pop(list_uri)
        self.lists[owner] = [r for r in self.lists[owner] if r["uri"] != list_uri]
        self.members.pop(list_uri, None)
        self.view_country.pop(list_uri, None)

    def add_note(self, owner: str, contact: str, title: str | None, body: str | None, now: int) -> Record:
        if contact not in self._store.org.contact_by_uri:
            raise KeyError(contact)
        if not (title or "").strip() and not (body or "").strip():
            raise ValueError("send a title, a body, or both")
        if self._store.behaviour.contact_notes_move_updated_at:
            item = self._store.org.contact_by_uri[contact]
            item.set({**item.rec, "updated_at": fmt(now)})
        return dict(self._new_note(owner, contact, title, body, now))

    def delete_definition(self, definition_uri: str) -> None:
        org = self._store.org
        for org_uri, rows in self.definitions.items():
            kept = [d for d in rows if d.rec["uri"] != definition_uri]
            if len(kept) == len(rows):
                continue
            self.definitions[org_uri] = kept
            for item in org.contacts.get(org_uri, []):
                fields = [f for f in item.rec.get("custom_fields") or [] if f.get("uri") != definition_uri]
                item.set({**item.rec, "custom_fields": fields})
            return
        raise KeyError(definition_uri)

    def delete_contact(self, contact_uri: str) -> None:
        org = self._store.org
        item = org.contact_by_uri.pop(contact_uri)
        for rows in org.contacts.values():
            if item in rows:
                rows.remove(item)
        org.contact_owner.pop(contact_uri, None)
        for members in self.members.values():
            if contact_uri in members:
                members.remove(contact_uri)
        for list_uri in self.list_owner:
            self._count(list_uri)
        for notes in self.notes.values():
            notes[:] = [n for n in notes if n.rec["contact"] != contact_uri]

    def contact_created(self, contact_uri: str) -> Record:
        """A new contact carries every defined field, unset (null, or [] for tags), besides those it was given."""
        org = self._store.org
        item = org.contact_by_uri[contact_uri]
        given = {f.get("uri"): f.get("value") for f in item.rec.get("custom_fields") or []}
        org_uri = self._store.user_org[org.contact_owner[contact_uri]]
        fields = [
            {
                "uri": d.rec["uri"],
                "label": d.rec["label"],
                "value": given.get(d.rec["uri"], [] if d.rec["field_type"] == "tags" else None),
            }
            for d in self.definitions.get(org_uri, [])
        ]
        item.set({**item.rec, "custom_fields": fields})
        self.recount()
        return dict(item.rec)

    def recount(self) -> None:
        """Views follow their filter: after a contact is created or changed."""
        for list_uri in self.view_country:
            self._count(list_uri)

    def _owned(self, owner: str, contacts: list[str]) -> list[str]:
        """The contacts of `owner`'s book among `contacts` (the others count as invalid in Calendly)."""
        org = self._store.org
        return [c for c in contacts if org.contact_owner.get(c) == owner]
