"""Error paths, pagination safety and secrecy, owned by the base stream (exercised through real reads)."""

import json
import logging
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
import requests
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.rate_budget import RateBudget
from source_calendly.source import build_context
from source_calendly.streams import EventTypes
from source_calendly.streams.base import CalendlyStream, Keyset, _ListingProgress, settle_environment, uuid_of
from source_calendly.transport import DeadlineAdapter
from unit_tests.fake_api import ADMIN_TOKEN, EXPIRED_TOKEN, FakeCalendly, Fault, days, event
from unit_tests.helpers import config, error_messages, failure_types, records, run_read, uris

REAL_WAIT_NEEDED = RateBudget._wait_needed  # taken before the autouse fixture makes every wait zero
HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def event_types(n: int) -> list[dict]:
    return [{"uri": f"https://api.calendly.com/event_types/t{i:03}", "name": f"T{i}"} for i in range(n)]


def test_every_page_of_a_full_refresh_stream_is_read_with_count_100(api: FakeCalendly) -> None:
    api.event_types = event_types(230)
    out = run_read(["event_types"])
    assert uris(out, "event_types") == [t["uri"] for t in api.event_types]
    assert [q["count"] for q in api.paths("/event_types")] == [["100"]] * 3


def test_401_fails_with_how_to_get_a_new_token(api: FakeCalendly) -> None:
    out = run_read(["event_types"], {"personal_access_token": "wrong"}, expect_error=True)
    [first, *_] = out.errors
    assert first.trace.error.failure_type == FailureType.config_error
    assert "invalid or expired" in first.trace.error.message
    assert "Integrations & Apps > API & Webhooks" in first.trace.error.message


def test_403_on_organization_data_names_the_admin_or_owner_role(api: FakeCalendly) -> None:
    api.faults.append(
        Fault("/event_types", 403, {"title": "Permission Denied", "message": "You do not have permission"})
    )
    out = run_read(["event_types"], expect_error=True)
    message = error_messages(out)[0]
    assert "admin or owner" in message and "You do not have permission" in message
    assert out.errors[0].trace.error.failure_type == FailureType.config_error


def test_403_for_missing_scopes_names_them(api: FakeCalendly) -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["event_types:read"]}
    api.faults.append(Fault("/event_types", 403, body))
    out = run_read(["event_types"], expect_error=True)
    assert "event_types:read" in error_messages(out)[0]
    assert failure_types(out)[0] == FailureType.config_error


def test_429_waits_for_the_reset_header_then_retries(api: FakeCalendly) -> None:
    api.event_types = event_types(3)
    api.faults.append(Fault("/event_types", 429, {"title": "Too Many Requests"}, {"X-RateLimit-Reset": "20"}))
    waits: list[float] = []

    def spy(budget: RateBudget, now: float) -> float:  # the budget's real wait, recorded but not slept
        waits.append(REAL_WAIT_NEEDED(budget, now))
        return 0.0

    with patch.object(RateBudget, "_wait_needed", spy):
        out = run_read(["event_types"])
    assert len(uris(out, "event_types")) == 3
    assert len(api.paths("/event_types")) == 2
    assert 19.9 <= max(waits) <= 20.2  # the retry waited for X-RateLimit-Reset (plus a small margin)


def test_500_is_retried_then_succeeds(api: FakeCalendly) -> None:
    api.event_types = event_types(3)
    api.faults.append(Fault("/event_types", 500, times=2))
    out = run_read(["event_types"])
    assert len(uris(out, "event_types")) == 3
    assert len(api.paths("/event_types")) == 3


def test_retries_are_bounded(api: FakeCalendly) -> None:
    api.faults.append(Fault("/event_types", 503, HTML_PAGE, times=100))
    out = run_read(["event_types"], config(max_retries=3), expect_error=True)
    assert len(api.paths("/event_types")) == 4  # the first try and three retries
    message = error_messages(out)[0]
    assert "GET /event_types (stream event_types)" in message and "4 times" in message and "4 HTTP 503" in message
    assert out.errors[0].trace.error.failure_type == FailureType.transient_error


