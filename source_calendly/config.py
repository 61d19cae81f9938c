"""The connector's configuration, parsed and validated once into a typed object."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

DEFAULT_API_URL = "https://api.calendly.com"
# Calendly's OAuth token endpoint (developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token).
DEFAULT_TOKEN_URL = "https://auth.calendly.com/oauth/token"
AUTH_PAT = "personal_access_token"
AUTH_OAUTH = "oauth2.0"
PAT_HELP = (
    "Generate one in Calendly > Integrations & Apps > API & Webhooks > Personal Access Tokens and paste it as a string."
)
OAUTH_HELP = 'Re-authenticate the source ("Authenticate your account" in its settings) to get a new one.'
DEFAULT_LOOKBACK_DAYS = 7
# Chosen by measurement (benchmarks/): 4 workers keep a 500/min budget busy at ~100 ms latency; more add nothing.
DEFAULT_NUM_WORKERS = 4
MAX_NUM_WORKERS = 16
# Requests per sync that re-check history older than the lookback window (README, "How incremental sync works").
DEFAULT_HISTORY_REQUESTS = 200
START_DATE_FORMAT = "YYYY-MM-DDTHH:MM:SSZ"
# Per attempt, from sending to the body's last byte. A page of 100 records is a few hundred KB: generous.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 300.0
DEFAULT_MAX_RETRIES = 10
DEFAULT_PROGRESS_INTERVAL_SECONDS = 15  # a log line per stream while it is read (source_calendly.progress)


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def parse_utc(value: str) -> datetime:
    """Parse a Calendly UTC timestamp (`Z` or `+00:00`, any fraction) into an aware datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; Calendly timestamps are UTC")
    return parsed.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Calendly's own timestamp format: UTC, microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_url(raw: str, key: str = "api_url", default: str = DEFAULT_API_URL) -> str:
    """Accept https to any host, or plain http only to this machine (the local sandbox).

    The token is sent to exactly this host, so anything that could leak it in clear text is refused.
    """
    parts = urlsplit(raw.strip())
    host = parts.hostname or ""
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and _is_loopback(host)):
        pass
    else:
        raise config_error(
            f"{key} {raw!r} is not allowed: use https://… (default {default}), or http:// only to a "
            "loopback host such as http://127.0.0.1:PORT for the local sandbox."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise config_error(f"{key} {raw!r} must not contain credentials, a query or a fragment.")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def with_credentials(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config in the current shape: a top-level `personal_access_token` (the shape before OAuth) moves into
    `credentials`. Only in memory: nothing is written back (README, "Authentication")."""
    migrated = dict(config)
    if "credentials" not in migrated and "personal_access_token" in migrated:
        token = migrated.pop("personal_access_token")
        migrated["credentials"] = {"auth_type": AUTH_PAT, "personal_access_token": token}
    return migrated


@dataclass(frozen=True)
class OAuthClient:
    """The OAuth app and the grant's current tokens, as the config holds them (the authenticator keeps them)."""

    client_id: str
    client_secret: str
    refresh_token: str


def _secret_string(credentials: Mapping[str, Any], key: str, help_text: str, required: bool = True) -> str:
    value = credentials.get(key)
    if value is not None and not isinstance(value, str):
        # Never echo the value: it may be a secret after all.
        raise config_error(f"credentials.{key} must be a string, not a {_json_type(value)}. {help_text}")
    if required and (not value or not value.strip()):
        raise config_error(f"credentials.{key} is missing or empty. {help_text}")
    value = (value or "").strip()
    if value:
        add_to_secrets(value)
    return value


def _credentials(config: Mapping[str, Any]) -> tuple[str | None, OAuthClient | None]:
    """(personal access token, None) or (None, OAuth client): the credentials choice, checked."""
    credentials = with_credentials(config).get("credentials")
    if credentials is None:
        raise config_error(
            "credentials are missing: choose a personal access token or OAuth 2.0 (Authenticate your account). "
            + PAT_HELP
        )
    if not isinstance(credentials, Mapping):
        raise config_error(f"credentials must be a JSON object, not a {_json_type(credentials)}.")
    auth_type = credentials.get("auth_type")
    if auth_type is None:  # a config written by hand: the fields say which it is
        auth_type = AUTH_OAUTH if "refresh_token" in credentials else AUTH_PAT
    if auth_type == AUTH_PAT:
        token = credentials.get("personal_access_token")
        if token is not None and not isinstance(token, str):
            raise config_error(f"personal_access_token must be a string, not a {_json_type(token)}. {PAT_HELP}")
        if not token or not token.strip():
            raise config_error(f"personal_access_token is missing or empty. {PAT_HELP}")
        # The CDK masks the config's own value in everything it prints; the stripped token that is actually
        # sent (and shows in debug logs of requests) must be masked too.
        token = token.strip()
        add_to_secrets(token)
        return token, None
    if auth_type == AUTH_OAUTH:
        app_help = "Copy it from your OAuth app in Calendly's developer portal (developer.calendly.com)."
        client = OAuthClient(
            client_id=_secret_string(credentials, "client_id", app_help),
            client_secret=_secret_string(credentials, "client_secret", app_help),
            refresh_token=_secret_string(credentials, "refresh_token", OAUTH_HELP),
        )
        _secret_string(credentials, "access_token", OAUTH_HELP, required=False)
        expiry = credentials.get("token_expiry_date")
        if expiry not in (None, ""):
            try:
                ab_datetime_parse(str(expiry))  # as the CDK's authenticator reads it
            except ValueError:
                raise config_error(
                    f"credentials.token_expiry_date {expiry!r} is not a date and time with a time zone "
                    "(for example 2026-01-01T00:00:00Z). Leave it empty: the connector then gets a new access token."
                ) from None
        return None, client
    raise config_error(
        f"credentials.auth_type {str(auth_type)[:40]!r} is not one of {AUTH_PAT!r} or {AUTH_OAUTH!r}. Choose a "
        "personal access token or OAuth 2.0 in the source's settings."
    )


@dataclass(frozen=True)
class CalendlyConfig:
    token: str | None  # a personal access token; None with OAuth
    start_date: datetime | None
    lookback: timedelta
    api_url: str
    num_workers: int
    requests_per_minute: float | None
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    max_retries: int = DEFAULT_MAX_RETRIES
    history_requests: int = DEFAULT_HISTORY_REQUESTS
    progress_interval_seconds: int = DEFAULT_PROGRESS_INTERVAL_SECONDS
    oauth: OAuthClient | None = None
    token_url: str = DEFAULT_TOKEN_URL
    include_meeting_recap_transcripts: bool = False  # opt-in stream meeting_recap_transcripts (see spec.yaml)
    sync_contact_notes: bool = False  # opt-in: ⌈contacts/10⌉ requests more, and private text
    # Events, invitees and submissions remember the keys they re-read, to send tombstones (state grows with them).
    track_deletions: bool = True

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> CalendlyConfig:
        token, oauth = _credentials(config)
        return cls(
            token=token,
            oauth=oauth,
            token_url=validate_api_url(
                str(config.get("token_url") or DEFAULT_TOKEN_URL), "token_url", DEFAULT_TOKEN_URL
            ),
            start_date=_start_date(config.get("start_date")),
            lookback=timedelta(days=_int_option(config, "lookback_days", DEFAULT_LOOKBACK_DAYS, 0, 3650)),
            api_url=validate_api_url(str(config.get("api_url") or DEFAULT_API_URL)),
            num_workers=_int_option(config, "num_workers", DEFAULT_NUM_WORKERS, 1, MAX_NUM_WORKERS),
            requests_per_minute=_rpm(config.get("requests_per_minute")),
            request_timeout_seconds=_request_timeout(config.get("request_timeout_seconds")),
            max_retries=_int_option(config, "max_retries", DEFAULT_MAX_RETRIES, 0, 100),
            history_requests=_int_option(config, "history_requests", DEFAULT_HISTORY_REQUESTS, 0, 100_000),
            progress_interval_seconds=_int_option(
                config, "progress_interval_seconds", DEFAULT_PROGRESS_INTERVAL_SECONDS, 1, 3600
            ),
            include_meeting_recap_transcripts=_bool_option(config, "include_meeting_recap_transcripts"),
            sync_contact_notes=_bool_option(config, "sync_contact_notes"),
            track_deletions=_bool_option(config, "track_deletions", default=True),
        )


def _start_date(raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    message = (
        f"start_date {raw!r} is not a valid UTC date: use {START_DATE_FORMAT} (for example 2024-01-01T00:00:00Z) "
        "or YYYY-MM-DD (midnight UTC), or leave it empty to sync all history."
    )
    if not isinstance(raw, str):
        raise config_error(message)
    try:
        if len(raw) == 10:  # a date alone: midnight UTC
            return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        if not raw.endswith("Z") or len(raw) != 20:
            raise ValueError(raw)
        return parse_utc(raw)
    except ValueError:
        raise config_error(message) from None


def future_start_date_warning(config: CalendlyConfig, now: datetime) -> str | None:
    """A start date in the future is allowed (a sync set up ahead of time) but almost always a typo."""
    if config.start_date is None or config.start_date <= now:
        return None
    return (
        f"start_date {format_utc(config.start_date)} is in the future: syncs read no event that starts before it "
        "and no routing form submission created before it, so they will find little or nothing until then. "
        "Set a date in the past, or leave start_date empty to sync all history."
    )


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", list: "list", dict: "JSON object"}
    return names.get(type(value), type(value).__name__)


def _int_option(config: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    raw = config.get(key)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise config_error(
            f"{key} must be a whole number from {low} to {high}; got {raw!r}. Fix it in the source's configuration, "
            "or remove it to use the default."
        )
    return raw


def _bool_option(config: Mapping[str, Any], key: str, default: bool = False) -> bool:
    raw = config.get(key)
    if raw is None:
        return default
    if not isinstance(raw, bool):
        setting = "on" if default else "off"
        raise config_error(
            f"{key} must be true or false; got {raw!r}. Fix it in the source's configuration, or remove it ({setting})."
        )
    return raw


def _rpm(raw: Any) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 1 <= raw <= 100_000:
        raise config_error(
            f"requests_per_minute must be a number from 1 to 100000, or empty for no cap; got {raw!r}. Fix it in the "
            "source's configuration, or remove it to use what Calendly allows."
        )
    return float(raw)


def _request_timeout(raw: Any) -> float:
    if raw is None:
        return DEFAULT_REQUEST_TIMEOUT_SECONDS
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.1 <= raw <= 3600:
        raise config_error(
            f"request_timeout_seconds must be a number of seconds from 0.1 to 3600 (default "
            f"{DEFAULT_REQUEST_TIMEOUT_SECONDS:g}); got {raw!r}."
        )
    return float(raw)
