"""The README's by-hand read, then the incremental one from its state, exactly as written there (issue 19):
`source-calendly read … > messages.jsonl`, `scripts/last_state.py messages.jsonl > state.json`, `read --state`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from calendly_sandbox import Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import REPO

CONSOLE_SCRIPT = Path(sys.executable).parent / "source-calendly"


def test_a_read_then_an_incremental_read_from_its_last_state(shared_sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(sandbox_config(shared_sandbox)))
    read = [str(CONSOLE_SCRIPT), "read", "--config", str(tmp_path / "config.json")]
    read += ["--catalog", str(REPO / "integration_tests/configured_catalog.json")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with (tmp_path / "messages.jsonl").open("w") as out:
        subprocess.run(read, stdout=out, cwd=REPO, env=env, check=True, timeout=300)
    with (tmp_path / "state.json").open("w") as out:
        command = [sys.executable, "scripts/last_state.py", str(tmp_path / "messages.jsonl")]
        subprocess.run(command, stdout=out, cwd=REPO, check=True, timeout=60)
    state = json.loads((tmp_path / "state.json").read_text())
    first = [json.loads(line) for line in (tmp_path / "messages.jsonl").read_text().splitlines() if line.strip()]
    catalog = json.loads((REPO / "integration_tests/configured_catalog.json").read_text())
    incremental = {s["stream"]["name"] for s in catalog["streams"] if s["sync_mode"] == "incremental"}
    assert incremental <= {s["stream"]["stream_descriptor"]["name"] for s in state}
    assert all(set(s) == {"type", "stream"} for s in state)  # no sourceStats

    second = subprocess.run(
        [*read, "--state", str(tmp_path / "state.json")], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )
    assert second.returncode == 0, second.stderr[-2000:]
    messages = [json.loads(line) for line in second.stdout.splitlines() if line.strip()]

    def incremental_records(messages: list[dict]) -> int:
        return sum(1 for m in messages if m["type"] == "RECORD" and m["record"]["stream"] in incremental)

    # Nothing changed in between: from the state, the incremental streams re-emit next to nothing.
    assert incremental_records(first) > 100 and incremental_records(messages) < incremental_records(first) / 10
