"""The control API's changes to the contact book (see contactbook.py): delete a contact, create a List or a
View, add or remove List members, delete a List, write a note, delete a custom field definition."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .store import Store

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _changes_records(method: _Method) -> _Method:
    """As sandbox._changes_records: when it returns, its time becomes the sandbox's last change."""

    @functools.wraps(method)
    def changing(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._note_change()

    return changing  # type: ignore[return-value]


class ContactBookMutations:
    store: Store

    def _owner(self, owner_uri: str | None) -> str:
        owner = owner_uri or self.store.token_users["admin"]
        if owner not in self.store.user_org:
            raise KeyError(owner)
        return owner

    @_changes_records
    def delete_contact(self, contact_uri: str) -> dict[str, Any]:
        """DELETE /contacts/{uuid}: listed no more, off every List, its notes gone. Returns ``{"deleted"}``."""
        with self.store.lock:
            if contact_uri not in self.store.org.contact_by_uri:
                raise KeyError(contact_uri)
            self.store.book.delete_contact(contact_uri)
            self.store._now()  # the deletion takes a moment of the sandbox's clock
            return {"deleted": contact_uri}

    @_changes_records
    def create_contact_list(
        self, name: str, contacts: list[str] | None = None, owner_uri: str | None = None
    ) -> dict[str, Any]:
        """POST /contact_lists: a List (static_list) with these contacts. Returns ``{"contact_list"}``."""
        with self.store.lock:
            owner = self._owner(owner_uri)
            return {"contact_list": self.store.book.create_list(owner, name, contacts or [], self.store._now())}

    @_changes_records
    def create_contact_view(self, name: str, country: str, owner_uri: str | None = None) -> dict[str, Any]:
        """A View (dynamic_view) of the contacts in `country` (made in the web app; the API cannot create one).
        Returns ``{"contact_list"}``."""
        with self.store.lock:
            owner = self._owner(owner_uri)
            return {"contact_list": self.store.book.create_view(owner, name, country, self.store._now())}

    @_changes_records
    def add_list_members(self, list_uri: str, contacts: list[str]) -> dict[str, Any]:
        """POST /contact_lists/{uuid}/memberships. Returns ``{"contact_list"}``."""
        with self.store.lock:
            return {"contact_list": self.store.book.change_members(list_uri, contacts, [], self.store._now())}

    @_changes_records
    def remove_list_members(self, list_uri: str, contacts: list[str]) -> dict[str, Any]:
        """POST /contact_lists/{uuid}/memberships/removal (the contacts stay). Returns ``{"contact_list"}``."""
        with self.store.lock:
            return {"contact_list": self.store.book.change_members(list_uri, [], contacts, self.store._now())}

    @_changes_records
    def delete_contact_list(self, list_uri: str) -> dict[str, Any]:
        """A List or View deleted in the web app. Returns ``{"deleted"}``."""
        with self.store.lock:
            if list_uri not in self.store.book.list_owner:
                raise KeyError(list_uri)
            self.store.book.delete_list(list_uri)
            return {"deleted": list_uri}

    @_changes_records
    def add_note(
        self, contact_uri: str, title: str | None = None, body: str | None = None, owner_uri: str | None = None
    ) -> dict[str, Any]:
        """POST /notes: a note by `owner_uri` (default: the admin token's user). Returns ``{"note"}``."""
        with self.store.lock:
            owner = self._owner(owner_uri)
            return {"note": self.store.book.add_note(owner, contact_uri, title, body, self.store._now())}

    @_changes_records
    def delete_custom_field_definition(self, definition_uri: str) -> dict[str, Any]:
        """A definition deleted in the web app: gone from the listing and from contacts. Returns ``{"deleted"}``."""
        with self.store.lock:
            self.store.book.delete_definition(definition_uri)
            return {"deleted": definition_uri}
