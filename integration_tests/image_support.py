"""Helpers for the image tests: build the image with podman, run the connector in and out of the container,
and compare Airbyte protocol output.

No Docker engine and no registry here (see scripts/build_image.sh): the image is built with podman from a local
base (`localbase:bookworm`), and the container reaches the sandbox on the host through `--network host`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import CONNECTOR_FIELDS

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "source-calendly:dev"
LOCAL_BASE = "localbase:bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_SCRIPT = "scripts/build_image.sh"
# Every podman call (here, and through the `docker` shim) reads the project's own settings, as the build script
# does; the host's /etc/containers is never changed.
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf"))
CONTAINER_SECRETS = "/secrets"

# State keys holding the sync's start, read from the server's Date header: two runs differ in them.
SYNC_START_KEYS = frozenset({"last_sync_started_at", "started_at"})


def podman_or_fail() -> str:
    """The podman executable. Skips only when SKIP_IMAGE_TESTS=1; otherwise a missing podman fails."""
    if os.environ.get("SKIP_IMAGE_TESTS") == "1":
        pytest.skip("SKIP_IMAGE_TESTS=1: the image tests were explicitly skipped")
    podman = shutil.which("podman")
    if podman is None:
        pytest.fail(
            f"podman is not installed, so the connector image cannot be built or run. Run `{BUILD_SCRIPT}` first "
            "(it installs podman and builds the image), or set SKIP_IMAGE_TESTS=1 to skip the image tests.",
            pytrace=False,
        )
    return podman


def image_exists(podman: str, image: str) -> bool:
    return subprocess.run([podman, "image", "exists", image], check=False).returncode == 0


def build_image(podman: str, image: str = IMAGE, base: str = LOCAL_BASE) -> float:
    """`podman build` the project's Dockerfile on the local base, as scripts/build_image.sh does. Returns seconds."""
    if not image_exists(podman, base):
        pytest.fail(
            f"The local base image {base} is missing. Run `{BUILD_SCRIPT}` first (it builds it once, ~1 min).",
            pytrace=False,
        )
    command = [podman, "build", "--build-arg", f"BASE_IMAGE={base}", "-t", image]
    if CA_BUNDLE.is_file():  # the build's HTTPS to PyPI goes through a proxy whose CA only the host trusts
        command += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    old_id = image_id(podman, image)
    started = time.monotonic()
    result = subprocess.run([*command, str(ROOT)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"podman build failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    if old_id and old_id != image_id(podman, image):  # drop the previous build, now untagged
        subprocess.run([podman, "rmi", old_id], capture_output=True, check=False)
    return time.monotonic() - started


def image_id(podman: str, image: str) -> str | None:
    result = subprocess.run(
        [podman, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def secrets_dir(path: Path) -> Path:
    """A directory to mount at /secrets: readable by the container's unprivileged airbyte user (uid 1000)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def write_secret(directory: Path, name: str, content: Any) -> Path:
    target = directory / name
    target.write_text(json.dumps(content))
    target.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    return target


def run_container(
    podman: str, image: str, args: list[str], mount: Path | None = None, timeout: float = 300, network: str = "host"
) -> subprocess.CompletedProcess[str]:
    """`podman run --rm --network host [-v mount:/secrets:ro] image args`; file arguments use /secrets/..."""
    command = [podman, "run", "--rm", "--network", network]
    if mount is not None:
        command += ["-v", f"{mount}:{CONTAINER_SECRETS}:ro"]
    return subprocess.run([*command, image, *args], capture_output=True, text=True, timeout=timeout, check=False)


def run_entrypoint(podman: str, image: str, entrypoint: str, args: list[str], timeout: float = 60) -> str:
    """stdout of `podman run --rm --entrypoint <entrypoint> image args`; fails on a non-zero exit."""
    result = subprocess.run(
        [podman, "run", "--rm", "--entrypoint", entrypoint, image, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{entrypoint} {args} in {image} exited {result.returncode}: {result.stderr}"
    return result.stdout


def locked_requirements(path: Path) -> list[tuple[str, str, str | None]]:
    """(name, version, marker or None) of each requirement of an exported requirements file."""
    found = []
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3)))
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run_host(args: list[str], mount: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The same command outside the container: `python main.py args`, /secrets/... mapped to `mount`."""
    if mount is not None:
        prefix = CONTAINER_SECRETS + "/"
        args = [str(mount / arg.removeprefix(prefix)) if arg.startswith(prefix) else arg for arg in args]
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


@dataclass
class Output:
    """The Airbyte messages of one run, by type; non-JSON stdout lines are kept apart."""

    returncode: int
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    other_lines: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, result: subprocess.CompletedProcess[str]) -> Output:
        output = cls(result.returncode, result.stderr)
        for line in result.stdout.splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                output.other_lines.append(line)
                continue
            if isinstance(message, dict) and "type" in message:
                output.messages.append(message)
            else:
                output.other_lines.append(line)
        return output

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]

    def without_logs(self) -> list[dict[str, Any]]:
        """Every message but LOGs; ERROR traces reduced to what does not depend on time or file paths."""
        kept = []
        for message in self.messages:
            if message["type"] == "LOG":
                continue
            if message["type"] == "TRACE":
                trace = message["trace"]
                detail = trace.get("error") or {}
                message = {
                    "type": "TRACE",
                    "trace": {
                        "type": trace["type"],
                        "message": detail.get("message"),
                        "failure": detail.get("failure_type"),
                    },
                }
            kept.append(message)
        return kept

    def error_traces(self) -> list[dict[str, Any]]:
        return [message["trace"] for message in self.of_type("TRACE") if message["trace"].get("type") == "ERROR"]

    def describe(self) -> str:
        errors = [trace["error"].get("message") for trace in self.error_traces()]
        logs = [message["log"]["message"] for message in self.of_type("LOG")][-10:]
        return f"exit {self.returncode}; errors {errors}; last logs {logs}; stderr {self.stderr[-2000:]!r}"

    def records_by_stream(self) -> dict[str, Counter[str]]:
        """stream -> multiset of canonical record data (emitted_at ignored; order ignored, as workers interleave;
        the connector's own fields, such as `_ab_cdc_updated_at`, the sync's start in whole seconds, ignored too:
        two syncs a second apart differ there)."""
        records: dict[str, Counter[str]] = defaultdict(Counter)
        for message in self.of_type("RECORD"):
            record = message["record"]
            data = {k: v for k, v in record["data"].items() if k not in CONNECTOR_FIELDS}
            records[record["stream"]][json.dumps(data, sort_keys=True)] += 1
        return dict(records)

    def stream_states(self) -> list[tuple[str, Any]]:
        """(stream, stream_state) of every per-stream STATE message, in order."""
        return [
            (message["state"]["stream"]["stream_descriptor"]["name"], message["state"]["stream"].get("stream_state"))
            for message in self.of_type("STATE")
        ]

    def final_states(self) -> dict[str, Any]:
        return dict(self.stream_states())

    def state_blob(self) -> list[dict[str, Any]]:
        """The final per-stream STATE messages, as a `--state` file holds them."""
        last: dict[str, dict[str, Any]] = {}
        for message in self.of_type("STATE"):
            last[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        return list(last.values())


def sync_start_values(state: Any) -> set[str]:
    """Every value under a sync-start key (SYNC_START_KEYS), anywhere in a state."""
    found: set[str] = set()
    if isinstance(state, dict):
        for key, value in state.items():
            if key in SYNC_START_KEYS and isinstance(value, str):
                found.add(value)
            found |= sync_start_values(value)
    elif isinstance(state, list | tuple):
        for item in state:
            found |= sync_start_values(item)
    return found


def normalise_state(state: Any, sync_starts: set[str]) -> Any:
    """Replace every value equal to a sync start (also where the cursor was capped at it) by a placeholder."""
    if isinstance(state, dict):
        return {key: normalise_state(value, sync_starts) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return [normalise_state(item, sync_starts) for item in state]
    if isinstance(state, str) and state in sync_starts:
        return "<sync start>"
    return state


DOCKER_SHIM = """#!/bin/sh
# `docker` for the CDK standard suite's image tests on a podman-only machine: every `docker run` gets
# `--network host`, so the container reaches the sandbox on the host's 127.0.0.1 (the connector sends its token
# over plain http only to loopback). The Docker-compatible API of `podman system service` ignores
# containers.conf's netns and always uses a bridge, so the network has to be set per run, here.
if [ "$1" = "run" ]; then shift; exec {podman} run --network host "$@"; fi
exec {podman} "$@"
"""


def write_docker_shim(directory: Path, podman: str) -> Path:
    """Write a `docker` executable into `directory` (prepend it to PATH) that runs podman with host networking."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "docker"
    shim.write_text(DOCKER_SHIM.format(podman=podman))
    shim.chmod(0o755)
    return shim
