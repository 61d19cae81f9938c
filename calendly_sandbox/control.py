"""``/_sandbox/*``: the sandbox's own control API for other processes (demo, benchmarks, acceptance tests).

No auth, no rate limit, no faults, not in the request log. JSON in, JSON out; errors are ``{"error": ...}``
with 400 (bad input), 404 (unknown route or record) or 403 (truth of a stream the token may not read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qsl

import orjson

from .behaviour import Behaviour
from .faults import Faults
from .oauth import OAuthServer
from .requestlog import RequestLogEntry
from .truth import Truth

MUTATIONS = (
    "book_event",
    "cancel_event",
    "cancel_invitee",
    "reschedule",
    "join_group_event",
    "edit_meeting_notes",
    "mark_no_show",
    "unmark_no_show",
    "add_form_submission",
    "add_activity_log_entry",
    "create_contact",
    "update_contact",
    "add_outgoing_communication",
    "advance_clock",
    "link_submission",
    "revoke_invitation",
    "erase_invitees",
    "erase_events",
    "delete_form_submission",
    "create_meeting_recap",
    "finish_meeting_recap",
    "edit_meeting_recap",
    "delete_meeting_recap",
    "set_user_locations",
    # the contact book (contactbook_mutations.py)
    "delete_contact",
    "create_contact_list",
    "create_contact_view",
    "add_list_members",
    "remove_list_members",
    "delete_contact_list",
    "add_note",
    "delete_custom_field_definition",
)


class Controlled(Protocol):
    """What the control API drives: ``sandbox.Sandbox``, which owns the control API (and whose ``MUTATIONS``
    methods it calls by name)."""

    oauth: OAuthServer
    truth: Truth

    @property
    def behaviour(self) -> Behaviour: ...

    @property
    def request_log(self) -> list[RequestLogEntry]: ...

    def info(self) -> dict[str, Any]: ...

    def stats(self) -> dict[str, Any]: ...

    def clear_request_log(self) -> None: ...

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults: ...

    def queue_faults(self, *kinds: int | str) -> None: ...

    def set_rate_limit(
        self, limit: int | None, window_seconds: float | None = None, send_retry_after: bool | None = None
    ) -> None: ...

    def set_oauth(
        self, access_token_lifetime_seconds: float | None = None, tokens_per_minute: int | str | None = "unchanged"
    ) -> dict[str, Any]: ...

    def set_page_token_ttl(self, seconds: float | None) -> None: ...

    def set_behaviour(self, **changes: Any) -> Behaviour: ...


class Control:
    def __init__(self, sandbox: Controlled) -> None:
        self.sandbox = sandbox

    def handle(self, method: str, path: str, qs: str, raw: bytes) -> tuple[int, bytes]:
        name = path[len("/_sandbox/") :]
        query = dict(parse_qsl(qs, keep_blank_values=True))
        try:
            body = orjson.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            result = self._dispatch(method, name, query, body)
            return 200, orjson.dumps(result)
        except LookupError as exc:
            return 404, orjson.dumps({"error": f"not found: {exc}"})
        except PermissionError as exc:
            return 403, orjson.dumps({"error": str(exc)})
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return 400, orjson.dumps({"error": str(exc)})

    def _dispatch(self, method: str, name: str, query: dict[str, str], body: dict[str, Any]) -> Any:
        sb = self.sandbox
        if method == "GET":
            if name == "health":
                return {"ok": True}
            if name == "info":
                return sb.info()
            if name == "stats":
                return sb.stats()
            if name == "request_log":
                return [e.as_dict() for e in sb.request_log]
            if name == "behaviour":
                return sb.behaviour.as_dict()
            if name.startswith("truth/"):
                return self._truth(name[len("truth/") :], query)
        elif method == "POST":
            if name in MUTATIONS:
                method_fn: Callable[..., Any] = getattr(sb, name)
                return method_fn(**body)
            if name == "clear_request_log":
                sb.clear_request_log()
                return {"ok": True}
            if name == "faults":
                sb.set_faults(Faults.from_dict(body))
                return {"ok": True}
            if name == "queue_faults":
                sb.queue_faults(*body.get("kinds", []))
                return {"ok": True}
            if name == "rate_limit":
                sb.set_rate_limit(**body)
                return {"ok": True}
            if name == "oauth":
                return sb.set_oauth(**body)
            if name == "oauth/grant":
                return sb.oauth.grant(body.get("label", "admin"))
            if name == "page_token_ttl":
                sb.set_page_token_ttl(body.get("seconds"))
                return {"ok": True}
            if name == "behaviour":
                return sb.set_behaviour(**body).as_dict()
        raise LookupError(f"{method} /_sandbox/{name}")

    def _truth(self, stream: str, query: dict[str, str]) -> Any:
        truth = self.sandbox.truth
        label = query.get("token_label", "admin")
        if stream == "invitees":
            if "event_uri" not in query:
                raise ValueError("event_uri is required")
            return truth.invitees(query["event_uri"])
        if stream == "routing_form_submissions":
            return truth.routing_form_submissions(label, query.get("form"))
        if stream in ("user", "organization"):  # the record itself (records("organization") is a list of it)
            return getattr(truth, stream)(label)
        if stream == "contacts" and "sort" in query:
            return truth.contacts(label, query["sort"])
        if stream not in truth.STREAMS:
            raise LookupError(f"truth stream {stream!r}")
        return truth.records(stream, label)
