"""A hostile network: reset storms, answers that never finish, 429s that never stop (issue #10).

Each test runs the real connector process against the sandbox. Budgets and deadlines are shrunk through the
hidden config options (`max_retries`, `request_timeout_seconds`) so that giving up takes seconds, not minutes.
"""

from __future__ import annotations

from typing import Any

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, Run, catalog, run_connector
from integration_tests.hostile_servers import closed_port
from integration_tests.test_faults import assert_complete


def stream_error(run: Run) -> dict[str, Any]:
    """The failed stream's own error (the CDK's closing summary after it is always a config_error)."""
    assert run.returncode != 0
    errors = run.errors()
    assert errors, run.stderr[-2000:]
    return errors[0]


def test_resets_and_5xx_between_429s_are_ridden_out_and_429s_spend_no_transient_retry(make_sandbox: Any) -> None:
    # The first request (GET /users/me) fails 14 times in a row: 7 transient failures, each followed by a 429.
    # With a budget of 7 retries per request it must still be answered: the 429s spend none of the transient
    # budget. (The CDK's client gave up at the seventh transient failure, the issue's "Exhausted available
    # request attempts", and a reset missed its error mapping: "Unexpected exception in error handler".)
    sandbox: Sandbox = make_sandbox()
    faults = ["reset", "429", "503", "429", "truncated", "429", "reset", "429", "truncated_json", "429", "html",
              "429", "reset", "429"]  # fmt: skip
    sandbox.queue_faults(*(int(f) if f.isdigit() else f for f in faults))
    run = run_connector("read", sandbox_config(sandbox, max_retries=7), catalog(ALL_STREAMS))
    assert_complete(sandbox, run)
    assert [e.fault for e in sandbox.request_log[:15]] == [*faults, None]
    assert {e.endpoint for e in sandbox.request_log[:15]} == {"/users/me"}


def test_a_reset_storm_gives_up_naming_the_endpoint_and_how_often_it_failed(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    sandbox.set_faults(reset_rate=1.0, paths=("/event_types",))
    run = run_connector("read", sandbox_config(sandbox, max_retries=3), catalog(["event_types"]), timeout=120)
    error = stream_error(run)
    assert error["failure_type"] == "transient_error"
    message = error["message"]
    assert "GET /event_types (stream event_types)" in message
    assert "failed 4 times" in message and "4 connection reset" in message
    assert "run the sync again" in message
    assert "Something went wrong" not in message and "Unexpected exception" not in message
    assert sum(1 for e in sandbox.request_log if e.endpoint == "/event_types") == 4


def test_a_storm_of_every_fault_kind_loses_nothing(make_sandbox: Any) -> None:
    # The soak's mix (benchmarks/soak.py) with fewer 429s, whose one-second resets would only add wall time.
    faults = Faults(
        error_rate=0.14,
        error_weights={429: 4, 500: 4, 502: 3, 503: 3},
        reset_rate=0.05,
        truncated_json_rate=0.02,
        html_rate=0.02,
        truncated_rate=0.03,
        latency_ms_median=2,
        seed=10,
    )
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=23), faults=faults)
    run = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS), timeout=600)
    assert_complete(sandbox, run)
    injected = {e.fault for e in sandbox.request_log if e.fault}
    assert injected >= {"429", "500", "502", "503", "reset", "truncated_json", "html", "truncated"}


def test_an_answer_that_trickles_is_cut_at_the_deadline_and_retried(make_sandbox: Any) -> None:
    # Headers, then a byte every 0.3 s: each byte restarts a read timeout, so only a total deadline ends it.
    sandbox: Sandbox = make_sandbox(faults=Faults(trickle_interval_s=0.3))
    sandbox.queue_faults("trickle")
    config = sandbox_config(sandbox, request_timeout_seconds=1.5)
    run = run_connector("read", config, catalog(ALL_STREAMS), timeout=120)
    assert_complete(sandbox, run)
    assert sandbox.request_log[0].fault == "trickle"
    assert any("deadline exceeded" in line for line in run.logs("INFO"))


