from datetime import UTC, datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import (
    DEFAULT_API_URL,
    CalendlyConfig,
    config_error,
    format_utc,
    future_start_date_warning,
    parse_utc,
    validate_api_url,
)


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


def test_a_config_error_tells_the_platform_what_it_tells_the_user() -> None:
    error = config_error("start_date is wrong")
    assert error.message == error.internal_message == "start_date is wrong"
    assert error.failure_type == FailureType.config_error


@pytest.mark.parametrize(
    "key, value",
    [("lookback_days", 0), ("lookback_days", 3650), ("num_workers", 1), ("num_workers", 16)],
)
def test_whole_number_options_accept_their_bounds(key: str, value: int) -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})
    assert config.lookback == timedelta(days=value) if key == "lookback_days" else config.num_workers == value


@pytest.mark.parametrize(
    "key, value", [("lookback_days", 3651), ("lookback_days", True), ("num_workers", 17), ("num_workers", 2.0)]
)
def test_whole_number_options_refuse_anything_else_saying_what_is_expected(key: str, value: object) -> None:
    low, high = {"lookback_days": (0, 3650), "num_workers": (1, 16)}[key]
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})
    assert error.value.message == (
        f"{key} must be a whole number from {low} to {high}; got {value!r}. Fix it in the source's configuration, "
        "or remove it to use the default."
    )


def test_default_workers_and_no_rate_cap() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t"})
    assert config.num_workers == 4 and config.requests_per_minute is None


@pytest.mark.parametrize("value", [1, 1.5, 250, 100_000])
def test_requests_per_minute_accepted(value: float) -> None:
    assert CalendlyConfig.from_mapping(
        {"personal_access_token": "t", "requests_per_minute": value}
    ).requests_per_minute == (float(value))


@pytest.mark.parametrize("value", [0, 0.5, 100_001, True, "100"])
def test_requests_per_minute_refused(value: object) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "requests_per_minute": value})
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message == (
        f"requests_per_minute must be a number from 1 to 100000, or empty for no cap; got {value!r}. Fix it in the "
        "source's configuration, or remove it to use what Calendly allows."
    )


@pytest.mark.parametrize("value", [None, ""])
def test_an_empty_start_date_syncs_all_history(value: object) -> None:
    assert CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": value}).start_date is None


@pytest.mark.parametrize("bad", ["2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00"])
def test_start_date_must_be_exactly_the_documented_format(bad: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": bad})
    assert error.value.message == (
        f"start_date {bad!r} is not a valid UTC date: use YYYY-MM-DDTHH:MM:SSZ (for example 2024-01-01T00:00:00Z) "
        "or YYYY-MM-DD (midnight UTC), or leave it empty to sync all history."
    )


def test_a_refused_api_url_says_what_is_allowed() -> None:
    with pytest.raises(AirbyteTracedException) as error:
        validate_api_url("http://api.calendly.com")
    assert error.value.message == (
        "api_url 'http://api.calendly.com' is not allowed: use https://… (default https://api.calendly.com), or "
        "http:// only to a loopback host such as http://127.0.0.1:PORT for the local sandbox."
    )
    with pytest.raises(AirbyteTracedException) as error:
        validate_api_url("https://api.calendly.com/#x")
    assert (
        error.value.message
        == "api_url 'https://api.calendly.com/#x' must not contain credentials, a query or a fragment."
    )


def test_api_url_keeps_a_path_prefix_and_trims_spaces() -> None:
    assert validate_api_url("  https://proxy.example/calendly/ ") == "https://proxy.example/calendly"
    assert validate_api_url("http://127.0.0.2:8") == "http://127.0.0.2:8"  # all of 127/8 is loopback


def test_timestamps_are_utc_whatever_the_machines_time_zone(tokyo: None) -> None:
    assert parse_utc("2024-01-01T09:00:00+09:00") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_utc("2024-01-01T09:00:00+09:00").utcoffset() == timedelta(0)
    assert format_utc(datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))) == "2024-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="has no time zone"):
        parse_utc("2024-01-01T00:00:00")


TOKEN_HELP = (
    "Generate one in Calendly > Integrations & Apps > API & Webhooks > Personal Access Tokens and paste it as a string."
)


def test_the_future_start_date_warning_says_what_a_sync_will_find_and_what_to_do() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2026-06-01T08:30:00Z"})
    assert future_start_date_warning(config, datetime(2026, 1, 1, tzinfo=UTC)) == (
        "start_date 2026-06-01T08:30:00.000000Z is in the future: syncs read no event that starts before it and no "
        "routing form submission created before it, so they will find little or nothing until then. Set a date in "
        "the past, or leave start_date empty to sync all history."
    )


def test_a_start_date_of_right_now_is_not_in_the_future() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": "2026-06-01T08:30:00Z"})
    assert future_start_date_warning(config, datetime(2026, 6, 1, 8, 30, tzinfo=UTC)) is None
    assert future_start_date_warning(config, datetime(2026, 6, 1, 8, 29, 59, tzinfo=UTC)) is not None


