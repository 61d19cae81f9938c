"""The README's by-hand commands, taken from the README itself so that they cannot drift from what is tested
(issue 19): the ```bash block that starts the sandbox (`python -m calendly_sandbox serve …`), then the block that
writes secrets/config.json and runs spec, check, discover, a read, `scripts/last_state.py` and the incremental
read from its state.

Both blocks run as written, but for the port: `--port 0` instead of 8765 (a free one), and the printed `url` in
place of http://127.0.0.1:8765 in the config. They run in a temporary directory where `.venv`, `scripts` and
`integration_tests` link to the repository's, so `secrets/` and `messages*.jsonl` land there, not in the repository.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import REPO

README = REPO / "README.md"
README_PORT = "8765"


def readme_block(containing: str) -> str:
    """The one ```bash block of the README that contains `containing`."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"README: expected one bash block with {containing!r}, found {len(found)}"
    return found[0]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Where the commands run: a directory like the repository's root, with nothing of its own."""
    for name in (".venv", "scripts", "integration_tests"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


@pytest.fixture
def served(workdir: Path) -> Iterator[dict[str, Any]]:
    """The README's `serve` command, on a free port; yields the JSON line it printed."""
    block = readme_block("-m calendly_sandbox serve")
    [command] = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    [printed] = [line.removeprefix("# prints ") for line in block.splitlines() if line.startswith("# prints ")]
    argv = shlex.split(command)
    assert argv[argv.index("--port") + 1] == README_PORT
    argv[argv.index("--port") + 1] = "0"
    process = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()  # one line, once it accepts connections
        assert line, process.stderr.read()
        ready = json.loads(line)
        # What the README says it prints: {"url": "http://127.0.0.1:8765", "tokens": {"admin": "sandbox-admin-token-…"
        assert printed.startswith('{"url": "http://127.0.0.1:8765", "tokens": {"admin": "sandbox-admin-token-')
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", ready["url"])
        assert ready["tokens"]["admin"].startswith("sandbox-admin-token-")
        yield ready
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def test_the_by_hand_commands_run_as_written(workdir: Path, served: dict[str, Any]) -> None:
    block = readme_block(".venv/bin/source-calendly read")
    readme_url = f"http://127.0.0.1:{README_PORT}"
    assert readme_url in block, "the config must point at the port the README's `serve` command uses"
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.replace(readme_url, served["url"])],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # The README's config, as written, holds the token the sandbox printed for `admin`.
    config = json.loads((workdir / "secrets" / "config.json").read_text())
    assert config == {"personal_access_token": served["tokens"]["admin"], "api_url": served["url"]}

    # spec, check and discover answered on the terminal (the block's stdout).
    answers = [m for m in json_lines(done.stdout) if m["type"] != "LOG"]
    assert [m["type"] for m in answers] == ["SPEC", "CONNECTION_STATUS", "CATALOG"], done.stdout[-3000:]
    assert answers[1]["connectionStatus"]["status"] == "SUCCEEDED"
    catalog = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    names = {s["stream"]["name"] for s in catalog["streams"]}
    assert {s["name"] for s in answers[2]["catalog"]["streams"]} == names

    first = json_lines((workdir / "messages.jsonl").read_text())
    second = json_lines((workdir / "messages-incremental.jsonl").read_text())
    state = json.loads((workdir / "secrets" / "state.json").read_text())
    incremental = {s["stream"]["name"] for s in catalog["streams"] if s["sync_mode"] == "incremental"}
    assert incremental <= {s["stream"]["stream_descriptor"]["name"] for s in state}
    assert all(set(s) == {"type", "stream"} for s in state)  # last_state.py drops the CDK's sourceStats

    def incremental_records(messages: list[dict[str, Any]]) -> int:
        return sum(1 for m in messages if m["type"] == "RECORD" and m["record"]["stream"] in incremental)

    assert {m["record"]["stream"] for m in first if m["type"] == "RECORD"} == names  # every stream, reference org
    # Nothing changed in between: from the state, the incremental streams re-emit next to nothing.
    assert incremental_records(first) > 1000 and incremental_records(second) < incremental_records(first) / 10
    assert not [m for m in first + second if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
