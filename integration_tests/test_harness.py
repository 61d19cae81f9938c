"""The harness keeps the tests clear of two races (harness._against_sandbox): a sync started in the second of
the sandbox's last change, and requests counted while the sandbox is still answering a dead connector's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import REPO, catalog, connector_process, run_connector

# A connector process that has done its imports and waits to be handed its arguments: a sync that starts
# within milliseconds of run_connector, as on a fast machine (here imports alone take more than a second,
# which hides the race). It runs main with the arguments written to IN and writes its messages to OUT.
WARM_CONNECTOR = """
import os, sys
import source_calendly.source
from source_calendly.run import run
print("ready", flush=True)
arguments = [a for a in open(sys.argv[1]).read().split("\\n") if a]
os.dup2(os.open(sys.argv[2], os.O_WRONLY), 1)
sys.argv = ["main.py", *arguments]
run()
"""


@pytest.fixture
def warm_connector(tmp_path: Path) -> Iterator[list[str]]:
    """The argv for run_connector that hands the arguments to a warm connector process."""
    given, out = tmp_path / "arguments", tmp_path / "messages"
    os.mkfifo(given)
    os.mkfifo(out)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", WARM_CONNECTOR, str(given), str(out)], cwd=REPO, env=env, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"  # its imports are done
        yield ["sh", "-c", f'printf "%s\\n" "$@" > "{given}"; cat "{out}"', "sh"]
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_sync_started_just_after_a_change_starts_in_a_later_second(
    make_sandbox: Any, warm_connector: list[str]
) -> None:
    # The change 20 ms into a second; without the harness's wait the warm connector's sync starts in that
    # second, and the next sync emits the booking once more.
    sandbox: Sandbox = make_sandbox()
    config, events = sandbox_config(sandbox), catalog(["scheduled_events"])
    first = run_connector("read", config, events)
    assert first.returncode == 0, first.stderr[-2000:]
    while not 0.015 < time.time() % 1 < 0.03:
        time.sleep(0.002)
    booked = sandbox.book_event(sandbox.anchor + timedelta(days=2))
    second = run_connector("read", config, events, first.state_messages(), argv=warm_connector)
    assert second.returncode == 0, second.stderr[-2000:]
    assert booked["event"]["uri"] in second.uris("scheduled_events")
    started = _dt(second.states()["scheduled_events"]["last_sync_started_at"])
    assert started > _dt(booked["event"]["updated_at"])
    third = run_connector("read", config, events, second.state_messages())
    assert third.returncode == 0 and third.uris("scheduled_events") == []


def test_the_requests_of_a_killed_connector_are_all_counted_when_it_is_gone(make_sandbox: Any) -> None:
    # Every invitee list takes 300 ms to answer: when the connector is killed at its first invitee, its four
    # workers have requests in flight.
    faults = Faults(latency_ms_median=300, latency_sigma=0, paths=("/scheduled_events/",))
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=41, events=300), faults=faults)
    with connector_process("read", sandbox_config(sandbox, num_workers=4), catalog(["event_invitees"])) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if json.loads(line)["type"] == "RECORD":
                os.kill(process.pid, signal.SIGKILL)
                break
    counted = len(sandbox.request_log)
    sandbox.wait_idle()
    assert len(sandbox.request_log) == counted
    assert process.returncode == -signal.SIGKILL


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
