from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import DEFAULT_API_URL, CalendlyConfig, future_start_date_warning, validate_api_url


def test_defaults() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": " tok "})
    assert config.token == "tok"
    assert config.start_date is None
    assert config.lookback == timedelta(days=7)
    assert config.api_url == DEFAULT_API_URL
    assert config.num_workers >= 1
    assert config.requests_per_minute is None


def test_start_date_parsed_as_utc() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2024-01-02T03:04:05Z"})
    assert config.start_date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_date_alone_is_midnight_utc() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2020-01-01"})
    assert config.start_date == datetime(2020, 1, 1, tzinfo=UTC)


def test_a_start_date_in_the_future_is_warned_about() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    future = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2026-06-01"})
    past = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2025-06-01"})
    warning = future_start_date_warning(future, now)
    assert warning is not None and "2026-06-01T00:00:00.000000Z is in the future" in warning
    assert future_start_date_warning(past, now) is None
    assert future_start_date_warning(CalendlyConfig.from_mapping({"personal_access_token": "t"}), now) is None


@pytest.mark.parametrize("value, expected", [(None, 300.0), (1, 1.0), (0.5, 0.5)])
def test_request_timeout(value: object, expected: float) -> None:
    raw = (
        {"personal_access_token": "t"}
        if value is None
        else {"personal_access_token": "t", "request_timeout_seconds": value}
    )
    assert CalendlyConfig.from_mapping(raw).request_timeout_seconds == expected


@pytest.mark.parametrize(
    "key, value", [("request_timeout_seconds", 0), ("request_timeout_seconds", "1"), ("max_retries", -1)]
)
def test_bad_request_options_name_the_field(key: str, value: object) -> None:
    with pytest.raises(AirbyteTracedException, match=key):
        CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})


def test_a_token_of_the_wrong_type_is_named_but_not_echoed() -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": 987654321})
    assert "must be a string, not a number" in error.value.message and "987654321" not in error.value.message


@pytest.mark.parametrize("bad", ["2024-13-01T00:00:00Z", "2024-13-01", "yesterday", "2024-01-01T00:00:00+02:00", 5])
def test_bad_start_date_is_a_config_error_that_shows_the_format(bad: object) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": bad})
    assert error.value.failure_type == FailureType.config_error
    assert "YYYY-MM-DDTHH:MM:SSZ" in error.value.message


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://api.calendly.com/", "https://api.calendly.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9/", "http://localhost:9"),
        ("http://[::1]:81", "http://[::1]:81"),
    ],
)
def test_api_url_accepted(url: str, expected: str) -> None:
    assert validate_api_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://api.calendly.com", "http://10.0.0.1", "ftp://x", "api.calendly.com", "https://u:p@h", "https://h?x=1"],
)
def test_api_url_refused(url: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        validate_api_url(url)
    assert error.value.failure_type == FailureType.config_error


@pytest.mark.parametrize(
    "key, value", [("lookback_days", -1), ("lookback_days", "7"), ("num_workers", 0), ("num_workers", 99)]
)
def test_bad_numbers(key: str, value: object) -> None:
    with pytest.raises(AirbyteTracedException, match=key) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})
    assert error.value.failure_type == FailureType.config_error


def test_missing_token_says_where_to_get_one() -> None:
    with pytest.raises(AirbyteTracedException, match="Integrations & Apps > API & Webhooks") as error:
        CalendlyConfig.from_mapping({})
    assert error.value.failure_type == FailureType.config_error
