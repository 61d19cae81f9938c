"""OAuth with Calendly's single-use refresh tokens: the CDK's authenticator, made safe to share and to kill.

The CDK's `SingleUseRefreshTokenOauth2Authenticator` keeps the tokens in the connector config and prints the
whole config as a CONTROL (CONNECTOR_CONFIG) message after each refresh, which is how the platform learns the
new refresh token. Calendly revokes a refresh token the moment it is used
(developer.calendly.com/refresh-token-rotation-guide) and issues at most 8 tokens per user per minute
(developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token), so on top of it:

- every reader of the access token takes the refresh lock, so no thread sends a new access token before the
  CONTROL message carrying its refresh token is written and flushed to stdout;
- the access token is refreshed ahead of its expiry (`EXPIRY_MARGIN`, at most a quarter of its lifetime);
- a 401 refreshes once per access token (`recover_from_unauthorized`), whichever thread sees it first;
- the token request goes only to the configured token URL, never follows a redirect, has a deadline, waits
  for the per-minute token limit, and a refused refresh token ends as a config error that names nothing secret.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.requests_native_auth import SingleUseRefreshTokenOauth2Authenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import OAUTH_HELP, CalendlyConfig, config_error

EXPIRY_MARGIN = timedelta(minutes=5)
TOKENS_PER_MINUTE = 8  # Calendly's limit per user; shared with the user's other integrations
TOKEN_TIMEOUT = (10.0, 60.0)
MAX_TOKEN_ATTEMPTS = 5  # per refresh, for 5xx, 429 and network failures
REAUTHENTICATE = (
    "Calendly refused the OAuth refresh token (invalid_grant): it was revoked, or already used to get a new one "
    "(Calendly's refresh tokens work once). This source can no longer sign in to Calendly. Re-authenticate it: "
    'open the source\'s settings and click "Authenticate your account" (or, outside Airbyte, run the OAuth flow '
    "again and put the new refresh token in credentials.refresh_token)."
)
BAD_CLIENT = (
    "Calendly rejected the OAuth app's credentials (invalid_client): credentials.client_id or "
    "credentials.client_secret is wrong, or the app was deleted. Copy both from your OAuth app at "
    "developer.calendly.com, then re-authenticate the source."
)

logger = logging.getLogger("airbyte")


class TokenRateLimit:
    """At most `limit` token requests in any 60 seconds from this process (Calendly counts per user)."""

    def __init__(
        self, limit: int = TOKENS_PER_MINUTE, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait_for_turn(self, sleep: Callable[[float], None] | None = None) -> None:
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self._window:
                    self._sent.popleft()
                if len(self._sent) < self._limit:
                    self._sent.append(now)
                    return
                wait = self._window - (now - self._sent[0])
                logger.info(f"Waiting {wait:.0f} s for Calendly's limit of {self._limit} OAuth tokens per minute.")
                (sleep or time.sleep)(wait)


class CalendlyOAuthAuthenticator(SingleUseRefreshTokenOauth2Authenticator):
    """One per process, shared by every stream and worker thread (see SyncContext)."""

    def __init__(self, raw_config: MutableMapping[str, Any], config: CalendlyConfig) -> None:
        assert config.oauth is not None
        client = config.oauth
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        add_to_secrets(basic)
        super().__init__(
            connector_config=raw_config,
            token_refresh_endpoint=config.token_url,
            client_id=client.client_id,
            client_secret=client.client_secret,
            # Calendly's web clients authenticate with HTTP Basic; the CDK then leaves them out of the body.
            refresh_request_headers={"Authorization": f"Basic {basic}"},
        )
        self._timeout = TOKEN_TIMEOUT
        self._token_session = requests.Session()  # the token URL only; the API's session never sees the secret
        self._token_limit = TokenRateLimit()
        self._lifetime: timedelta | None = None  # of the last token this process was issued
        self._recovered_token: str | None = None  # the last access token got because of a 401
        self._refusal: AirbyteTracedException | None = None  # Calendly refused the refresh: final for this run

    # -- when to refresh --------------------------------------------------------------------------------------
    def token_has_expired(self) -> bool:
        if not self.access_token:
            return True
        margin = EXPIRY_MARGIN if self._lifetime is None else min(EXPIRY_MARGIN, self._lifetime / 4)
        return ab_datetime_now() + margin >= self.get_token_expiry_date()

    def get_access_token(self) -> str:
        # Always under the lock (uncontended, it costs microseconds): a thread never reads a token that was
        # issued but whose CONTROL message is not out yet.
        with self._token_refresh_lock:
            if self.token_has_expired():
                self.refresh_and_set_access_token()
            return self.access_token

    def recover_from_unauthorized(self, sent_token: str) -> bool:
        """After a 401 for a request sent with `sent_token`: True if the request should be sent again.

        Refreshes only if nobody replaced that token yet, so four workers rejected together cause one refresh;
        the caller retries a request once, so a token Calendly keeps refusing ends the sync instead of looping.
        """
        with self._token_refresh_lock:
            if self.access_token != sent_token:
                return True
            if sent_token == self._recovered_token:
                return False  # a token just issued because of a 401 was refused too: another one would be as well
            logger.info("Calendly rejected the OAuth access token (HTTP 401) before its expiry; getting a new one.")
            self.refresh_and_set_access_token()
            self._recovered_token = self.access_token
            return True

    def refresh_and_set_access_token(self) -> None:
        with self._token_refresh_lock:
            if self._refusal is not None:  # every later stream fails the same way, without asking Calendly again
                raise self._refusal
            try:
                access_token, expiry, refresh_token = self.refresh_access_token()
            except AirbyteTracedException as error:
                if error.failure_type == FailureType.config_error:
                    self._refusal = error
                raise
            self.access_token = access_token
            if refresh_token is not None:
                self.set_refresh_token(refresh_token)
            self.set_token_expiry_date(expiry)
            # Written and flushed (the CDK prints it with flush=True) before the lock lets anyone use the token.
            self._emit_control_message()
            logger.info(
                f"Got a new Calendly access token (valid until {expiry}); the new refresh token was sent to the "
                "platform in a CONTROL message."
            )

    def _extract_token_expiry_date(self, response_data: Any) -> Any:
        expires_in = response_data.get("expires_in") if isinstance(response_data, dict) else None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
            self._lifetime = timedelta(seconds=expires_in)
            return ab_datetime_now() + self._lifetime
        return super()._extract_token_expiry_date(response_data)

    # -- the token request ------------------------------------------------------------------------------------
    def _make_handled_request(self) -> Any:
        url = self.get_token_refresh_endpoint()
        failures: list[str] = []
        while True:
            self._token_limit.wait_for_turn()
            try:
                response = self._token_session.post(
                    url,
                    data=self.build_refresh_request_body(),
                    headers=self.build_refresh_request_headers(),
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                failures.append(type(exc).__name__)
                self._retry_or_give_up(failures, None)
                continue
            status = response.status_code
            if status == 200:
                return self._token_body(response)
            if status == 429 or status >= 500:
                failures.append(f"HTTP {status}")
                self._retry_or_give_up(failures, response)
                continue
            raise self._refused(response)

    def _token_body(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            # The old refresh token is already spent: only a new sign-in can help.
            message = "Calendly's token endpoint answered without an access token and a refresh token. " + OAUTH_HELP
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.config_error
            )
        for key in ("access_token", "refresh_token"):
            add_to_secrets(str(body[key]))
        return body

    def _retry_or_give_up(self, failures: list[str], response: requests.Response | None) -> None:
        if len(failures) >= MAX_TOKEN_ATTEMPTS:
            message = (
                f"Calendly's token endpoint did not answer a token refresh ({', '.join(failures)}). This is usually "
                "temporary: run the sync again. If it persists, check that the sync can reach "
                f"{requests.utils.urlparse(self.get_token_refresh_endpoint()).hostname}."
            )
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.transient_error
            )
        if response is not None and response.status_code == 429:
            wait = _reset_seconds(response)
            logger.info(f"Calendly's OAuth token limit was reached (HTTP 429); retrying in {wait:.0f} s.")
        else:
            wait = random.uniform(0.5, 1.0) * 2 ** len(failures)
            logger.info(f"Token refresh failed ({failures[-1]}); retrying in {wait:.1f} s.")
        time.sleep(wait)

    def _refused(self, response: requests.Response) -> AirbyteTracedException:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = str(body.get("error", ""))[:40] if isinstance(body, dict) else ""
        if error == "invalid_grant":
            return config_error(REAUTHENTICATE)
        if error == "invalid_client" or status == 401:
            return config_error(BAD_CLIENT)
        if 300 <= status < 400:
            return config_error(
                f"Calendly's token endpoint answered with a redirect (HTTP {status}); redirects are not followed so "
                "that the refresh token is only sent to the token URL. Check token_url (normally "
                "https://auth.calendly.com/oauth/token)."
            )
        what = f"error {error!r}" if error else f"HTTP {status}"
        return config_error(f"Calendly refused the token refresh ({what}). {OAUTH_HELP}")


def _reset_seconds(response: requests.Response) -> float:
    for header in ("Retry-After", "X-RateLimit-Reset"):
        try:
            return max(1.0, min(60.0, float(response.headers[header])))
        except (KeyError, ValueError):
            continue
    return 60.0
