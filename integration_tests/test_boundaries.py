"""Listings from an instant hold whichever way Calendly reads `min_start_time`, `min_occurred_at` and
`min_created_at` ("after this time": inclusive or strict; the sandbox's Behaviour.min_filters runs both ways)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calendly_sandbox import Behaviour, DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    Run,
    as_emitted_all,
    catalog,
    connector_process,
    run_connector,
    without_nulls,
)
from source_calendly.bounds import MARGIN
from source_calendly.config import format_utc, parse_utc

READINGS = pytest.mark.parametrize("reading", ["inclusive", "exclusive"])
CROWDED = (datetime.now(UTC) - timedelta(days=30)).replace(second=0, microsecond=0)  # a whole minute, as bookings are


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)


def crowd(sandbox: Sandbox, n: int) -> set[str]:
    """n one-on-one events that all start at CROWDED."""
    return {sandbox.book_event(CROWDED)["event"]["uri"] for _ in range(n)}


@READINGS
def test_an_expired_page_token_restarted_at_a_crowded_instant_loses_nothing(make_sandbox: Any, reading: str) -> None:
    # A page token expires once 20 other requests were served after it: the invitee requests of a page of events
    # outlast it, so every page of events is restarted, one of them at the instant 150 events share.
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=31, events=300),
        page_token_ttl_seconds=20,
        behaviour=Behaviour(min_filters=reading),
    )
    sandbox.page_tokens._clock = lambda: float(len(sandbox.request_log))  # the lifetime counts requests
    crowd(sandbox, 150)
    run = run_connector("read", sandbox_config(sandbox, num_workers=2), catalog(["event_invitees", "scheduled_events"]))
    assert run.returncode == 0, run.stderr[-2000:]
    events = [e["uri"] for e in sandbox.truth.scheduled_events(sandbox.tokens.admin)]
    assert sorted(run.uris("scheduled_events")) == sorted(events)  # each once
    invitees = [i["uri"] for e in events for i in sandbox.truth.invitees(e)]
    assert sorted(run.uris("event_invitees")) == sorted(invitees)
    restarts = [e.query.get("min_start_time") for e in sandbox.request_log if e.path == "/scheduled_events"]
    assert format_utc(CROWDED - MARGIN) in restarts, "a restart should have begun at the crowded instant"


def read_until(config: dict[str, Any], streams: list[str], stop: Callable[[dict[str, Any]], bool]) -> Run:
    """Run a read and SIGKILL it at the first message `stop` accepts (the messages after it are lost)."""
    with connector_process("read", config, catalog(streams)) as process:
        messages: list[dict[str, Any]] = []
        assert process.stdout is not None
        for line in process.stdout:
            messages.append(json.loads(line))
            if stop(messages[-1]):
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    return Run(process.returncode, messages, "", "")


@READINGS
def test_a_sync_killed_at_a_crowded_instant_resumes_without_loss(make_sandbox: Any, reading: str) -> None:
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=37, events=200), behaviour=Behaviour(min_filters=reading)
    )
    crowd(sandbox, 350)  # checkpoints every 100 records: some stand at the crowded instant

    def checkpoint_in_the_crowd(message: dict[str, Any]) -> bool:
        state = message.get("state", {}).get("stream", {}).get("stream_state", {})
        resume = state.get("pass", {}).get("resume_from")
        return message["type"] == "STATE" and resume is not None and parse_utc(resume) == CROWDED

    config = sandbox_config(sandbox)
    killed = read_until(config, ["scheduled_events"], checkpoint_in_the_crowd)
    assert killed.returncode == -signal.SIGKILL, "the sync should have reached a checkpoint in the crowd"
    resumed = run_connector("read", config, catalog(["scheduled_events"]), state=killed.state_messages())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    events = {e["uri"] for e in sandbox.truth.scheduled_events(sandbox.tokens.admin)}
    assert set(killed.uris("scheduled_events")) | set(resumed.uris("scheduled_events")) == events
    assert len(resumed.uris("scheduled_events")) < len(events)  # resumed, not started over


@READINGS
def test_cursor_streams_continue_without_loss_or_repeats(make_sandbox: Any, reading: str) -> None:
    sandbox: Sandbox = make_sandbox(behaviour=Behaviour(min_filters=reading))
    streams = ["activity_log_entries", "outgoing_communications"]
    config = sandbox_config(sandbox)
    first = run_connector("read", config, catalog(streams))
    assert first.returncode == 0, first.stderr[-2000:]
    for stream in streams:
        truth = [without_nulls(r) for r in as_emitted_all(stream, sandbox.truth.records(stream, sandbox.tokens.admin))]
        assert sorted(map(canonical, first.records(stream))) == sorted(map(canonical, truth))
    cursor = first.states()["activity_log_entries"]["occurred_at"]
    # An entry at the saved cursor's own instant appears only now (written late), and one after it.
    late = sandbox.add_activity_log_entry(action="Late", occurred_at=cursor)["entry"]
    newer = sandbox.add_activity_log_entry(action="Newer")["entry"]
    message = sandbox.add_outgoing_communication()["communication"]
    second = run_connector("read", config, catalog(streams), state=first.state_messages())
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.uris("activity_log_entries") == [late["uri"], newer["uri"]]
    assert second.records("outgoing_communications") == [
        without_nulls(r) for r in as_emitted_all("outgoing_communications", [message])
    ]
    third = run_connector("read", config, catalog(streams), state=second.state_messages())
    assert third.counts() == {}