def test_json_cut_short_is_retried_to_the_budget_then_fails_naming_stream_and_endpoint(api: FakeCalendly) -> None:
    api.faults.append(Fault("/event_types", 200, '{"collection": [{"uri": "x"', times=100))
    out = run_read(["event_types"], config(max_retries=4), expect_error=True)
    message = error_messages(out)[0]
    assert "5 malformed body" in message and "event_types" in message and "GET /event_types" in message
    assert len(api.paths("/event_types")) == 5
    assert failure_types(out)[0] == FailureType.transient_error


@pytest.mark.parametrize(("body", "named"), [(HTML_PAGE, "a page that is not JSON"), ("", "an empty body")])
def test_a_page_that_is_not_calendlys_is_named_after_three_attempts(api: FakeCalendly, body: str, named: str) -> None:
    # A captive portal or a proxy's block page answers 200 with HTML (or nothing): no retry budget fixes that.
    api.faults.append(Fault("/event_types", 200, body, times=100))
    out = run_read(["event_types"], expect_error=True)
    message = error_messages(out)[0]
    assert message.startswith("Something other than Calendly answers at https://api.calendly.com: GET /event_types")
    assert f"HTTP 200 with {named} 3 times in a row" in message and "captive portal" in message
    assert "run the sync again" not in message
    assert len(api.paths("/event_types")) == 3
    assert failure_types(out)[0] == FailureType.config_error


def test_pages_that_are_not_calendlys_must_come_three_in_a_row_to_be_named(api: FakeCalendly) -> None:
    # A proxy page now and then, between other failures, is a flaky network: retried, and the sync goes on.
    api.event_types = event_types(2)
    for fault in [(200, HTML_PAGE), (200, HTML_PAGE), (503, {}), (200, HTML_PAGE), (200, HTML_PAGE)]:
        api.faults.append(Fault("/event_types", *fault))
    assert len(uris(run_read(["event_types"]), "event_types")) == 2
    assert len(api.paths("/event_types")) == 6


def test_an_unexpected_shape_fails_clearly(api: FakeCalendly) -> None:
    api.faults.append(Fault("/event_types", 200, {"data": []}, times=1))
    out = run_read(["event_types"], expect_error=True)
    message = error_messages(out)[0]
    assert "event_types" in message and "collection" in message
    assert failure_types(out)[0] == FailureType.system_error


def test_a_truncated_body_is_retried(api: FakeCalendly) -> None:
    api.event_types = event_types(2)
    api.faults.append(Fault("/event_types", 200, '{"collection": [{"uri": "x"', times=1))
    assert len(uris(run_read(["event_types"]), "event_types")) == 2


def test_a_repeated_page_token_is_an_error_not_an_endless_loop(api: FakeCalendly) -> None:
    api.event_types = event_types(350)
    api.repeat_token = True
    out = run_read(["event_types"], expect_error=True)
    assert "came back twice" in error_messages(out)[0]
    assert failure_types(out)[0] == FailureType.system_error
    assert len(api.paths("/event_types")) == 2  # the second page repeats the token: stop there


def test_a_page_token_cycle_is_an_error_not_an_endless_loop(api: FakeCalendly) -> None:
    # A -> B -> A: no page repeats the token it was asked with, but the listing would go round forever.
    api.event_types = event_types(3)
    a, b = "A-0123456789abcdef", "B-0123456789abcdef"  # the message shows a token's first 12 characters only
    next_token = {None: a, a: b, b: a}
    asked: list[str | None] = []
    original = api._route

    def cycling(path, q, user):  # type: ignore[no-untyped-def]
        if path != "/event_types":
            return original(path, q, user)
        token = q.get("page_token", [None])[0]
        asked.append(token)
        # Bounded, so that a connector without the guard ends (with duplicates) instead of hanging the test.
        following = next_token[token] if len(asked) < 10 else None
        record = api.event_types[[None, a, b].index(token)]
        return 200, {"collection": [record], "pagination": {"next_page_token": following, "next_page": None}}

    api._route = cycling  # type: ignore[method-assign]
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0] == (
        "Calendly returned an unexpected response for stream event_types at GET /event_types: the page token "
        "A-0123456789… came back twice (it would loop forever). Run the sync again; if it persists, Calendly's "
        "API may have changed: report it with this message."
    )
    assert failure_types(out)[0] == FailureType.system_error
    assert asked == [None, a, b]  # stopped before asking for A again
    assert uris(out, "event_types") == [t["uri"] for t in api.event_types]  # nothing twice


