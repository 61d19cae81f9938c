"""A concurrent sync killed halfway (SIGKILL, no goodbye) resumes from its last checkpoint without loss."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import REPO, Run, catalog, run_connector
from source_calendly.bounds import MARGIN


def read_until_killed(
    config: dict[str, Any], streams: list[str], states_before_kill: int, state: list[dict[str, Any]] | None = None
) -> Run:
    """Run a read, and SIGKILL it once it has emitted this many STATE messages for event_invitees."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        (Path(tmp) / "catalog.json").write_text(json.dumps(catalog(streams)))
        argv = [sys.executable, str(REPO / "main.py"), "read", "--config", str(Path(tmp) / "config.json"),
                "--catalog", str(Path(tmp) / "catalog.json")]  # fmt: skip
        if state is not None:
            (Path(tmp) / "state.json").write_text(json.dumps(state))
            argv += ["--state", str(Path(tmp) / "state.json")]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO, text=True)
        messages, seen = [], 0
        assert process.stdout is not None
        for line in process.stdout:
            message = json.loads(line)
            messages.append(message)
            if (
                message["type"] == "STATE"
                and message["state"]["stream"]["stream_descriptor"]["name"] == "event_invitees"
            ):
                seen += 1
                if seen == states_before_kill:
                    os.kill(process.pid, signal.SIGKILL)
                    break
        process.wait()
    return Run(process.returncode, messages, "", "")


def test_a_killed_concurrent_sync_resumes_without_loss_or_starting_over(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=41, events=600), faults=Faults(latency_ms_median=2, seed=2)
    )
    config = sandbox_config(sandbox, num_workers=4)
    killed = read_until_killed(config, ["event_invitees"], states_before_kill=5)
    assert killed.returncode == -signal.SIGKILL
    checkpoint = killed.states()["event_invitees"]
    assert "pass" in checkpoint, "killed halfway: the checkpoint holds the unfinished pass"
    requests_before = len(sandbox.request_log)

    resumed = run_connector("read", config, catalog(["event_invitees"]), killed.state_messages())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    everything = {i["uri"] for i in sandbox.truth.event_invitees(sandbox.tokens.admin)}
    got = set(killed.uris("event_invitees")) | set(resumed.uris("event_invitees"))
    assert got == everything
    # Not started over: invitees are read again only for events from the checkpoint's resume point on.
    resume_from = checkpoint["pass"]["resume_from"]
    events = sandbox.truth.scheduled_events(sandbox.tokens.admin)
    remaining = [e for e in events if e["start_time"] >= resume_from]
    assert 0 < len(remaining) < len(events)
    resumed_invitee_requests = sum(1 for e in sandbox.request_log[requests_before:] if e.path.endswith("/invitees"))
    assert resumed_invitee_requests == len(remaining)
    assert "pass" not in resumed.states()["event_invitees"]


def test_a_sync_killed_in_its_history_walk_resumes_the_walk_where_it_stood(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=41, events=600), faults=Faults(latency_ms_median=2, seed=2)
    )
    config = sandbox_config(sandbox, num_workers=4, history_requests=1000)  # the whole history in one sync
    first = run_connector("read", config, catalog(["event_invitees"]))
    assert first.returncode == 0, first.stderr[-2000:]
    events = sandbox.truth.scheduled_events(sandbox.tokens.admin)
    window_start = _dt(first.states()["event_invitees"]["last_sync_started_at"]) - timedelta(days=7)
    history = [e for e in events if _dt(e["start_time"]) < window_start]
    # A no-show late in history: in a slice of the walk after the one the sync is killed in.
    late = next(i for e in history[-60:] for i in sandbox.truth.invitees(e["uri"]) if i["status"] == "active")
    sandbox.mark_no_show(late["uri"])
    time.sleep(1.1)  # the cursor has whole seconds

    killed = read_until_killed(config, ["event_invitees"], states_before_kill=2, state=first.state_messages())
    assert killed.returncode == -signal.SIGKILL
    checkpoint = killed.states()["event_invitees"]
    position = checkpoint["history"]["position"]
    assert "pass" in checkpoint and _dt(history[0]["start_time"]) < _dt(position) < window_start
    requests_before = len(sandbox.request_log)

    resumed = run_connector("read", config, catalog(["event_invitees"]), killed.state_messages())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert late["uri"] in set(killed.uris("event_invitees")) | set(resumed.uris("event_invitees"))
    # The walk went on from where it stood, not from the beginning of history.
    walk_listings = [
        e.query for e in sandbox.request_log[requests_before:]
        if e.path == "/scheduled_events" and "max_start_time" in e.query
    ]  # fmt: skip
    assert walk_listings and _dt(walk_listings[0]["min_start_time"]) == _dt(position) - MARGIN  # just before it
    walked = [e for e in history if _dt(e["start_time"]) >= _dt(position)]
    resumed_history_reads = {
        e.path.split("/")[2]
        for e in sandbox.request_log[requests_before:]
        if e.path.endswith("/invitees") and e.path.split("/")[2] in {h["uri"].rsplit("/", 1)[1] for h in history}
    }
    assert resumed_history_reads == {e["uri"].rsplit("/", 1)[1] for e in walked}
    assert "pass" not in resumed.states()["event_invitees"]


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)
