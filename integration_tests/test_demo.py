"""The README's demo (`bash scripts/demo.sh`, "Try it"), run as that script runs it: `scripts/demo.py` with the
venv's python (demo.sh only runs scripts/setup.sh before it), writing into a temporary `--out`.

It must exit 0, write the files it names, carry the organization's changes through the incremental read, and
write nothing into the repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import REPO, catalog

DEMO = REPO / "scripts" / "demo.py"
# Not the repository's content: caches, virtual environments, git's own files.
NOT_CONTENT = {".git", ".venv", ".venv-pyairbyte", "__pycache__", ".pytest_cache", ".ruff_cache", "mutants", ".tmp"}


def repository_files() -> dict[str, tuple[int, int]]:
    """Every file of the working tree (outside caches and venvs): path -> (size, mtime)."""
    files = {}
    for directory, subdirectories, names in os.walk(REPO):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_CONTENT]
        for name in names:
            path = Path(directory, name)
            if name != ".git":
                stat = path.stat()
                files[str(path.relative_to(REPO))] = (stat.st_size, stat.st_mtime_ns)
    return files


def run_demo(out: Path, *args: str, through_demo_sh: bool = False) -> subprocess.CompletedProcess[str]:
    """demo.py with the venv's python; or the README's `bash scripts/demo.sh` (setup.sh first: on a set-up .venv,
    `uv sync --frozen` changes nothing), which passes its arguments on."""
    before = repository_files()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # the script finds the repo
    command = ["bash", str(DEMO.with_suffix(".sh"))] if through_demo_sh else [sys.executable, str(DEMO)]
    done = subprocess.run(
        [*command, "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert repository_files() == before, "the demo wrote into the repository"
    return done


def json_file(path: Path) -> Any:
    assert path.is_file() and path.stat().st_size > 0, f"{path.name} missing or empty"
    return json.loads(path.read_text())


def messages(path: Path) -> list[dict[str, Any]]:
    assert path.is_file() and path.stat().st_size > 0, f"{path.name} missing or empty"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def records(read: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"]["data"] for m in read if m["type"] == "RECORD" and m["record"]["stream"] == stream]


def by_uri(read: list[dict[str, Any]], stream: str) -> dict[str, dict[str, Any]]:
    return {record["uri"]: record for record in records(read, stream)}


def streams_in(state: list[dict[str, Any]]) -> set[str]:
    assert all(s["type"] == "STREAM" for s in state)
    return {s["stream"]["stream_descriptor"]["name"] for s in state}


def check_the_demos_output(out: Path, stdout: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The six files the demo says it writes, and the changes it made, in the incremental read."""
    configured = json_file(out / "catalog.json")
    assert configured == catalog()
    incremental = {s["stream"]["name"] for s in configured["streams"] if s["sync_mode"] == "incremental"}
    config = json_file(out / "config.json")
    assert config["api_url"].startswith("http://127.0.0.1:")
    first, second = messages(out / "first-read.jsonl"), messages(out / "incremental-read.jsonl")
    first_state = json_file(out / "state-after-first-read.json")
    second_state = json_file(out / "state-after-incremental-read.json")
    assert incremental <= streams_in(first_state) and incremental <= streams_in(second_state)
    assert first_state != second_state  # both kept: the incremental read's own state does not replace the first
    for name in ("config.json", "catalog.json", "state-after-first-read.json", "state-after-incremental-read.json",
                 "first-read.jsonl", "incremental-read.jsonl"):  # fmt: skip
        assert str(out / name) in stdout, f"the demo does not say where {name} is"

    # Each change the demo reports making ("Meanwhile, in Calendly:") came through the incremental read.
    booked = re.search(r"booked (\S+) for tomorrow", stdout)
    canceled = re.search(r"canceled (\S+) \(starts", stdout)
    no_show = re.search(r"marked invitee (\S+) of a recent meeting as a no-show", stdout)
    submission = re.search(r"a new submission (\S+) of routing form", stdout)
    assert booked and canceled and no_show and submission, stdout
    events = by_uri(second, "scheduled_events")
    assert events[booked[1]]["status"] == "active"
    assert events[canceled[1]]["status"] == "canceled"
    assert by_uri(second, "event_invitees")[no_show[1]]["no_show"] is not None
    assert submission[1] in by_uri(second, "routing_form_submissions")
    assert submission[1] not in by_uri(first, "routing_form_submissions")
    # ...and little else: from the first read's state, an incremental read does not read history again.
    first_count = sum(len(records(first, stream)) for stream in incremental)
    second_count = sum(len(records(second, stream)) for stream in incremental)
    assert first_count > 1000 and second_count < first_count / 20, (first_count, second_count)
    return first, second


def test_the_demo_writes_what_it_says_and_the_incremental_read_carries_its_changes(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    done = run_demo(out)
    check_the_demos_output(out, done.stdout)
    config = json_file(out / "config.json")
    assert config["personal_access_token"] not in done.stdout + done.stderr


def test_the_oauth_demo_rotates_its_refresh_token_and_saves_the_last_config(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    done = run_demo(out, "--auth", "oauth")
    first, second = check_the_demos_output(out, done.stdout)
    configs = [m["control"]["connectorConfig"]["config"] for m in first + second if m["type"] == "CONTROL"]
    assert len(configs) >= 2  # 5-second access tokens: each read outlives at least one
    assert len({c["credentials"]["refresh_token"] for c in configs}) == len(configs)  # single-use: a new one each
    assert json_file(out / "config.json") == configs[-1]
    for config in configs:
        for secret in ("refresh_token", "access_token", "client_secret"):
            assert config["credentials"][secret] not in done.stdout + done.stderr


@pytest.mark.parametrize(("token", "through_demo_sh"), [("member", True), ("no_teams", False)])
def test_the_demo_as_another_user_runs_the_first_read_only(tmp_path: Path, token: str, through_demo_sh: bool) -> None:
    out = tmp_path / "demo-output"
    done = run_demo(out, "--token", token, through_demo_sh=through_demo_sh)
    first = messages(out / "first-read.jsonl")
    assert any(m["type"] == "RECORD" for m in first)
    assert streams_in(json_file(out / "state-after-first-read.json"))
    assert not (out / "incremental-read.jsonl").exists()
    assert f"token '{token}'" in done.stdout


def test_the_demos_options_in_the_readme_parse() -> None:
    """`--token member|no_teams` and `--auth oauth` run above; `--token-lifetime` (README, OAuth) only parses here."""
    done = subprocess.run(
        [sys.executable, str(DEMO), "--auth", "oauth", "--token-lifetime", "2", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "--token-lifetime" in done.stdout, done.stderr
