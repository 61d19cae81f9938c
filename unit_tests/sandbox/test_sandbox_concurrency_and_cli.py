"""Many parallel clients; the CLI as a subprocess (JSON ready line, clean exit on SIGTERM/SIGINT)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from sandbox_helpers import Client

from calendly_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]


def test_parallel_clients_get_consistent_results(ro: Sandbox, acme: str) -> None:
    expected = ro.truth.scheduled_events("admin")
    results: list[list[dict]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(count: int) -> None:
        c = Client(ro, "admin")
        try:
            got = c.all("/scheduled_events", organization=acme, count=count)
            with lock:
                results.append(got)
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=run, args=(5 + i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures
    assert len(results) == 12 and all(r == expected for r in results)


def test_stop_closes_idle_keep_alive_connections(make_sandbox, client) -> None:
    sb = make_sandbox()
    c = client(sb, "admin")
    url = f"{sb.url}/users/me"
    assert c.session.get(url, timeout=5).status_code == 200  # leaves a keep-alive connection open
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        c.session.get(url, timeout=5)
    sb.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = sb.url


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "calendly_sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the process prints exactly one line once it accepts connections
    if not line:
        proc.kill()
        raise AssertionError(proc.stderr.read() if proc.stderr else "no output")
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, ready = _start_cli("--profile", "small", "--seed", "3", "--events", "40", "--rate-limit", "100")
    try:
        assert set(ready) == {"url", "tokens"}
        assert ready["url"].startswith("http://127.0.0.1:")
        assert set(ready["tokens"]) == {
            "admin",
            "member",
            "no_teams",
            "no_routing_scope",
            "no_availability_scope",
            "no_contacts_scope",
            "no_notetaker_scope",
        }
        headers = {"Authorization": f"Bearer {ready['tokens']['admin']}"}
        me = requests.get(f"{ready['url']}/users/me", headers=headers, timeout=10)
        assert me.status_code == 200 and me.headers["X-RateLimit-Limit"] == "100"
        org = me.json()["resource"]["current_organization"]
        events = requests.get(f"{ready['url']}/scheduled_events", params={"organization": org, "count": 100},
                              headers=headers, timeout=10)  # fmt: skip
        assert events.json()["pagination"]["count"] == 40
    finally:
        proc.send_signal(sig)
        try:
            code = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            proc.stderr.close()
    assert code == 0


def test_cli_rejects_unknown_profile() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "calendly_sandbox", "serve", "--profile", "huge"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        timeout=30,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_cli_on_a_busy_port_says_so_in_one_line_naming_the_port_and_the_flag() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "calendly_sandbox", "serve", "--profile", "small", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=REPO,
            timeout=60,
        )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"calendly_sandbox: port {port} on 127.0.0.1 is already in use (another sandbox still running?); "
        "choose another with --port N, or --port 0 for any free port.\n"
    )


def test_cli_plan_option() -> None:
    from calendly_sandbox.__main__ import _parser, _spec

    assert _spec(_parser().parse_args(["serve", "--plan", "teams"])).plan == "teams"
    assert _spec(_parser().parse_args(["serve"])).plan == "enterprise"
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--plan", "gold"])


@pytest.mark.parametrize(
    "flags, group_moves, notes_move, collisions, max_count, min_filters",
    [
        ((), False, True, True, 1000, "inclusive"),
        (
            (
                "--group-changes-move-updated-at",
                "--notes-keep-updated-at",
                "--no-communication-collisions",
                "--activity-log-max-count",
                "100",
                "--exclusive-min-filters",
            ),
            True,
            False,
            False,
            100,
            "exclusive",
        ),
    ],
)
def test_cli_updated_at_knobs(
    flags: tuple[str, ...], group_moves: bool, notes_move: bool, collisions: bool, max_count: int, min_filters: str
) -> None:
    proc, ready = _start_cli("--profile", "small", "--events", "20", *flags)
    try:
        info = requests.get(f"{ready['url']}/_sandbox/info", timeout=10).json()
        assert info["behaviour"]["group_changes_move_updated_at"] is group_moves
        assert info["behaviour"]["notes_move_updated_at"] is notes_move
        assert info["behaviour"]["communication_collisions"] is collisions
        assert info["behaviour"]["activity_log_max_count"] == max_count
        assert info["behaviour"]["min_filters"] == min_filters
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def test_every_serve_command_in_the_readme_parses_and_sets_its_switches() -> None:
    """`serve …` as the README writes it, each time (the by-hand one also runs: test_readme_commands.py)."""
    from calendly_sandbox.__main__ import _parser

    readme = (REPO / "README.md").read_text()
    commands = [flags.split() for flags in re.findall(r"serve((?:\s+--[\w-]+(?: [^\s`#-][^\s`#]*)?)+)", readme)]
    profiles = re.findall(r"`--profile ([\w|]+)`", readme)
    commands += [["--profile", profile] for choices in profiles for profile in choices.split("|")]
    assert len(commands) >= 8 and profiles, commands
    for flags in commands:
        args = _parser().parse_args(["serve", *flags])
        for i, flag in enumerate(flags):
            if flag.startswith("--") and (i + 1 == len(flags) or flags[i + 1].startswith("--")):
                assert getattr(args, flag[2:].replace("-", "_")) is True, flag  # a switch, switched on


def test_serve_help_lists_the_fault_options() -> None:
    """README: "`--help` lists the fault options"."""
    done = subprocess.run(
        [sys.executable, "-m", "calendly_sandbox", "serve", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--fault-rate", "--reset-rate", "--truncated-rate", "--latency-ms-median", "--fault-seed"):
        assert option in done.stdout
