"""The OAuth credentials and the authenticator, on requests-mock: what is sent, what is refused, what is emitted."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
import requests_mock
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import DEFAULT_TOKEN_URL, CalendlyConfig, with_credentials
from source_calendly.oauth import BAD_CLIENT, REAUTHENTICATE, CalendlyOAuthAuthenticator, TokenRateLimit

TOKEN_URL = "https://auth.example.test/oauth/token"


def oauth(**credentials: Any) -> dict[str, Any]:
    return {
        "credentials": {
            "auth_type": "oauth2.0",
            "client_id": "cid-1",
            "client_secret": "csecret-1",
            "refresh_token": "refresh-1",
            **credentials,
        },
        "token_url": TOKEN_URL,
        "start_date": "2024-01-01",
    }


def authenticator(raw: dict[str, Any] | None = None) -> CalendlyOAuthAuthenticator:
    raw = raw or oauth()
    return CalendlyOAuthAuthenticator(raw, CalendlyConfig.from_mapping(raw))


def issued(n: int, expires_in: int = 7200) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "access_token": f"access-{n}",
        "refresh_token": f"refresh-{n}",
        "expires_in": expires_in,
        "created_at": 0,
        "owner": "https://api.calendly.com/users/U",
        "organization": "https://api.calendly.com/organizations/O",
    }


def test_oauth_credentials_are_read_checked_and_masked() -> None:
    config = CalendlyConfig.from_mapping(oauth())
    assert config.token is None and config.oauth is not None
    assert (config.oauth.client_id, config.oauth.refresh_token) == ("cid-1", "refresh-1")
    assert config.token_url == TOKEN_URL
    assert filter_secrets("csecret-1 refresh-1") == "**** ****"
    assert CalendlyConfig.from_mapping({"personal_access_token": "t"}).token_url == DEFAULT_TOKEN_URL


@pytest.mark.parametrize("key", ["client_id", "client_secret", "refresh_token"])
def test_a_missing_oauth_field_is_named_with_what_to_do(key: str) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        CalendlyConfig.from_mapping(oauth(**{key: ""}))
    assert f"credentials.{key} is missing or empty" in raised.value.message
    assert raised.value.failure_type == FailureType.config_error


def test_a_wrong_typed_secret_is_named_but_not_echoed() -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        CalendlyConfig.from_mapping(oauth(client_secret=12345678))
    assert "credentials.client_secret must be a string, not a number" in raised.value.message
    assert "12345678" not in raised.value.message


def test_an_unknown_auth_type_and_a_bad_expiry_are_config_errors() -> None:
    with pytest.raises(AirbyteTracedException, match="auth_type 'basic' is not one of"):
        CalendlyConfig.from_mapping(oauth(auth_type="basic"))
    with pytest.raises(AirbyteTracedException, match="token_expiry_date 'soon' is not a date"):
        CalendlyConfig.from_mapping(oauth(token_expiry_date="soon"))


def test_the_token_url_is_https_or_loopback_only() -> None:
    for url in ("http://auth.example.test/oauth/token", "https://user:pw@auth.example.test/t"):
        with pytest.raises(AirbyteTracedException, match="token_url"):
            CalendlyConfig.from_mapping({**oauth(), "token_url": url})
    assert CalendlyConfig.from_mapping({**oauth(), "token_url": "http://127.0.0.1:9/oauth/token"}).oauth


def test_a_config_from_before_credentials_is_moved_into_them_in_memory_only() -> None:
    legacy = {"personal_access_token": "pat-1", "start_date": "2024-01-01"}
    assert with_credentials(legacy) == {
        "credentials": {"auth_type": "personal_access_token", "personal_access_token": "pat-1"},
        "start_date": "2024-01-01",
    }
    assert legacy == {"personal_access_token": "pat-1", "start_date": "2024-01-01"}  # not changed
    assert with_credentials(oauth()) == oauth()
    assert CalendlyConfig.from_mapping(legacy).token == "pat-1"


def test_the_token_limit_lets_8_through_a_minute_then_waits_for_the_oldest_to_age_out() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limit = TokenRateLimit(clock=lambda: now[0])
    for _ in range(8):
        limit.wait_for_turn(sleep)
        now[0] += 1.0
    assert waits == []
    limit.wait_for_turn(sleep)
    assert waits == [52.0]  # the first of the 8 was 60 s ago by then


def test_a_refresh_sends_basic_auth_and_the_refresh_token_and_emits_the_rotated_config_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = oauth()
    auth = authenticator(raw)
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, json=issued(2))
        assert auth.get_access_token() == "access-2"
        assert auth.get_access_token() == "access-2"  # fresh: no second request
    [sent] = mock.request_history
    assert sent.headers["Authorization"].startswith("Basic ") and "csecret-1" not in sent.text
    assert "grant_type=refresh_token" in sent.text and "refresh_token=refresh-1" in sent.text
    [control] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"CONTROL"' in line]
    emitted = control["control"]["connectorConfig"]["config"]
    assert (
        emitted["credentials"]["refresh_token"] == "refresh-2" and emitted["credentials"]["access_token"] == "access-2"
    )
    assert emitted["start_date"] == "2024-01-01" and raw["credentials"]["refresh_token"] == "refresh-2"
    assert filter_secrets("access-2 refresh-2") == "**** ****"


def test_the_token_is_refreshed_ahead_of_expiry_by_a_quarter_of_a_short_lifetime() -> None:
    auth = authenticator()
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, [{"json": issued(2, expires_in=100)}, {"json": issued(3, expires_in=100)}])
        auth.get_access_token()
        with patch("source_calendly.oauth.ab_datetime_now") as now:
            start = auth.get_token_expiry_date() - timedelta(seconds=100)
            now.return_value = start + timedelta(seconds=74)
            assert not auth.token_has_expired()
            now.return_value = start + timedelta(seconds=76)
            assert auth.token_has_expired()


def test_a_refused_refresh_token_is_a_config_error_once_and_never_asked_again() -> None:
    auth = authenticator()
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant", "error_description": "nope"})
        for _ in range(3):
            with pytest.raises(AirbyteTracedException) as raised:
                auth.get_access_token()
            assert raised.value.message == REAUTHENTICATE
            assert raised.value.failure_type == FailureType.config_error
    assert mock.call_count == 1


def test_a_wrong_client_secret_says_so() -> None:
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, status_code=401, json={"error": "invalid_client", "error_description": "x"})
        with pytest.raises(AirbyteTracedException) as raised:
            authenticator().get_access_token()
    assert raised.value.message == BAD_CLIENT


def test_a_redirect_from_the_token_url_is_refused_not_followed() -> None:
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, status_code=307, headers={"Location": "https://elsewhere.example/steal"})
        elsewhere = mock.post("https://elsewhere.example/steal", json=issued(2))
        with pytest.raises(AirbyteTracedException, match="redirect"):
            authenticator().get_access_token()
    assert elsewhere.call_count == 0


def test_a_429_waits_for_the_reset_and_a_5xx_backs_off_then_the_refresh_succeeds() -> None:
    with requests_mock.Mocker() as mock, patch("source_calendly.oauth.time.sleep") as sleep:
        mock.post(TOKEN_URL, [{"status_code": 429, "headers": {"Retry-After": "17"}, "json": {}},
                              {"status_code": 503, "text": "<html>"}, {"json": issued(2)}])  # fmt: skip
        assert authenticator().get_access_token() == "access-2"
    assert sleep.call_args_list[0].args == (17.0,)
    assert len(sleep.call_args_list) == 2


def test_a_token_endpoint_that_keeps_failing_is_a_transient_error_after_five_tries() -> None:
    with requests_mock.Mocker() as mock, patch("source_calendly.oauth.time.sleep"):
        mock.post(TOKEN_URL, status_code=500, text="boom")
        with pytest.raises(AirbyteTracedException) as raised:
            authenticator().get_access_token()
    assert raised.value.failure_type == FailureType.transient_error
    assert mock.call_count == 5 and "run the sync again" in raised.value.message


def test_a_401_refreshes_once_per_token_and_not_again_for_a_token_it_just_got() -> None:
    auth = authenticator(oauth(access_token="access-1", token_expiry_date="2999-01-01T00:00:00Z"))
    with requests_mock.Mocker() as mock:
        mock.post(TOKEN_URL, [{"json": issued(2)}, {"json": issued(3)}])
        assert auth.recover_from_unauthorized("access-1") is True  # refreshed
        assert auth.recover_from_unauthorized("access-1") is True  # another worker: the token changed already
        assert auth.recover_from_unauthorized("access-2") is False  # the new one refused too: give up
    assert mock.call_count == 1