def test_a_redirect_is_not_followed(api: FakeCalendly) -> None:
    assert api.mocker is not None
    target = api.mocker.get("https://evil.example/steal", json={"collection": [], "pagination": {}})
    api.faults.append(Fault("/event_types", 302, "", {"Location": "https://evil.example/steal"}))
    out = run_read(["event_types"], expect_error=True)
    assert "redirect" in error_messages(out)[0] and "api_url" in error_messages(out)[0]
    assert failure_types(out)[0] == FailureType.config_error
    # Checked where the redirect points: the API's own request log only ever holds the API host's paths.
    assert not target.called


def test_the_token_appears_nowhere_in_the_output(api: FakeCalendly) -> None:
    api.add_event(event("e1", days(1), days(-1)))
    api.faults.append(Fault("/scheduled_events$", 500, times=100))
    api.faults.append(Fault("/event_types", 403, {"title": "Permission Denied", "message": "no"}))
    outputs = [
        run_read(["scheduled_events", "event_types"], expect_error=True),
        run_read(["event_types"], {"personal_access_token": ADMIN_TOKEN + "x"}, expect_error=True),
    ]
    for out in outputs:
        text = "\n".join(json.dumps(str(m)) for m in out._messages)
        assert "unit-admin-token" not in text
        assert records(out, "event_types") == []


def test_debug_logs_of_requests_never_show_the_token_even_with_whitespace_around_it(
    api: FakeCalendly, caplog: pytest.LogCaptureFixture
) -> None:
    # With --debug the CDK logs every outbound request with its headers. The token sent is the stripped one,
    # which is not the config's value, so the CDK's own masking of the config's secrets does not cover it.
    # In a process those records go through the CDK's formatter to stdout; here they are formatted the same way.
    caplog.set_level(logging.DEBUG)
    api.event_types = event_types(2)
    out = run_read(["event_types"], config(personal_access_token=f" {ADMIN_TOKEN}\n"), debug=True)
    assert len(uris(out, "event_types")) == 2  # the stripped token was accepted
    formatter = AirbyteLogFormatter()
    printed = [formatter.format(record) for record in caplog.records]
    printed += [json.dumps(str(m)) for m in out._messages]
    assert any("Making outbound API request" in line and "Bearer" in line for line in printed), "no request logged"
    assert not [line for line in printed if ADMIN_TOKEN in line]


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def clear_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_requests_use_the_proxy_and_ca_bundle_of_the_environment(
    api: FakeCalendly, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate-ca.pem")
    api.event_types = event_types(3)
    run_read(["event_types"])
    assert api.sent, "no request reached the API"
    for request in api.sent:
        assert request.proxies.get("https") == "http://proxy.internal:3128"
        assert request.verify == "/etc/ssl/corporate-ca.pem"


def test_no_proxy_for_the_api_host_is_honoured(api: FakeCalendly, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "api.calendly.com")
    api.event_types = event_types(3)
    run_read(["event_types"])
    assert api.sent and all("https" not in request.proxies for request in api.sent)
    assert all(request.verify is True for request in api.sent)


def test_the_environment_is_read_once_not_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxy_environment(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://first.internal:3128")
    session = requests.Session()
    settle_environment(session, "https://api.calendly.com/")
    monkeypatch.setenv("HTTPS_PROXY", "http://second.internal:3128")
    settings = session.merge_environment_settings("https://api.calendly.com/users/me", {}, None, None, None)
    assert settings["proxies"] == {"https": "http://first.internal:3128"}
    assert session.trust_env is False


def test_listing_progress_skips_exactly_what_earlier_pages_yielded_across_ties() -> None:
    progress = _ListingProgress(Keyset(field="start_time", param="min_start_time"))

    def rec(uri: str, start: str) -> dict[str, str]:
        return {"uri": uri, "start_time": f"2025-01-01T00:00:0{start}.000000Z"}

    progress.note_page([rec("a", "1"), rec("b", "2"), rec("c", "3"), rec("d", "3")])
    progress.note_page([rec("e", "3"), rec("f", "3")])  # a whole page on the same start time
    assert progress.restart_params({"count": "100"})["min_start_time"] == "2025-01-01T00:00:02.000000Z"  # 1 s early
    replay = [rec("c", "3"), rec("d", "3"), rec("e", "3"), rec("f", "3"), rec("g", "3"), rec("h", "4")]
    assert [r["uri"] for r in replay if not progress.already_yielded(r)] == ["g", "h"]
    assert progress.already_yielded(rec("b", "2"))

    progress.note_page([rec("g", "3"), rec("h", "4")])  # the boundary moves on: only "h" sits on it now
    assert [r["uri"] for r in (rec("g", "3"), rec("h", "4"), rec("i", "4")) if not progress.already_yielded(r)] == ["i"]


def test_listing_progress_without_keyset_remembers_every_uri() -> None:
    progress = _ListingProgress(None)
    progress.note_page([{"uri": "a"}, {"uri": "b"}])
    progress.note_page([])
    assert [u for u in "abc" if not progress.already_yielded({"uri": u})] == ["c"]


@pytest.mark.parametrize(
    "uri, segment",
    [
        ("https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2", "GBGBDCAADAEDCRZ2"),
        ("https://api.calendly.com/scheduled_events/ABCX/", "ABCX"),  # a trailing slash; an id ending in X
        ("https://api.calendly.com/scheduled_events/a b?c=1", "a%20b%3Fc%3D1"),  # never a query of its own
    ],
)
def test_request_paths_use_only_the_id_at_the_end_of_a_uri(uri: str, segment: str) -> None:
    assert uuid_of(uri) == segment


def test_listing_progress_before_any_page_has_yielded_nothing_and_restarts_from_the_start() -> None:
    progress = _ListingProgress(Keyset(field="start_time", param="min_start_time"))
    assert not progress.already_yielded({"uri": "a", "start_time": "2025-01-01T00:00:00.000000Z"})
    assert progress.restart_params({"count": "100"}) == {"count": "100"}
    assert _ListingProgress(None).restart_params({"count": "100"}) == {"count": "100"}


def test_listing_progress_keeps_records_whose_sort_value_cannot_be_read() -> None:
    progress = _ListingProgress(Keyset(field="start_time", param="min_start_time"))
    progress.note_page([{"uri": "a", "start_time": "2025-01-01T00:00:05.000000Z"}])
    assert not progress.already_yielded({"uri": "b", "start_time": None})
    assert not progress.already_yielded({"uri": "c", "start_time": "garbled"})


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"collection": []}, "'pagination' is missing"),
        ({"collection": [1, 2], "pagination": {}}, "'collection' is not a list of objects"),
        ([], "the body is not a JSON object"),
    ],
)
def test_an_unexpected_envelope_fails_naming_stream_endpoint_and_problem(
    api: FakeCalendly, body: object, problem: str
) -> None:
    api.faults.append(Fault("/event_types", 200, body))
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0] == (
        f"Calendly returned an unexpected response for stream event_types at GET /event_types: {problem}. Run the "
        "sync again; if it persists, Calendly's API may have changed: report it with this message."
    )