@pytest.mark.parametrize(
    "token, named",
    [(True, "boolean"), (12, "number"), (1.5, "number"), (["a"], "list"), ({"k": "v"}, "JSON object"), ((1,), "tuple")],
)
def test_a_token_of_the_wrong_type_names_its_json_type(token: object, named: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": token})
    assert error.value.message == f"personal_access_token must be a string, not a {named}. {TOKEN_HELP}"
    assert error.value.failure_type == FailureType.config_error


@pytest.mark.parametrize("token", [None, "", "   \t"])
def test_a_missing_or_blank_token_says_where_to_get_one(token: object) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": token})
    assert error.value.message == f"personal_access_token is missing or empty. {TOKEN_HELP}"
    assert error.value.failure_type == FailureType.config_error


def test_the_token_actually_sent_is_masked_in_logs() -> None:
    CalendlyConfig.from_mapping({"personal_access_token": "  padded-secret-Qw93  "})
    assert "padded-secret-Qw93" not in filter_secrets("Authorization: Bearer padded-secret-Qw93")


def test_every_option_is_read_from_the_config() -> None:
    config = CalendlyConfig.from_mapping(
        {
            "personal_access_token": "t",
            "start_date": "2024-05-06",
            "lookback_days": 3,
            "api_url": "https://proxy.example/",
            "num_workers": 2,
            "requests_per_minute": 60,
            "request_timeout_seconds": 30,
            "max_retries": 0,
            "history_requests": 100_000,
        }
    )
    assert config == CalendlyConfig(
        token="t",
        start_date=datetime(2024, 5, 6, tzinfo=UTC),
        lookback=timedelta(days=3),
        api_url="https://proxy.example",
        num_workers=2,
        requests_per_minute=60.0,
        request_timeout_seconds=30.0,
        max_retries=0,
        history_requests=100_000,
    )
    assert isinstance(config.requests_per_minute, float) and isinstance(config.request_timeout_seconds, float)


def test_the_defaults_of_the_request_options() -> None:
    config = CalendlyConfig.from_mapping({"personal_access_token": "t", "api_url": ""})
    assert config.api_url == "https://api.calendly.com"
    assert (config.request_timeout_seconds, config.max_retries, config.history_requests) == (300.0, 10, 200)
    assert config.progress_interval_seconds == 15


@pytest.mark.parametrize(
    "key, low, high",
    [
        ("max_retries", 0, 100),
        ("history_requests", 0, 100_000),
        ("lookback_days", 0, 3650),
        ("num_workers", 1, 16),
        ("progress_interval_seconds", 1, 3600),
    ],
)
def test_whole_number_options_have_their_documented_bounds(key: str, low: int, high: int) -> None:
    for value in (low, high):
        assert CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})
    for value in (low - 1, high + 1):
        with pytest.raises(AirbyteTracedException) as error:
            CalendlyConfig.from_mapping({"personal_access_token": "t", key: value})
        assert error.value.message.startswith(f"{key} must be a whole number from {low} to {high}; got {value}.")


@pytest.mark.parametrize("value", [0.1, 3600, 3600.0])
def test_request_timeout_accepts_its_bounds(value: float) -> None:
    assert CalendlyConfig.from_mapping(
        {"personal_access_token": "t", "request_timeout_seconds": value}
    ).request_timeout_seconds == float(value)


@pytest.mark.parametrize("value", [0.09, 3600.5, True, "30", [30]])
def test_request_timeout_refuses_anything_else_saying_the_range_and_default(value: object) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "request_timeout_seconds": value})
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message == (
        f"request_timeout_seconds must be a number of seconds from 0.1 to 3600 (default 300); got {value!r}."
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_start_date_in_both_documented_forms(value: str, expected: datetime) -> None:
    assert CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": value}).start_date == expected


@pytest.mark.parametrize("bad", ["2024-02-29T23:59:59+0000", "2024-2-29", "2024/02/29", "2024-02-29T23:59:5Z"])
def test_start_date_in_any_other_form_is_refused(bad: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        CalendlyConfig.from_mapping({"personal_access_token": "t", "start_date": bad})
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message.startswith(f"start_date {bad!r} is not a valid UTC date: use YYYY-MM-DDTHH:MM:SSZ")


@pytest.mark.parametrize(
    "url", ["https://", "https:///calendly", "http://", "http://localhost.example", "http://127.0.0.1.example"]
)
def test_api_url_without_a_usable_host_is_refused(url: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        validate_api_url(url)
    assert error.value.message.startswith(f"api_url {url!r} is not allowed: use https://…")


@pytest.mark.parametrize(
    "url", ["https://u@h.example", "https://:p@h.example", "https://h.example/#top", "https://h.example?a"]
)
def test_api_url_with_credentials_or_a_query_is_refused(url: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        validate_api_url(url)
    assert error.value.message == f"api_url {url!r} must not contain credentials, a query or a fragment."


def test_calendly_timestamps_in_every_form_it_sends() -> None:
    assert parse_utc("2024-01-01T00:00:00Z") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_utc("2024-01-01T00:00:00.123456+00:00") == datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    assert parse_utc("2024-01-01T00:00:00.5Z").tzinfo == UTC
    assert format_utc(datetime(2024, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "2024-01-01T00:00:00.000005Z"


@pytest.mark.parametrize(
    "url, expected",
    [("https://proxy.example/BOX/", "https://proxy.example/BOX"), ("https://proxy.example//", "https://proxy.example")],
)
def test_api_url_drops_only_trailing_slashes(url: str, expected: str) -> None:
    assert validate_api_url(url) == expected
