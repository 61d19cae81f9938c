"""The base stream: Calendly's envelopes, pagination, errors and rate budget, written once.

Requests only ever go to paths built from the configured `api_url`: a `next_page` URL or a resource URI
from a response is never followed, so the token cannot be sent anywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.models import Type as MessageType
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.bounds import Floor
from source_calendly.config import parse_utc
from source_calendly.context import SyncContext
from source_calendly.errors import (
    OAUTH_UNAUTHORIZED,
    UNAUTHORIZED,
    CalendlyErrorHandler,
    describe_failure,
    error_detail,
    give_up_early,
    is_page_token_rejection,
    malformed_response,
    rate_limit_exhausted,
    rejected_parameters,
    response_json,
    retries_exhausted,
)
from source_calendly.transport import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Attempts,
    DeadlineAdapter,
    RetryPolicy,
    send_with_retries,
)

PAGE_SIZE = 100  # Calendly's maximum: the fewest requests
# `check` is answered while a person waits: a few quick retries, and no attempt longer than this.
CHECK_RETRY_POLICY = RetryPolicy(max_retries=2, first_backoff=0.25, max_backoff=1.0)
CHECK_DEADLINE = 10.0
MAX_PAGE_TOKEN_RESTARTS = 5

T = TypeVar("T")
R = TypeVar("R")


def uuid_of(uri: str) -> str:
    """The id at the end of a Calendly URI, as a path segment we build ourselves (never the URI's host)."""
    return quote(uri.rstrip("/").rsplit("/", 1)[-1], safe="")


def settle_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment variables once, for the API host, instead of per request.

    requests re-reads them from `os.environ` (and parses `no_proxy`) for every request the CDK sends. Every
    request of a sync goes to the same host, so resolving them up front gives the same proxies and
    certificates; `trust_env = False` then stops the re-reading.
    """
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    session.trust_env = False


@dataclass(frozen=True)
class Keyset:
    """Lets a listing sorted ascending by `field` restart at its last value when a page token expires."""

    field: str  # record field the listing is sorted by, e.g. start_time
    param: str  # query parameter that starts the listing at a value, e.g. min_start_time

    def floor(self, at: datetime | None) -> Floor | None:
        """The listing from `at` (None: from the beginning)."""
        return None if at is None else Floor(self.field, self.param, at)


@dataclass
class _ListingProgress:
    """What a listing has yielded, so a restart skips exactly what was already yielded."""

    keyset: Keyset | None
    key: Callable[[Mapping[str, Any]], str] = lambda record: str(record.get("uri"))  # see CalendlyStream.record_key
    boundary: str | None = None  # keyset: last value yielded
    at_boundary: set[str] = field(default_factory=set)  # keyset: keys yielded with that value
    seen: set[str] = field(default_factory=set)  # no keyset: every key yielded

    def note_page(self, page: Sequence[Mapping[str, Any]]) -> None:
        """Called once a whole page has been yielded: a restart only ever happens between pages."""
        if self.keyset is None:
            self.seen.update(self.key(record) for record in page)
            return
        if not page:
            return
        value = page[-1].get(self.keyset.field)
        if value != self.boundary:
            self.boundary, self.at_boundary = value, set()
        for record in reversed(page):  # the page's tail that shares its last value
            if record.get(self.keyset.field) != value:
                break
            self.at_boundary.add(self.key(record))

    def already_yielded(self, record: Mapping[str, Any]) -> bool:
        key = self.key(record)
        if self.keyset is None:
            return key in self.seen
        if self.boundary is None:
            return False
        value = record.get(self.keyset.field)
        try:
            earlier = parse_utc(value) < parse_utc(self.boundary)
        except (TypeError, ValueError):
            earlier = False
        return earlier or (value == self.boundary and key in self.at_boundary)

    def restart_params(self, params: Mapping[str, str]) -> dict[str, str]:
        """The listing's query from its last value: asked from just before it (see `bounds`), so the records at
        that value not yielded yet come again whether Calendly reads the bound as inclusive or exclusive."""
        if self.keyset is None or self.boundary is None:
            return dict(params)
        return {**params, **Floor(self.keyset.field, self.keyset.param, parse_utc(self.boundary)).query()}


class CalendlyStream(HttpStream):
    """A Calendly collection endpoint; subclasses declare `name`, `endpoint` and their query parameters."""

    primary_key = "uri"
    fields_every_record_has: tuple[str, ...] = ("uri",)  # checked on every page: a record without one is malformed
    endpoint: str = ""
    # The streams that list the same records again (see ListingSpool): one name, or several.
    shared_with: str | tuple[str, ...] | None = None
    page_size: int = PAGE_SIZE  # `count` per page; Calendly's maximum is 100 except for a few lists
    # Statuses the stream handles itself instead of failing (it receives those responses and decides).
    tolerated_statuses: frozenset[int] = frozenset()

    def __init__(self, context: SyncContext) -> None:
        self.context = context  # set before super().__init__: the CDK asks for the error handler there
        super().__init__(authenticator=context.authenticator, api_budget=context.budget)
        # HttpStream builds its client's session (auth, rate budget) and takes none from us, so it is adjusted
        # in place; requests are sent through it by `get`, not through the CDK client's retry loops.
        config = context.config
        self._session: requests.Session = self._http_client._session
        settle_environment(self._session, self.url_base)
        deadline = config.request_timeout_seconds
        if context.checking:
            deadline = min(deadline, CHECK_DEADLINE)
        adapter = DeadlineAdapter(deadline)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._deadline = deadline
        self._timeout = (CONNECT_TIMEOUT, min(READ_TIMEOUT, deadline))
        self._retry_policy = CHECK_RETRY_POLICY if context.checking else RetryPolicy(max_retries=config.max_retries)
        self._error_handler = self._new_error_handler()

    # HttpStream contract -------------------------------------------------------------------------------------
    @property
    def is_resumable(self) -> bool:
        # HttpStream's state setter would make the CDK treat every stream as "resumable full refresh" and
        # re-slice it until its state says complete. Full-refresh lists are small and read whole; only the
        # windowed incremental streams checkpoint (they say so through `supports_incremental`).
        return self.supports_incremental

    @property
    def url_base(self) -> str:
        return self.context.config.api_url + "/"

    def path(self, **kwargs: Any) -> str:
        return self.endpoint

    def get_error_handler(self) -> ErrorHandler | None:
        return self._new_error_handler()

    def _new_error_handler(self) -> CalendlyErrorHandler:
        # A stream that asks for more than 100 a page handles a 400 naming `count` itself (see _list).
        unauthorized = OAUTH_UNAUTHORIZED if self.context.oauth is not None else UNAUTHORIZED
        return CalendlyErrorHandler(
            self.logger, self.name, self.tolerated_statuses, unauthorized, count_fallback=self.page_size > PAGE_SIZE
        )

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        token = self._pagination(response).get("next_page_token")
        return {"page_token": token} if token else None

    def parse_response(self, response: requests.Response, **kwargs: Any) -> list[Mapping[str, Any]]:
        body = self._body(response)
        collection = body.get("collection")
        if not isinstance(collection, list) or not all(isinstance(r, Mapping) for r in collection):
            raise malformed_response(self.name, self._endpoint_of(response), "'collection' is not a list of objects")
        # Without its `uri` (the primary key) a record cannot be deduplicated by a destination, nor skipped on a
        # restart. Streams keyed otherwise (the key partly set by the connector, or nullable) declare no field.
        for field_name in self.fields_every_record_has:
            for position, record in enumerate(collection, 1):
                value = record.get(field_name)
                if not isinstance(value, str) or not value:
                    raise malformed_response(
                        self.name,
                        self._endpoint_of(response),
                        f"record {position} of the page has no '{field_name}' (the primary key; keys: "
                        f"{', '.join(sorted(record))})",
                    )
        return collection

    def request_params(self, **kwargs: Any) -> MutableMapping[str, Any]:
        return {}

    # reading -------------------------------------------------------------------------------------------------
    def read(self, *args: Any, **kwargs: Any) -> Iterable[StreamData]:
        """The CDK's read of this stream, with its progress counted and told (see `source_calendly.progress`)."""
        progress = self.context.progress
        with progress.reading(self.name):
            for item in super().read(*args, **kwargs):
                if isinstance(item, Mapping) or getattr(item, "type", None) == MessageType.RECORD:
                    progress.record()
                yield item

    def read_records(
        self,
        sync_mode: Any,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        # Overriding read_records also keeps the CDK from applying its page-by-page "resumable full refresh"
        # cursor, which reads only first pages under concurrency (seen in airbyte-cdk 7's HttpStream).
        yield from self.list_own(self.request_params())

    def list_own(
        self, params: Mapping[str, str], keyset: Keyset | None = None, floor: Floor | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """This stream's own endpoint, spooled for its substream when both are in the catalog."""
        return self.list(self.endpoint, params, keyset=keyset, shared=self.listing_is_shared(), floor=floor)

    def listing_is_shared(self) -> bool:
        """Whether another stream of this sync reads this stream's listing again (then it is spooled)."""
        readers = (self.shared_with,) if isinstance(self.shared_with, str) else (self.shared_with or ())
        return bool(readers) and self.context.read_more_than_once(self.name, *readers)

    def record_key(self, record: Mapping[str, Any]) -> str:
        """The record's primary key as one string: what a restarted listing skips records by."""
        key = self.primary_key
        if isinstance(key, str):
            return str(record.get(key))
        values: list[Any] = []
        for path in key or []:
            value: Any = record
            for name in [path] if isinstance(path, str) else path:
                value = value.get(name) if isinstance(value, Mapping) else None
            values.append(value)
        return repr(values)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> requests.Response:
        """One GET, retried until answered: error mapping, deadlines, retry budgets and the shared rate budget."""
        url = self.url_base + path.lstrip("/")

        def prepare() -> requests.PreparedRequest:  # the session's authenticator adds the current token
            return self._session.prepare_request(requests.Request("GET", url, params=dict(params or {})))

        def reauthorize(rejected: requests.PreparedRequest) -> requests.PreparedRequest | None:
            return prepare() if self.context.recover_from_unauthorized(rejected) else None

        request = prepare()
        attempts = Attempts(endpoint=f"GET /{path.lstrip('/')}", stream=self.name, started=time.monotonic())
        budget = self.context.budget
        host = requests.utils.urlparse(self.url_base).hostname or self.url_base
        api_url, checking, deadline = self.context.config.api_url, self.context.checking, self._deadline
        return send_with_retries(
            self._session,
            request,
            self._error_handler,
            self._retry_policy,
            self._timeout,
            attempts,
            self.logger,
            describe=describe_failure,
            rate_limit_exhausted=lambda a, r: rate_limit_exhausted(a, r, budget.waited_seconds, checking),
            retries_exhausted=lambda a: retries_exhausted(a, host, checking),
            give_up=lambda a, o: give_up_early(a, o, api_url, checking, deadline),
            events=self.context.progress,
            reauthorize=reauthorize,
        )

    def list(
        self,
        path: str,
        params: Mapping[str, str],
        keyset: Keyset | None = None,
        shared: bool = False,
        record_key: Callable[[Mapping[str, Any]], str] | None = None,
        floor: Floor | None = None,
    ) -> Iterator[Mapping[str, Any]]:
        """Every record of a collection, page by page with `page_token` and `count=100`.

        A page token Calendly no longer accepts restarts the listing (from the keyset value if the listing has
        one) without yielding anything twice; a page token that repeats is an error, never an endless loop.
        A `shared` listing that another stream of this sync already read to the end is replayed, not requested.
        `record_key` identifies the listed records (default: this stream's primary key). With a `floor`, only
        records at or after its instant, whichever way Calendly reads the filter (see `bounds`).
        """
        if floor is not None:
            params = {**params, **floor.query()}
        listing = self._list(path, params, keyset, record_key or self.record_key, floor)
        if not shared:
            return listing
        key = (path, tuple(sorted(params.items())))
        replayed = self.context.spool.replay(key)
        if replayed is not None:
            listing.close()
            return replayed
        return self.context.spool.keep(key, listing)

    def _list(
        self,
        path: str,
        params: Mapping[str, str],
        keyset: Keyset | None,
        record_key: Callable[[Mapping[str, Any]], str],
        floor: Floor | None = None,
    ) -> Iterator[Mapping[str, Any]]:
        base = {**params, "count": str(self.page_size)}
        listing = dict(base)  # the query this run of the listing started with; its page tokens belong to it
        query = listing
        progress = _ListingProgress(keyset, record_key)
        seen_tokens: set[str] = set()
        restarts = 0  # in a row, with no new record in between: a slow reader restarts as often as it must
        restarted = False
        while True:
            response = self.get(path, query)
            if self.page_size > PAGE_SIZE and "count" in rejected_parameters(response):
                # The docs disagree with themselves (the activity log's count allows 1-1000, the shared Pagination
                # schema at most 100): fall back to 100 for this stream, once, rather than fail it.
                self.logger.info(
                    f"Stream {self.name}: Calendly refused count={self.page_size} at GET /{path} "
                    f"({error_detail(response)}); reading {PAGE_SIZE} a page instead."
                )
                self.page_size = PAGE_SIZE  # the next 400 naming count is an error like any other
                self._error_handler = self._new_error_handler()
                base = {**params, "count": str(self.page_size)}
                listing, seen_tokens, restarted = progress.restart_params(base), set(), True
                query = listing
                continue
            if is_page_token_rejection(response):
                restarts += 1
                if restarts > MAX_PAGE_TOKEN_RESTARTS:
                    message = (
                        f"Calendly kept rejecting page tokens for stream {self.name} at GET /{path} ({restarts} "
                        "times in a row, with no new record in between). Run the sync again; it resumes from its "
                        "last checkpoint."
                    )
                    raise AirbyteTracedException(
                        message=message, internal_message=message, failure_type=FailureType.transient_error
                    )
                self.logger.info(f"Stream {self.name}: Calendly expired a page token at GET /{path}; restarting.")
                listing, seen_tokens, restarted = progress.restart_params(base), set(), True
                query = listing
                continue
            if not response.ok:  # a status the stream tolerates: let it decide
                self.on_tolerated_response(response)
                return
            page = self.parse_response(response)
            fresh = [r for r in page if not progress.already_yielded(r)] if restarted else page
            if fresh:
                restarts = 0
            yield from (r for r in fresh if not floor.below(r)) if floor is not None else fresh
            progress.note_page(page)
            token = (self.next_page_token(response) or {}).get("page_token")
            if not token:
                return
            if token in seen_tokens:  # the token just used is in it too
                raise malformed_response(
                    self.name, f"GET /{path}", f"the page token {token[:12]}… came back twice (it would loop forever)"
                )
            seen_tokens.add(token)
            query = {**listing, "page_token": token}

    def fetch_resource(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> tuple[Mapping[str, Any], requests.Response]:
        response = self.get(path, params)
        if not response.ok:
            self.on_tolerated_response(response)
            raise AssertionError("on_tolerated_response must raise for a single resource")  # pragma: no cover
        resource = self._body(response).get("resource")
        if not isinstance(resource, Mapping):
            raise malformed_response(self.name, self._endpoint_of(response), "'resource' is not an object")
        return resource, response

    def on_tolerated_response(self, response: requests.Response) -> None:
        """Called with a response whose status is in `tolerated_statuses`; the default treats it as an error."""
        raise malformed_response(self.name, self._endpoint_of(response), f"unexpected HTTP {response.status_code}")

    # concurrency ---------------------------------------------------------------------------------------------
    def fan_out(self, items: list[T], fetch: Callable[[T], R]) -> Iterator[tuple[T, R]]:
        """Apply `fetch` to every item on the sync's worker threads; results come back in the items' order,
        so a checkpoint taken after an item never covers work that is still running."""
        pool = self.context.executor
        if pool is None or len(items) < 2:
            for item in items:
                yield item, fetch(item)
            return
        futures: list[Future[R]] = [pool.submit(fetch, item) for item in items]
        try:
            for item, future in zip(items, futures, strict=True):
                yield item, future.result()
        finally:
            for future in futures:
                future.cancel()

    # helpers -------------------------------------------------------------------------------------------------
    def _body(self, response: requests.Response) -> Mapping[str, Any]:
        body = response_json(response)
        if not isinstance(body, Mapping):
            raise malformed_response(self.name, self._endpoint_of(response), "the body is not a JSON object")
        return body

    def _pagination(self, response: requests.Response) -> Mapping[str, Any]:
        pagination = self._body(response).get("pagination")
        if not isinstance(pagination, Mapping):
            raise malformed_response(self.name, self._endpoint_of(response), "'pagination' is missing")
        return pagination

    @staticmethod
    def _endpoint_of(response: requests.Response) -> str:
        return f"GET {requests.utils.urlparse(response.url).path}"
