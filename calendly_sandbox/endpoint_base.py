"""What every endpoint module shares: parsing the query parameters, and cutting a page from a listing."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from . import errors
from .listing import Listing, Principal, Query
from .pagination import PageTokens, Params, collection_body, page_url, slice_page
from .store import Store
from .timeutil import parse
from .tokens import API_BASE

COUNT_RE = re.compile(r"^\d+$")
ID_RE = re.compile(r"^[A-Za-z0-9-]+$")


class Endpoints:
    """Base of the endpoint classes (``api.Api``, ``api_org.OrgEndpoints``): the store they read and the page
    tokens they issue, and the checks every endpoint makes the same way."""

    def __init__(self, store: Store, page_tokens: PageTokens) -> None:
        self.store = store
        self.page_tokens = page_tokens

    # -- shared parameter parsing -------------------------------------------------------------------------
    @staticmethod
    def _count(q: Query, max_count: int = 100) -> int:
        raw = q.get("count")
        if raw is None:
            return 20
        if not COUNT_RE.match(raw):
            raise errors.invalid(("count", "must be an integer"))
        value = int(raw)
        if not 1 <= value <= max_count:
            raise errors.invalid(("count", f"must be between 1 and {max_count}"))
        return value

    @staticmethod
    def _sort(q: Query, fields: Sequence[str], default: str) -> tuple[str, bool]:
        """(field, desc). Accepts ``field`` or ``field:asc|desc``; a comma list uses its first entry."""
        raw = q.get("sort", default)
        entries = [e.strip() for e in raw.split(",")]
        parsed = []
        for entry in entries:
            field, _, direction = entry.partition(":")
            if field not in fields or direction not in ("", "asc", "desc"):
                raise errors.invalid(("sort", f"{entry!r} is not a valid sort; use {{field}}:asc|desc"))
            parsed.append((field, direction == "desc"))
        return parsed[0]

    @staticmethod
    def _enum(q: Query, name: str, values: Sequence[str]) -> str | None:
        raw = q.get(name)
        if raw is None:
            return None
        if raw not in values:
            raise errors.invalid((name, f"must be one of: {', '.join(values)}"))
        return raw

    @staticmethod
    def _bool(q: Query, name: str) -> bool | None:
        raw = q.get(name)
        if raw is None:
            return None
        if raw not in ("true", "false"):
            raise errors.invalid((name, "must be true or false"))
        return raw == "true"

    def _min_time(self, q: Query, name: str) -> int | None:
        """A `min_*` filter as the first instant it lists, per ``Behaviour.min_filters`` (microseconds)."""
        value = self._time(q, name)
        if value is None or self.store.behaviour.min_filters == "inclusive":
            return value
        return value + 1

    @staticmethod
    def _time(q: Query, name: str) -> int | None:
        raw = q.get(name)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError:
            raise errors.invalid(
                (name, "must be a valid ISO 8601 timestamp, e.g. 2020-01-02T03:04:05.678123Z")
            ) from None

    @staticmethod
    def _uri(q: Query, name: str, collection: str) -> str | None:
        raw = q.get(name)
        if raw is None:
            return None
        prefix = f"{API_BASE}/{collection}/"
        if not raw.startswith(prefix) or not ID_RE.match(raw[len(prefix) :]):
            raise errors.invalid((name, f"must be a valid URI like {prefix}<uuid>"))
        return raw

    def _member_param(self, p: Principal, q: Query) -> str:
        """The required `user` parameter of a per-user listing: a member of the caller's organization."""
        user = self._uri(q, "user", "users")
        if user is None:
            raise errors.invalid(("user", "is required"))
        if user not in self.store.user_org:
            raise errors.not_found()
        if self.store.user_org[user] != p.org or user in self.store.removed_users:
            raise errors.denied(errors.NOT_IN_ORG)
        return user

    @staticmethod
    def _need_scope(p: Principal, scope: str) -> None:
        if scope not in p.scopes:
            raise errors.insufficient_scope(scope)

    # -- pagination driver --------------------------------------------------------------------------------
    def _paginate(
        self,
        p: Principal,
        endpoint: str,
        q: Query,
        build: Callable[[Query], Listing],
        max_count: int = 100,
        extras: Callable[[Listing, list[Any]], dict[str, Any]] | None = None,
        blob_of: Callable[[Query], Callable[[Any], bytes] | None] | None = None,
    ) -> bytes:
        """One page of ``build``'s listing. ``extras`` adds top-level keys (from the listing and the page's rows);
        ``blob_of``, given the listing's parameters, may serialise rows differently (e.g. without some fields)."""
        count = self._count(q, max_count)
        token = q.get("page_token") or None  # DECISION: an empty page_token is treated as absent
        cursor = None
        if token is not None:
            cursor = self.page_tokens.redeem(token, endpoint, p.user)
            if cursor is None:
                raise errors.invalid(("page_token", "is invalid"))
            # DECISION: a page token carries the filters of the request that issued it; filters repeated on the
            # request are ignored (a client following next_page sends the same ones anyway).
            params: Params = cursor.params
        else:
            params = tuple(sorted((k, v) for k, v in q.items() if k not in ("count", "page_token")))
        with self.store.lock:  # indices may change under concurrent mutations: cut the page atomically
            listing = build(dict(params))
            serialise = blob_of(dict(params)) if blob_of else None
            sl = slice_page(
                listing.keys,
                listing.lo,
                listing.hi,
                count,
                listing.desc,
                cursor.key if cursor else None,
                cursor.forward if cursor else True,
            )
            page_rows = list(listing.rows[sl.start : sl.end])
            blobs = [serialise(r) for r in page_rows] if serialise else [r.blob for r in page_rows]
            extra = extras(listing, page_rows) if extras else None
            low_key = high_key = ""
            if sl.end > sl.start:
                low_key, high_key = listing.keys[sl.start], listing.keys[sl.end - 1]
        if listing.desc:
            blobs.reverse()
        next_token = prev_token = None
        if blobs:
            first_key, last_key = (high_key, low_key) if listing.desc else (low_key, high_key)
            if sl.has_next:
                next_token = self.page_tokens.issue(endpoint, p.user, params, last_key, True)
            if sl.has_prev:
                prev_token = self.page_tokens.issue(endpoint, p.user, params, first_key, False)
        pagination = {
            "count": len(blobs),
            "next_page": page_url(endpoint, params, count, next_token),
            "previous_page": page_url(endpoint, params, count, prev_token),
            "next_page_token": next_token,
            "previous_page_token": prev_token,
        }
        return collection_body(blobs, pagination, extra)

    @staticmethod
    def _sorted_listing(rows: Sequence[Any], key: Callable[[Any], str], desc: bool) -> Listing:
        pairs = sorted(((key(r), r) for r in rows), key=lambda kr: kr[0])
        return Listing([k for k, _ in pairs], [r for _, r in pairs], 0, len(pairs), desc)
