"""Calendly's OAuth server: `/oauth/authorize` and `/oauth/token`, with single-use, rotating refresh tokens.

What it models (developer.calendly.com):
- authorization codes live 10 minutes and redeem once; access tokens live 2 hours; refresh tokens do not
  expire until used ("How to access Calendly data on behalf of authenticated users");
- a successful refresh revokes the refresh token it used at once and returns a new access and refresh token;
  a used refresh token fails ("How to handle single-use refresh tokens", /refresh-token-rotation-guide);
- at most 8 tokens per user per minute (Get Access Token, /api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token);
- web clients authenticate with HTTP Basic (client_id:client_secret); the body may carry them instead
  (DECISION: Calendly's server, Doorkeeper, accepts both by default; the docs show Basic).
The token response carries `token_type`, `access_token`, `refresh_token`, `scope`, `created_at` (epoch seconds),
`expires_in`, `owner` and `organization`. Errors are RFC 6749 `{"error", "error_description"}` bodies; Calendly's
exact description strings are UNCONFIRMED, and so is the body of a 429 from the token endpoint.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

CLIENT_ID = "sandbox-oauth-client-id-5e1f0a"
CLIENT_SECRET = "sandbox-oauth-client-secret-b7c94d2e61"
REDIRECT_URI = "http://localhost:8000/auth_flow"  # what a self-managed Airbyte registers (its /auth_flow page)
ACCESS_TOKEN_LIFETIME_SECONDS = 7200
CODE_LIFETIME_SECONDS = 600
TOKENS_PER_USER_PER_MINUTE = 8

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in "
    "the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, or unsupported "
    "authentication method."
)
INVALID_REQUEST = (
    "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed."
)
UNSUPPORTED_GRANT = "The authorization grant type is not supported by the authorization server."
TOO_MANY_TOKENS = {"title": "Too Many Requests", "message": "You have exceeded the rate limit. Try again later."}


@dataclass
class _Grant:
    label: str  # the sandbox token label whose user granted access (its data, role and scopes)
    user: str
    organization: str


@dataclass
class OAuthServer:
    """Clients, codes and tokens; thread-safe. `principal_label(token)` is how the API accepts access tokens."""

    users: dict[str, tuple[str, str]]  # token label -> (user uri, organization uri)
    access_token_lifetime_seconds: float = ACCESS_TOKEN_LIFETIME_SECONDS
    tokens_per_minute: int | None = TOKENS_PER_USER_PER_MINUTE
    clients: dict[str, tuple[str, tuple[str, ...]]] = field(
        default_factory=lambda: {CLIENT_ID: (CLIENT_SECRET, (REDIRECT_URI,))}
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _codes: dict[str, tuple[_Grant, str, float]] = field(default_factory=dict)  # code -> grant, redirect, expiry
    _access: dict[str, tuple[_Grant, float]] = field(default_factory=dict)  # access token -> grant, expiry
    _refresh: dict[str, _Grant] = field(default_factory=dict)  # live refresh tokens
    _used_refresh: set[str] = field(default_factory=set)
    _issued: dict[str, deque[float]] = field(default_factory=dict)  # user -> monotonic times of issued tokens
    issued_access_tokens: list[str] = field(default_factory=list)
    issued_refresh_tokens: list[str] = field(default_factory=list)
    # Test hooks: called with an access token the first time an API request carries it; and a path prefix at
    # whose first request every access token issued so far expires (two hours passing in the middle of a sync).
    on_first_use: Callable[[str], None] | None = None
    # False: the API refuses every OAuth access token, as after the user revoked the app's access in Calendly
    # (whether the token endpoint then still answers is UNCONFIRMED; here it does).
    api_accepts_tokens: bool = True
    _expire_at_path: str | None = None
    _used: set[str] = field(default_factory=set)

    # -- the API's side ---------------------------------------------------------------------------------------
    def principal_label(self, access_token: str) -> str | None:
        """The grant's token label while the access token is live; None once it expired (or never existed)."""
        with self._lock:
            found = self._access.get(access_token)
            if found is None or time.monotonic() >= found[1] or not self.api_accepts_tokens:
                return None
            first_use = access_token not in self._used
            self._used.add(access_token)
        if first_use and self.on_first_use is not None:
            self.on_first_use(access_token)
        return found[0].label

    def on_request(self, path: str) -> None:
        """Called as an API request arrives, before any latency: fires `expire_access_tokens_at`."""
        if self._expire_at_path is not None and path.startswith(self._expire_at_path):
            with self._lock:
                if self._expire_at_path is None:
                    return
                self._expire_at_path = None
                self._access = {t: (g, 0.0) for t, (g, _) in self._access.items()}

    def expire_access_tokens_at(self, path_prefix: str) -> None:
        """Every access token issued so far expires when the first API request to `path_prefix…` arrives."""
        self._expire_at_path = path_prefix

    def is_known(self, access_token: str) -> bool:
        with self._lock:
            return access_token in self._access

    # -- for tests and the demo -------------------------------------------------------------------------------
    def grant(self, label: str = "admin") -> dict[str, Any]:
        """What a user's consent plus the code exchange would yield, without the browser: a token response."""
        user, org = self.users[label]
        with self._lock:
            if self._limited(user):  # the code exchange counts towards the user's tokens of the minute too
                raise ValueError(f"{label} already had {self.tokens_per_minute} tokens this minute")
            return self._issue(_Grant(label, user, org))

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (as if two hours had passed)."""
        with self._lock:
            self._access = {t: (g, 0.0) for t, (g, _) in self._access.items()}

    def revoke_refresh_token(self, refresh_token: str) -> None:
        with self._lock:
            if self._refresh.pop(refresh_token, None) is not None:
                self._used_refresh.add(refresh_token)

    def live_refresh_tokens(self) -> list[str]:
        with self._lock:
            return list(self._refresh)

    # -- HTTP -------------------------------------------------------------------------------------------------
    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, Any], str | None]:
        """GET /oauth/authorize: the sandbox's user consents at once (`sandbox_user` picks who, default admin)
        and is sent back to the redirect URI with a code. Returns (status, error body, Location)."""
        client = self.clients.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        if client is None or redirect not in client[1]:
            return 400, {"error": "invalid_client" if client is None else "invalid_redirect_uri"}, None
        separator = "&" if "?" in redirect else "?"
        if query.get("response_type") != "code":
            params = {"error": "unsupported_response_type", **_state(query)}
            return 302, {}, f"{redirect}{separator}{urlencode(params)}"
        label = query.get("sandbox_user", "admin")
        if label not in self.users:
            return 400, {"error": "invalid_request", "error_description": f"unknown sandbox_user {label!r}"}, None
        user, org = self.users[label]
        code = secrets.token_hex(32)
        with self._lock:
            self._codes[code] = (_Grant(label, user, org), redirect, time.monotonic() + CODE_LIFETIME_SECONDS)
        return 302, {}, f"{redirect}{separator}{urlencode({'code': code, **_state(query)})}"

    def token(self, authorization: str | None, raw_body: bytes) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """POST /oauth/token (form-encoded): `authorization_code` or `refresh_token`."""
        form = dict(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = _basic(authorization) or (form.get("client_id"), form.get("client_secret"))
        client = self.clients.get(client_id or "")
        if client is None or client[0] != client_secret:
            return 401, {"error": "invalid_client", "error_description": INVALID_CLIENT}, []
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                code = form.get("code", "")
                found = self._codes.get(code)
                if not code or found is None:
                    return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}, []
                grant, redirect, expiry = found
                if time.monotonic() >= expiry or form.get("redirect_uri") != redirect:
                    return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}, []
                limited = self._limited(grant.user)
                if limited:
                    return 429, TOO_MANY_TOKENS, limited
                del self._codes[code]
                return 200, self._issue(grant), []
            if grant_type == "refresh_token":
                refresh_token = form.get("refresh_token", "")
                if not refresh_token:
                    return 400, {"error": "invalid_request", "error_description": INVALID_REQUEST}, []
                grant = self._refresh.get(refresh_token)
                if grant is None:  # unknown, or already used (revoked at its first use)
                    return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}, []
                limited = self._limited(grant.user)
                if limited:  # refused before use: the refresh token stays valid
                    return 429, TOO_MANY_TOKENS, limited
                del self._refresh[refresh_token]
                self._used_refresh.add(refresh_token)
                return 200, self._issue(grant), []
        if not grant_type:
            return 400, {"error": "invalid_request", "error_description": INVALID_REQUEST}, []
        return 400, {"error": "unsupported_grant_type", "error_description": UNSUPPORTED_GRANT}, []

    # -- internals (called with the lock held) ----------------------------------------------------------------
    def _limited(self, user: str) -> list[tuple[str, str]] | None:
        """Headers of a 429 when the user already had their tokens this minute, else None (and one is counted)."""
        if self.tokens_per_minute is None:
            return None
        now = time.monotonic()
        issued = self._issued.setdefault(user, deque())
        while issued and now - issued[0] >= 60.0:
            issued.popleft()
        if len(issued) >= self.tokens_per_minute:
            reset = max(1, int(60.0 - (now - issued[0]) + 0.999))
            return [
                ("X-RateLimit-Limit", str(self.tokens_per_minute)),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(reset)),
            ]
        issued.append(now)
        return None

    def _issue(self, grant: _Grant) -> dict[str, Any]:
        access, refresh = (
            f"sandbox-oauth-access-{secrets.token_hex(24)}",
            f"sandbox-oauth-refresh-{secrets.token_hex(24)}",
        )
        lifetime = self.access_token_lifetime_seconds
        self._access[access] = (grant, time.monotonic() + lifetime)
        self._refresh[refresh] = grant
        self.issued_access_tokens.append(access)
        self.issued_refresh_tokens.append(refresh)
        return {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "scope": "default",
            "created_at": int(time.time()),
            "expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
            "owner": grant.user,
            "organization": grant.organization,
        }


def _state(query: dict[str, str]) -> dict[str, str]:
    return {"state": query["state"]} if "state" in query else {}


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password
