"""What every stream of one sync shares: config, credentials, the rate budget and the token's account."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator

from source_calendly.config import CalendlyConfig
from source_calendly.meetings import MeetingEmails
from source_calendly.oauth import CalendlyOAuthAuthenticator
from source_calendly.progress import SyncProgress
from source_calendly.rate_budget import RateBudget
from source_calendly.spool import ListingSpool

ADMIN_ROLES = frozenset({"owner", "admin"})
NON_ADMIN_WARNING = (
    "The token belongs to {name}, whose role in the Calendly organization is '{role}': scheduled_events, "
    "event_invitees and event_types will hold only that user's own data. Organization-wide data needs a token "
    "of a user with the admin or owner role in the Calendly organization."
)


@dataclass(frozen=True)
class Account:
    """The token's user and organization, from `GET /users/me` and the user's own membership."""

    user_uri: str
    name: str
    email: str
    organization_uri: str
    role: str | None  # None when Calendly would not tell
    server_time: datetime  # Calendly's clock when /users/me answered: the sync's start

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    def describe(self) -> str:
        return f"{self.name} <{self.email}>, role '{self.role or 'unknown'}' in organization {self.organization_uri}"


def server_time(response: requests.Response) -> datetime:
    """Calendly's own clock from the `Date` header, so incremental cursors never depend on ours."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


class SyncContext:
    """Built once per process; streams read the account lazily so that `discover` makes no request."""

    def __init__(
        self,
        config: CalendlyConfig,
        logger: logging.Logger,
        selected: frozenset[str] | None = None,
        checking: bool = False,
        progress: SyncProgress | None = None,
        raw_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.selected = selected  # streams in the catalog; None when unknown (then every listing is shared)
        self.checking = checking  # answering `check`: fail fast on what retrying will not cure
        self.logger = logger
        # One authenticator for every stream and worker thread: with OAuth, one refresh per expiry.
        self.oauth: CalendlyOAuthAuthenticator | None = None
        self.authenticator: TokenAuthenticator | CalendlyOAuthAuthenticator
        if config.oauth is not None:
            # Its own copy of the config: the authenticator writes the rotated tokens into it and sends it whole
            # to the platform in each CONTROL message.
            self.oauth = CalendlyOAuthAuthenticator(copy.deepcopy(dict(raw_config or {})), config)
            self.authenticator = self.oauth
        else:
            assert config.token is not None
            self.authenticator = TokenAuthenticator(token=config.token)
        self.budget = RateBudget(requests_per_minute=config.requests_per_minute)
        # Counts per stream; its lines only while a stream is read.
        self.progress = progress or SyncProgress(logger, interval=config.progress_interval_seconds)
        self.budget.observer = self.progress
        self.spool = ListingSpool()  # parent listings read once per sync, replayed for substreams
        self.meeting_emails = MeetingEmails()  # whose meetings changed: event_invitees fills it for contacts
        # Optional streams Calendly refused earlier in this sync, with the refusal, so that a stream that needs
        # the same listing does not ask again.
        self.refused: dict[str, Exception] = {}
        self._account: Account | None = None
        self._lock = threading.Lock()
        self._warned_scope = False
        self._resolver: Callable[[], Account] | None = None  # set by the source; it makes the requests
        # Worker threads for the invitee and submission fan-out; None runs everything on the main thread.
        self.executor = ThreadPoolExecutor(config.num_workers, "calendly") if config.num_workers > 1 else None

    def recover_from_unauthorized(self, request: requests.PreparedRequest) -> bool:
        """After a 401: True if the request may be sent once more, with a new OAuth access token."""
        if self.oauth is None:
            return False  # a personal access token does not change: the 401 stands
        sent = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        return self.oauth.recover_from_unauthorized(sent)

    def set_account_resolver(self, resolver: Callable[[], Account]) -> None:
        self._resolver = resolver

    @property
    def account(self) -> Account:
        with self._lock:
            if self._account is None:
                assert self._resolver is not None, "the source sets the account resolver"
                self._account = self._resolver()
            return self._account

    def both_selected(self, parent: str, child: str) -> bool:
        """Whether a parent listing will be read twice this sync, so is worth spooling."""
        return self.read_more_than_once(parent, child)

    def read_more_than_once(self, *readers: str) -> bool:
        """Whether at least two of the streams that read one listing are in this sync, so it is worth spooling."""
        return self.selected is None or len(set(readers) & self.selected) >= 2

    def scope_params(self) -> dict[str, str]:
        """`organization=` for admins and owners; otherwise the token owner's own data, with one warning."""
        account = self.account
        if account.is_admin:
            return {"organization": account.organization_uri}
        self.warn_if_not_admin()
        return {"user": account.user_uri}

    def warn_if_not_admin(self) -> None:
        """The non-admin warning, once per process however many streams (or check's probes) ask."""
        account = self.account
        with self._lock:
            if account.is_admin or self._warned_scope:
                return
            self._warned_scope = True
        self.logger.warning(NON_ADMIN_WARNING.format(name=account.name, role=account.role or "unknown"))
