"""A full sync of every stream, by the real connector process over real HTTP, equals the sandbox's truth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jsonschema
import pytest

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    CORE_STREAMS,
    Run,
    discover_catalog,
    run_connector,
    without_nulls,
)


def truth(sandbox: Sandbox, stream: str) -> list[dict[str, Any]]:
    token = sandbox.tokens.admin
    if stream == "event_invitees":
        return [{**i, "event_uri": i["event"]} for i in sandbox.truth.event_invitees(token)]
    return getattr(sandbox.truth, stream)(token)


@pytest.mark.parametrize("stream", CORE_STREAMS)  # the optional ones: test_optional_streams.py
def test_every_record_equals_the_truth(full_sync: Run, shared_sandbox: Sandbox, stream: str) -> None:
    expected = {r["uri"]: without_nulls(r) for r in truth(shared_sandbox, stream)}
    got = full_sync.records(stream)
    assert len(got) == len({r["uri"] for r in got}), "duplicate primary keys"
    assert {r["uri"] for r in got} == set(expected)
    for record in got:
        assert record == expected[record["uri"]]
    assert expected, "the sandbox should hold data for every stream"


def test_every_invitee_carries_its_events_uri(full_sync: Run, shared_sandbox: Sandbox) -> None:
    events = {e["uri"] for e in full_sync.records("scheduled_events")}
    for invitee in full_sync.records("event_invitees"):
        assert invitee["event_uri"] in events
        assert invitee["uri"].startswith(invitee["event_uri"] + "/invitees/")


def _is_utc_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def test_every_record_is_valid_against_the_discovered_schema(full_sync: Run) -> None:
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(_is_utc_datetime)
    schemas = {s["name"]: s["json_schema"] for s in discover_catalog()["streams"]}
    for stream in ALL_STREAMS:
        validator = jsonschema.Draft7Validator(schemas[stream], format_checker=checker)
        for record in full_sync.records(stream):
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, f"{stream} {record.get('uri')}: {errors[:3]}"


def test_a_clean_sync_logs_no_warning_or_error_and_never_the_token(full_sync: Run, shared_sandbox: Sandbox) -> None:
    assert full_sync.errors() == []
    assert full_sync.warnings() == []
    assert shared_sandbox.tokens.admin not in full_sync.stdout + full_sync.stderr


def test_final_state_of_every_incremental_stream_is_a_completed_pass(full_sync: Run) -> None:
    states = full_sync.states()
    for stream in ("scheduled_events", "event_invitees", "routing_form_submissions"):
        assert "last_sync_started_at" in states[stream] and "pass" not in states[stream]


def test_debug_logs_never_show_the_token_even_with_whitespace_around_it(shared_sandbox: Sandbox) -> None:
    # The token actually sent is the stripped one; debug logs print the outbound request headers.
    token = shared_sandbox.tokens.admin
    config = sandbox_config(shared_sandbox, token=f" {token}\n")
    run = run_connector("check", config, extra_args=["--debug"])
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Making outbound API request" in run.stdout, "the debug log should show the requests"
    assert token not in run.stdout + run.stderr