def test_page_tokens_rejected_without_progress_say_how_often(api: FakeCalendly) -> None:
    api.event_types = event_types(150)
    original = api._route

    rejected = []

    def reject_every_token(path, q, user):  # type: ignore[no-untyped-def]
        # Bounded, so that a connector that never gives up ends (wrongly, without the error) instead of hanging.
        if path == "/event_types" and "page_token" in q and len(rejected) < 50:
            rejected.append(q["page_token"])
            return 400, {"title": "Invalid Argument", "details": [{"parameter": "page_token", "message": "is invalid"}]}
        return original(path, q, user)

    api._route = reject_every_token  # type: ignore[method-assign]
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0] == (
        "Calendly kept rejecting page tokens for stream event_types at GET /event_types (6 times in a row, with no "
        "new record in between). Run the sync again; it resumes from its last checkpoint."
    )


def test_a_tolerated_status_a_stream_does_not_handle_is_an_unexpected_response(api: FakeCalendly) -> None:
    class Teapots(EventTypes):
        tolerated_statuses = frozenset({418})

    api.faults.append(Fault("/event_types", 418, {"title": "I'm a teapot"}))
    stream = Teapots(context=build_context(config(), logging.getLogger("test")))
    with pytest.raises(AirbyteTracedException) as error:
        list(stream.list("event_types", {}))
    assert error.value.failure_type == FailureType.system_error
    assert error.value.message.startswith(
        "Calendly returned an unexpected response for stream event_types at GET /event_types: unexpected HTTP 418."
    )


