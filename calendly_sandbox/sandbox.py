"""``Sandbox``: builds the data, serves it on 127.0.0.1, exposes truth, mutations, faults and telemetry."""

from __future__ import annotations

import functools
import gc
import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from .api import Api
from .behaviour import Behaviour
from .compliance import Compliance
from .contactbook_mutations import ContactBookMutations
from .control import Control
from .coredata import DatasetSpec
from .dataset import build
from .faults import FaultInjector, Faults
from .oauth import ACCESS_TOKEN_LIFETIME_SECONDS, TOKENS_PER_USER_PER_MINUTE, OAuthServer
from .pagination import PageTokens
from .ratelimit import RateLimiter
from .requestlog import RequestLog, RequestLogEntry
from .server import SandboxServer
from .store import Store
from .timeutil import from_us
from .tokens import TOKENS, Tokens
from .truth import Truth

_Method = TypeVar("_Method", bound=Callable[..., Any])

# The running sandboxes by URL, so whatever starts a connector against one can find it (see `serving`).
_SERVING: dict[str, Sandbox] = {}
_SERVING_LOCK = threading.Lock()
_NEVER = threading.Event()  # waited on instead of time.sleep, which some test suites patch away


def _changes_records(method: _Method) -> _Method:
    """Marks a mutation: when it returns (or fails halfway), its time becomes ``Sandbox.last_change``."""

    @functools.wraps(method)
    def changing(self: Sandbox, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._note_change()

    return changing  # type: ignore[return-value]


def seconds_until_past(last_change: float, now: float) -> float:
    """How long until a clock at ``now`` shows a whole second later than the one ``last_change`` fell in."""
    return max(0.0, math.floor(last_change) + 1 - now)


class Sandbox(ContactBookMutations):
    """A local fake of the Calendly API v2 (read endpoints), with ground truth and fault injection.

    Usage::

        with Sandbox(dataset=DatasetSpec.small(seed=7)) as sb:
            requests.get(f"{sb.url}/users/me", headers={"Authorization": f"Bearer {sb.tokens.admin}"})
    """

    def __init__(
        self,
        dataset: DatasetSpec | None = None,
        rate_limit_per_minute: int | None = 500,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_window_seconds: float = 60.0,
        page_token_ttl_seconds: float | None = None,
        send_retry_after: bool = False,
        request_log_limit: int = 200_000,
        behaviour: Behaviour | None = None,
        access_token_lifetime_seconds: float = ACCESS_TOKEN_LIFETIME_SECONDS,
        oauth_tokens_per_minute: int | None = TOKENS_PER_USER_PER_MINUTE,
    ) -> None:
        self.spec = dataset if dataset is not None else DatasetSpec.small()
        self.host = host
        self._requested_port = port
        self.tokens: Tokens = TOKENS
        self.send_retry_after = send_retry_after
        was_enabled = gc.isenabled()
        gc.disable()  # building the store allocates hundreds of thousands of objects; see dataset.build
        try:
            self.store = Store(build(self.spec))
        finally:
            if was_enabled:
                gc.enable()
        if behaviour is not None:
            self.store.behaviour = behaviour
        self.page_tokens = PageTokens(page_token_ttl_seconds)
        self.api = Api(self.store, self.tokens, self.page_tokens)
        users = {label: (user, self.store.user_org[user]) for label, user in self.store.token_users.items()}
        self.oauth = OAuthServer(users, access_token_lifetime_seconds, oauth_tokens_per_minute)
        self.api.oauth = self.oauth
        self.limiter = RateLimiter(rate_limit_per_minute, rate_window_seconds)
        self.injector = FaultInjector(faults)
        self.request_log_sink = RequestLog(request_log_limit)
        self.truth = Truth(self.store, self.tokens)
        self.compliance = Compliance(self.store)
        self.control = Control(self)
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._last_change: float | None = None  # epoch seconds of the latest mutation
        self._change_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        with self._lifecycle:
            if self._server is not None:
                return self
            server = SandboxServer((self.host, self._requested_port), self)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="sandbox-http"
            )
            thread.start()
            self._server, self._thread = server, thread
        with _SERVING_LOCK:
            _SERVING[self.url] = self
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close every connection, and join the threads (bounded by ``timeout``)."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        with _SERVING_LOCK:
            url = f"http://{self.host}:{server.server_address[1]}"
            if _SERVING.get(url) is self:
                del _SERVING[url]
        server.shutdown()
        server.server_close()
        server.close_all(timeout)
        thread.join(timeout)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @staticmethod
    def serving(url: str) -> Sandbox | None:
        """The sandbox of this process serving ``url`` (``Sandbox.url``, a trailing slash allowed), if any."""
        with _SERVING_LOCK:
            return _SERVING.get(url.rstrip("/"))

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("sandbox is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to give the connector, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def anchor(self) -> datetime:
        """The instant the data was generated relative to (``created_at <= updated_at <= anchor``)."""
        return from_us(self.store.anchor_us)

    # -- mutations (thread-safe; each moves updated_at to "now", microsecond precision) ------------------------
    @_changes_records
    def book_event(
        self,
        start_time: datetime | str,
        event_type_uri: str | None = None,
        invitees: int = 1,
        host_uri: str | None = None,
        invitee_emails: list[str] | None = None,
    ) -> dict[str, Any]:
        """New active event with ``invitees`` new invitees. Returns ``{"event", "invitees"}``.

        Without ``event_type_uri`` an Acme type is picked: a group type when invitees > 1, else a one-on-one
        type (owned by ``host_uri`` when given). The host defaults to the type's owner. A ``host_uri`` outside
        the type's hosts (``/event_type_memberships``) books the event anyway; the hosts listing does not change.
        """
        return self.store.book_event(start_time, event_type_uri, invitees, host_uri, invitee_emails)

    @_changes_records
    def cancel_event(
        self,
        event_uri: str,
        reason: str | None = "Canceled by host",
        canceled_by: str | None = None,
        canceler_type: str = "host",
    ) -> dict[str, Any]:
        """Cancel an event and all its active invitees. Returns ``{"event", "invitees"}`` (changed ones)."""
        return self.store.cancel_event(event_uri, reason, canceled_by, canceler_type)

    @_changes_records
    def cancel_invitee(
        self,
        invitee_uri: str,
        reason: str | None = "Something came up",
        canceled_by: str | None = None,
        canceler_type: str = "invitee",
    ) -> dict[str, Any]:
        """Cancel one invitee. Returns ``{"invitee", "event"}``.

        One-on-one: the event is canceled too. Group: the event stays active, its ``invitees_counter.active``
        drops, and its ``updated_at`` moves only with ``Behaviour.group_changes_move_updated_at``.
        """
        return self.store.cancel_invitee(invitee_uri, reason, canceled_by, canceler_type)

    @_changes_records
    def reschedule(self, invitee_uri: str, new_start_time: datetime | str, reason: str | None = None) -> dict[str, Any]:
        """Move an invitee to a new time. Returns ``{"old_invitee", "old_event", "new_invitee", "new_event"}``."""
        return self.store.reschedule(invitee_uri, new_start_time, reason)

    @_changes_records
    def join_group_event(self, event_uri: str, email: str | None = None) -> dict[str, Any]:
        """A new invitee books a seat on an existing group event. Returns ``{"invitee", "event"}``; the event's
        ``updated_at`` moves only with ``Behaviour.group_changes_move_updated_at``."""
        return self.store.join_group_event(event_uri, email)

    @_changes_records
    def edit_meeting_notes(self, event_uri: str, notes: str | None) -> dict[str, Any]:
        """Set an event's meeting notes. Returns ``{"event"}``; its ``updated_at`` moves unless the sandbox
        runs with ``Behaviour(notes_move_updated_at=False)``."""
        return self.store.edit_meeting_notes(event_uri, notes)

    @_changes_records
    def mark_no_show(self, invitee_uri: str) -> dict[str, Any]:
        """Mark an active invitee no-show. Returns ``{"invitee", "no_show"}``."""
        return self.store.mark_no_show(invitee_uri)

    @_changes_records
    def unmark_no_show(self, invitee_uri: str) -> dict[str, Any]:
        """Undo a no-show (Calendly's DELETE /invitee_no_shows/{uuid}). Returns ``{"invitee"}``."""
        return self.store.unmark_no_show(invitee_uri)

    @_changes_records
    def link_submission(self, submission_uri: str, invitee_uri: str) -> dict[str, Any]:
        """An earlier submission's submitter books: it gains ``submitter``. Returns ``{"submission"}``."""
        return self.store.link_submission(submission_uri, invitee_uri)

    @_changes_records
    def add_form_submission(self, form_uri: str, submitter_uri: str | None = None) -> dict[str, Any]:
        """New submission on a routing form (optionally from an invitee). Returns ``{"submission"}``."""
        return self.store.add_form_submission(form_uri, submitter_uri)

    @_changes_records
    def add_activity_log_entry(
        self,
        namespace: str = "User",
        action: str = "Login",
        actor_uri: str | None = None,
        details: dict[str, Any] | None = None,
        occurred_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """New activity log entry in the actor's organization (Acme's, by the system, without an actor).
        ``occurred_at`` defaults to now. Returns ``{"entry"}``."""
        return self.store.add_activity_log_entry(namespace, action, actor_uri, details, occurred_at)

    @_changes_records
    def create_contact(self, email: str, owner_uri: str | None = None, **fields: Any) -> dict[str, Any]:
        """New contact in ``owner_uri``'s contact book (default: the admin token's user). ``fields`` sets
        name, company, job_title, ... Returns ``{"contact"}``."""
        return self.store.create_contact(email, owner_uri, **fields)

    @_changes_records
    def update_contact(self, contact_uri: str, **changes: Any) -> dict[str, Any]:
        """Change a contact's fields; its ``updated_at`` moves to now. Returns ``{"contact"}``."""
        return self.store.update_contact(contact_uri, **changes)

    @_changes_records
    def revoke_invitation(self, invitation_uri: str) -> dict[str, Any]:
        """An admin revokes an organization invitation: it is listed no more (something a full-refresh stream
        must let go of). Returns ``{"invitation"}``, as it was."""
        return self.store.revoke_invitation(invitation_uri)

    @_changes_records
    def add_outgoing_communication(self, event_uri: str | None = None, type: str = "email") -> dict[str, Any]:
        """An email or SMS sent now about an event (default: Acme's last-starting active event).
        Returns ``{"communication"}``."""
        return self.store.add_outgoing_communication(event_uri, type)

    def add_event_type_host(self, event_type_uri: str, user_uri: str) -> dict[str, Any]:
        """A member of the organization becomes a host of the event type (with their default schedule). The
        event type's ``updated_at`` moves only with ``Behaviour.event_type_changes_move_updated_at``.
        Returns ``{"membership"}``."""
        return self.store.add_event_type_host(event_type_uri, user_uri)

    def change_default_availability(self, user_uri: str) -> dict[str, Any]:
        """The user's default schedule gets other weekday hours, and so does every event type schedule that
        uses it. The user's ``updated_at`` moves only with ``Behaviour.user_availability_moves_updated_at``, the
        event types' only with ``Behaviour.event_type_changes_move_updated_at``.
        Returns ``{"schedule", "event_types"}``."""
        return self.store.change_default_availability(user_uri)

    @_changes_records
    def add_webhook_subscription(self, scope: str = "user", of: str | None = None) -> dict[str, Any]:
        """A webhook subscription created now in Acme: ``scope`` organization, user (``of`` a member's user URI)
        or group (``of`` a group URI). No user's or group's ``updated_at`` moves (none is documented to).
        Returns ``{"subscription"}``."""
        return self.store.add_webhook_subscription(scope, of)

    @_changes_records
    def delete_webhook_subscription(self, uri: str) -> dict[str, Any]:
        """The subscription is deleted (it leaves every listing). Returns ``{"subscription"}``."""
        return self.store.delete_webhook_subscription(uri)

    def remove_member(self, user_uri: str) -> dict[str, Any]:
        """The user leaves the organization: their membership, schedules and event type hostings go (the event
        types' ``updated_at`` as with ``add_event_type_host``). Returns ``{"membership"}``."""
        return self.store.remove_member(user_uri)

    # -- meeting recaps and locations (calendly_sandbox/notetaker.py) ----------------------------------------
    @_changes_records
    def create_meeting_recap(self, user_uri: str | None = None, status: str = "processing") -> dict[str, Any]:
        """The notetaker of ``user_uri`` (default: the admin token's user) records an external meeting that
        ended now; its recap is ``status``. Returns ``{"recap"}`` (the list item)."""
        s = self.store
        with s.lock:
            user = user_uri or s.token_users["admin"]
            if user not in s.user_org:
                raise LookupError(user)
            return {"recap": dict(s.notetaker.create(s, user, s.user_org[user], status, s._now()).item)}

    @_changes_records
    def finish_meeting_recap(self, uri: str) -> dict[str, Any]:
        """A processing recap becomes available (its updated_at moves). Returns ``{"recap"}``."""
        with self.store.lock:
            return {"recap": dict(self.store.notetaker.finish(uri, self.store._now()).item)}

    @_changes_records
    def edit_meeting_recap(self, uri: str, **highlights: Any) -> dict[str, Any]:
        """PATCH /meeting_recaps/{uuid}: ``summary_md``, ``action_items_md``, ``discussion_md``. The list item's
        updated_at moves. Returns ``{"recap"}`` (the recap with its highlights)."""
        with self.store.lock:
            return {"recap": self.store.notetaker.edit(uri, highlights, self.store._now()).full()}

    @_changes_records
    def delete_meeting_recap(self, uri: str) -> dict[str, Any]:
        """DELETE /meeting_recaps/{uuid}: the recap leaves every listing. Returns ``{"recap"}``."""
        with self.store.lock:
            return {"recap": dict(self.store.notetaker.delete(uri).item)}

    @_changes_records
    def set_user_locations(self, user_uri: str, kinds: list[str]) -> dict[str, Any]:
        """The user's meeting locations become ``kinds`` (kept ones unchanged; no user's updated_at moves).
        Returns ``{"locations"}``."""
        with self.store.lock:
            if user_uri not in self.store.user_org:
                raise LookupError(user_uri)
            return {"locations": list(self.store.notetaker.set_locations(user_uri, kinds))}

    def advance_clock(self, days: float = 0.0, seconds: float = 0.0) -> dict[str, Any]:
        """Move the store's clock (what the activity log's 90-day retention counts from) forward; compliance
        erasures whose delay has passed then take effect (``{"clock", "erased": {"events", "invitees"}}``)."""
        clock = self.store.advance_clock(days, seconds)
        erased = self.compliance.apply_due()
        if erased["events"] or erased["invitees"]:
            self._note_change()
        return {"clock": clock, "erased": erased}

    @_changes_records
    def erase_invitees(self, emails: list[str], delay_days: float = 0.0, org: str | None = None) -> dict[str, Any]:
        """Calendly's Delete Invitee Data for Acme (or ``org``): every invitee with one of these emails leaves
        its event's listing, after ``delay_days`` of the store's clock (see ``advance_clock``; Calendly: up to 7
        days). Returns ``{"due", "erased": {"events", "invitees"}}`` (what took effect now)."""
        return self.compliance.erase_invitees(org or self._acme(), emails, delay_days)

    @_changes_records
    def erase_events(
        self, start_time: str, end_time: str, delay_days: float = 0.0, org: str | None = None
    ) -> dict[str, Any]:
        """Calendly's Delete Scheduled Event Data for Acme (or ``org``): the events starting in [start_time,
        end_time) (in the past, at most 24 months) and their invitees leave every listing, and their URLs answer
        404, after ``delay_days`` (as ``erase_invitees``)."""
        return self.compliance.erase_events(org or self._acme(), start_time, end_time, delay_days)

    @_changes_records
    def delete_form_submission(self, uri: str) -> dict[str, Any]:
        """The submission leaves its form's listing, if ``Behaviour(submissions_can_vanish=True)`` (Calendly
        documents no deletion of submissions); else ValueError. Returns ``{"submission"}``."""
        return self.compliance.delete_submission(uri)

    def _acme(self) -> str:
        return self.store.user_org[self.store.token_users["admin"]]

    # -- the clock of the latest change --------------------------------------------------------------------------
    @property
    def last_change(self) -> datetime | None:
        """When a record last changed through a mutation (None: never since the data was built)."""
        with self._change_lock:
            last = self._last_change
        return None if last is None else datetime.fromtimestamp(last, UTC)

    def _note_change(self) -> None:
        stamped = self.store.last_stamp_us / 1_000_000  # a timestamp a mutation wrote may be a little ahead
        with self._change_lock:
            self._last_change = max(self._last_change or 0.0, time.time(), stamped)

    def wait_past_last_change(self) -> float:
        """Wait until the sandbox's clock (its ``Date`` header, whole seconds) has left the second of the latest
        change; return the seconds waited (at most one, and none when nothing changed in the current second).

        A connector takes its sync's start from the ``Date`` header and never moves its cursor past it, so a
        record changed in the second a sync starts comes back, harmlessly, in the next sync too. Tests that
        expect "the changes and nothing else" start each sync after this."""
        with self._change_lock:
            last = self._last_change
        if last is None:
            return 0.0
        waited = 0.0
        while (delay := seconds_until_past(last, time.time())) > 0:
            _NEVER.wait(delay)
            waited += delay
        return waited

    # -- knobs on a running sandbox ---------------------------------------------------------------------------
    @property
    def behaviour(self) -> Behaviour:
        return self.store.behaviour

    def set_behaviour(self, **changes: Any) -> Behaviour:
        """Change how the sandbox answers where Calendly's behaviour is unconfirmed (see behaviour.py)."""
        with self.store.lock:
            self.store.behaviour = replace(self.store.behaviour, **changes)
            return self.store.behaviour

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Replace the faults (``Faults()`` clears them), or change some fields of the current ones."""
        new = faults if faults is not None else replace(self.injector.faults, **changes)
        self.injector.configure(new)
        return new

    def queue_faults(self, *kinds: int | str) -> None:
        """Force faults on the next API requests, in order: 429/500/502/503, "reset" or a body fault (faults.py)."""
        self.injector.queue(*kinds)

    def set_rate_limit(
        self, limit: int | None, window_seconds: float | None = None, send_retry_after: bool | None = None
    ) -> None:
        """Change the per-user limit (None = unlimited) and optionally the window; open windows restart."""
        self.limiter.configure(limit, window_seconds)
        if send_retry_after is not None:
            self.send_retry_after = send_retry_after

    def set_oauth(
        self, access_token_lifetime_seconds: float | None = None, tokens_per_minute: int | str | None = "unchanged"
    ) -> dict[str, Any]:
        """Change the OAuth access-token lifetime (for tokens issued from now on) and the per-user token limit."""
        if access_token_lifetime_seconds is not None:
            self.oauth.access_token_lifetime_seconds = float(access_token_lifetime_seconds)
        if tokens_per_minute != "unchanged":
            self.oauth.tokens_per_minute = None if tokens_per_minute is None else int(tokens_per_minute)
        return {
            "access_token_lifetime_seconds": self.oauth.access_token_lifetime_seconds,
            "tokens_per_minute": self.oauth.tokens_per_minute,
        }

    def set_page_token_ttl(self, seconds: float | None) -> None:
        self.page_tokens.ttl_seconds = seconds

    # -- telemetry ----------------------------------------------------------------------------------------
    @property
    def request_log(self) -> list[RequestLogEntry]:
        """Snapshot of the API requests served so far (``/_sandbox/*`` excluded)."""
        return self.request_log_sink.entries()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the server has answered every request it was sent: none waiting to be accepted, none in
        a socket, none being handled. Count requests after this when a client may have left requests behind
        (a killed connector's are answered, and logged, after it died). TimeoutError after ``timeout`` s."""
        server = self._server
        if server is not None:
            server.wait_idle(timeout)

    def clear_request_log(self) -> None:
        self.request_log_sink.clear()

    def stats(self) -> dict[str, Any]:
        """Counts per endpoint and status, total 429s, faults injected, page tokens held."""
        out = self.request_log_sink.stats()
        out["page_tokens"] = len(self.page_tokens)
        return out

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url if self._server is not None else None,
            "tokens": self.tokens.by_label(),
            "anchor": self.anchor.isoformat().replace("+00:00", "Z"),
            "seed": self.spec.seed,
            "events": len(self.store.events),
            "organizations": {label: self.store.user_org[u] for label, u in self.store.token_users.items()},
            "plan": self.spec.plan,
            "behaviour": self.behaviour.as_dict(),
            "users": dict(self.store.token_users),
        }