def test_an_answer_that_never_finishes_fails_as_transient_instead_of_hanging(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(faults=Faults(trickle_rate=1.0, trickle_interval_s=0.3, paths=("/event_types",)))
    config = sandbox_config(sandbox, request_timeout_seconds=1, max_retries=1)
    # Without a total deadline this read runs for hours (a page, one byte each 0.3 s) and the timeout kills it.
    run = run_connector("read", config, catalog(["event_types"]), timeout=90)
    error = stream_error(run)
    assert error["failure_type"] == "transient_error"
    assert "GET /event_types (stream event_types)" in error["message"]
    assert "2 deadline exceeded" in error["message"] and "within 1 s" in error["message"]


def test_429s_that_never_stop_say_the_rate_limit_is_exhausted_and_shared(make_sandbox: Any) -> None:
    faults = Faults(error_rate=1.0, error_weights={429: 1}, paths=("/event_types",))
    sandbox: Sandbox = make_sandbox(rate_limit_per_minute=500, faults=faults)
    run = run_connector("read", sandbox_config(sandbox, max_retries=2), catalog(["event_types"]), timeout=120)
    error = stream_error(run)
    assert error["failure_type"] == "transient_error"
    message = error["message"]
    assert "rate limit stayed exhausted" in message and "GET /event_types (stream event_types)" in message
    assert "HTTP 429 3 times" in message
    assert "500 requests per minute and reported 0 left" in message  # by how much: Calendly's own figures
    assert "shared by every integration of the same Calendly user" in message
    assert sum(1 for e in sandbox.request_log if e.endpoint == "/event_types") == 3


def test_a_captive_portal_is_named_after_three_attempts_not_retried_for_minutes(make_sandbox: Any) -> None:
    # Before issue 19 a read retried an HTML page behind a 200 its whole budget (87-102 s), then advised to run
    # the sync again. A body that is not JSON at all is not a network hiccup: three in a row name it.
    sandbox: Sandbox = make_sandbox()
    sandbox.set_faults(html_rate=1.0, paths=("/event_types",))
    run = run_connector("read", sandbox_config(sandbox), catalog(["event_types"]), timeout=120)
    error = stream_error(run)
    assert error["failure_type"] == "config_error"
    assert error["message"].startswith(f"Something other than Calendly answers at {sandbox.url}: GET /event_types")
    assert "HTTP 200 with a page that is not JSON 3 times in a row" in error["message"]
    assert "run the sync again" not in error["message"]
    assert sum(1 for e in sandbox.request_log if e.endpoint == "/event_types") == 3


def test_json_cut_short_keeps_the_patient_retry_budget(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    sandbox.set_faults(truncated_json_rate=1.0, paths=("/event_types",))
    run = run_connector("read", sandbox_config(sandbox, max_retries=5), catalog(["event_types"]), timeout=120)
    error = stream_error(run)
    assert error["failure_type"] == "transient_error" and "6 malformed body" in error["message"]
    assert sum(1 for e in sandbox.request_log if e.endpoint == "/event_types") == 6


def test_a_read_that_cannot_connect_keeps_its_retries_and_then_says_what_the_failure_means() -> None:
    # A read rides out an outage (the retries), but its message still names the cause, as check does at once.
    api_url = f"http://127.0.0.1:{closed_port()}"
    config = {"personal_access_token": "sandbox-admin-token", "api_url": api_url, "max_retries": 2}
    run = run_connector("read", config, catalog(["event_types"]), timeout=120)
    error = stream_error(run)
    assert error["failure_type"] == "transient_error"
    message = error["message"]
    assert "it failed 3 times" in message
    assert f"That is: nothing answers at {api_url} (the connection was refused): check api_url." in message
    assert "run the sync again" in message