def reject_page_tokens(api: FakeCalendly, times_each: int) -> list[str]:
    """Calendly refuses every page token of /event_types `times_each` times before accepting it (an expired token,
    say, while Calendly is slow); returns the tokens refused, in order."""
    original = api._route
    refused: list[str] = []

    def route(path, q, user):  # type: ignore[no-untyped-def]
        token = q.get("page_token", [None])[0]
        if path == "/event_types" and token is not None and refused.count(token) < times_each:
            refused.append(token)
            return 400, EXPIRED_TOKEN
        return original(path, q, user)

    api._route = route  # type: ignore[method-assign]
    return refused


def test_an_expired_page_token_restarts_the_listing_without_yielding_anything_twice(api: FakeCalendly) -> None:
    api.event_types = event_types(250)
    refused = reject_page_tokens(api, times_each=1)
    out = run_read(["event_types"])
    assert uris(out, "event_types") == [t["uri"] for t in api.event_types]  # each once, in order
    assert len(refused) == 2  # the tokens of pages 2 and 3
    # page 1, page 2 refused, page 1 again, page 2, page 3 refused, page 1, page 2, page 3
    assert [q.get("page_token") is None for q in api.paths("/event_types")] == [
        True, False, True, False, False, True, False, False
    ]  # fmt: skip
    assert all(q["count"] == ["100"] for q in api.paths("/event_types"))  # a restart keeps the query
    restarts = [m.log.message for m in out.logs if "expired a page token" in m.log.message]
    assert restarts == ["Stream event_types: Calendly expired a page token at GET /event_types; restarting."] * 2


def test_up_to_five_refused_page_tokens_in_a_row_are_restarted_and_progress_resets_the_count(
    api: FakeCalendly,
) -> None:
    api.event_types = event_types(250)
    refused = reject_page_tokens(api, times_each=5)  # ten refusals in all, never more than five in a row
    out = run_read(["event_types"])
    assert uris(out, "event_types") == [t["uri"] for t in api.event_types]
    assert len(refused) == 10 and not out.errors


def test_page_tokens_refused_more_than_five_times_in_a_row_are_a_transient_error(api: FakeCalendly) -> None:
    api.event_types = event_types(150)
    refused = reject_page_tokens(api, times_each=6)
    out = run_read(["event_types"], expect_error=True)
    assert len(refused) == 6
    error = out.errors[0]
    assert error.trace.error.failure_type == FailureType.transient_error  # Airbyte retries the sync
    assert error.trace.error.internal_message == error.trace.error.message
    assert uris(out, "event_types") == [t["uri"] for t in api.event_types[:100]]  # the first page, once


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"name": "no uri", "slug": "x"}, "record 2 of the page has no 'uri' (the primary key; keys: name, slug)"),
        ({"uri": "", "name": "empty"}, "record 2 of the page has no 'uri' (the primary key; keys: name, uri)"),
        ({"uri": 7}, "record 2 of the page has no 'uri' (the primary key; keys: uri)"),
    ],
)
def test_a_record_without_its_primary_key_fails_naming_its_place_and_keys(
    api: FakeCalendly, bad: dict, problem: str
) -> None:
    body = {"collection": [event_types(1)[0], bad], "pagination": {"next_page_token": None}}
    api.faults.append(Fault("/event_types", 200, body))
    out = run_read(["event_types"], expect_error=True)
    assert error_messages(out)[0].startswith(
        f"Calendly returned an unexpected response for stream event_types at GET /event_types: {problem}."
    )
    assert failure_types(out)[0] == FailureType.system_error
    assert records(out, "event_types") == []  # nothing of a malformed page is emitted


def test_requests_are_sent_with_the_configured_timeout_capped_per_read(api: FakeCalendly) -> None:
    api.event_types = event_types(3)
    run_read(["event_types"], config(request_timeout_seconds=2.5))
    assert api.sent and all(request.timeout == (10.0, 2.5) for request in api.sent)
    api.sent.clear()
    run_read(["event_types"], config(request_timeout_seconds=3600))  # one read never waits more than a minute
    assert api.sent and all(request.timeout == (10.0, 60.0) for request in api.sent)


def stream_for(cfg: dict) -> EventTypes:
    return EventTypes(context=build_context(cfg, logging.getLogger("test")))


def test_a_single_resource_is_read_from_its_envelope(api: FakeCalendly) -> None:
    resource, response = stream_for(config()).fetch_resource("users/me", {"x": "1"})
    assert resource["uri"] == "https://api.calendly.com/users/admin-1" and response.status_code == 200
    assert api.paths("/users/me")[-1] == {"x": ["1"]}


@pytest.mark.parametrize("body", [{"resource": ["x"]}, {"collection": []}])
def test_a_single_resource_without_its_object_is_an_unexpected_response(api: FakeCalendly, body: object) -> None:
    api.faults.append(Fault("/users/me", 200, body))
    with pytest.raises(AirbyteTracedException) as error:
        stream_for(config()).fetch_resource("users/me")
    assert error.value.failure_type == FailureType.system_error
    assert error.value.message.startswith(
        "Calendly returned an unexpected response for stream event_types at GET /users/me: 'resource' is not an object."
    )


def test_a_tolerated_status_on_a_single_resource_is_left_to_the_stream(api: FakeCalendly) -> None:
    class Teapots(EventTypes):
        tolerated_statuses = frozenset({418})

    api.faults.append(Fault("/users/me", 418, {"title": "I'm a teapot"}))
    stream = Teapots(context=build_context(config(), logging.getLogger("test")))
    with pytest.raises(AirbyteTracedException) as error:
        stream.fetch_resource("users/me")
    assert "GET /users/me: unexpected HTTP 418." in error.value.message


@pytest.mark.parametrize("url", ["https://api.calendly.com/event_types", "http://127.0.0.1:8765/event_types"])
def test_every_request_goes_through_the_deadline_adapter_with_the_configured_timeout(url: str) -> None:
    # Without it a response that never finishes would hang the sync: request_timeout_seconds bounds each answer.
    stream = EventTypes(context=build_context(config(request_timeout_seconds=42.5), logging.getLogger("test")))
    adapter = stream._session.get_adapter(url)
    assert isinstance(adapter, DeadlineAdapter) and adapter.total_seconds == 42.5


def test_retries_run_out_naming_the_api_host(api: FakeCalendly) -> None:
    api.faults.append(Fault("/event_types", 503, HTML_PAGE, times=100))
    out = run_read(["event_types"], config(max_retries=1), expect_error=True)
    assert (
        "usually temporary, at Calendly or on the network to api.calendly.com: run the sync" in error_messages(out)[0]
    )


def test_a_rate_limit_that_stays_exhausted_ends_with_calendly_s_figures(api: FakeCalendly) -> None:
    headers = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"}
    api.faults.append(Fault("/event_types", 429, {"title": "Too Many Requests"}, headers, times=100))
    out = run_read(["event_types"], config(max_retries=2), expect_error=True)
    assert len(api.paths("/event_types")) == 3  # the first try and two retries
    message = error_messages(out)[0]
    assert message.startswith(
        "Calendly's rate limit stayed exhausted: GET /event_types (stream event_types) was refused with HTTP 429 "
        "3 times in "
    )
    # The waits are not slept here (the budget's wait is 0), so the sync waited 0 s in all.
    assert "this sync waited 0 s in all for the limit." in message
    assert "allows the token's user 500 requests per minute and reported 0 left, resetting in 7 s;" in message
    assert out.errors[0].trace.error.failure_type == FailureType.transient_error


@pytest.mark.parametrize(
    "primary_key, record, key",
    [
        ("uri", {"uri": "U"}, "U"),
        (["event_type", "created_at"], {"event_type": "E", "created_at": "T"}, repr(["E", "T"])),
        ([["event_type"], ["availability_rule", "uri"]], {"event_type": "E", "availability_rule": {"uri": "R"}},
         repr(["E", "R"])),
        ([["event_type"], ["availability_rule", "uri"]], {"event_type": "E", "availability_rule": None},
         repr(["E", None])),
    ],
)  # fmt: skip
def test_a_record_key_follows_airbyte_s_primary_key_forms(primary_key: Any, record: dict, key: str) -> None:
    # What a restarted listing skips records by: a field, top-level fields, or paths into nested objects.
    assert CalendlyStream.record_key(SimpleNamespace(primary_key=primary_key), record) == key  # type: ignore[arg-type]
