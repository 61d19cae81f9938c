"""The README's PyAirbyte snippet for OAuth (`config_change_callback=save_config`), taken from the README and run
in .venv-pyairbyte twice: the first run saves the rotated config, and the second, from the saved file, works
(the refresh token the first started with is spent). Marker: pyairbyte."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.harness import REPO
from integration_tests.test_oauth_sync import oauth_config
from integration_tests.test_pyairbyte import pyairbyte, pyairbyte_env

__all__ = ["pyairbyte"]  # the fixture, used by name below

# Around the README's snippet: what it assumes (imports, PyAirbyte offline) and a read of one stream into the
# default cache, which runs the connector's `read` and so meets its CONTROL messages.
BEFORE = """import json
import os
from pathlib import Path
from typing import Any

os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
import airbyte as ab

"""
AFTER = """
source.select_streams(["event_types"])
result = source.read()
print(json.dumps({"event_types": len(list(result["event_types"]))}))
"""


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text()
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL) if
              "config_change_callback=save_config" in b]  # fmt: skip
    assert len(blocks) == 1, "README: one python block with config_change_callback=save_config"
    return blocks[0]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(dataset=DatasetSpec.small(seed=29), rate_limit_per_minute=None) as started:
        yield started


@pytest.mark.pyairbyte
@pytest.mark.timeout(300)
def test_the_readme_oauth_snippet_saves_each_new_config_and_the_next_run_starts_from_it(
    pyairbyte: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    (workdir / "secrets").mkdir(parents=True)
    (workdir / ".venv").symlink_to(REPO / ".venv")  # the snippet's local_executable=".venv/bin/source-calendly"
    (workdir / "run.py").write_text(BEFORE + readme_snippet() + AFTER)
    config_file = workdir / "secrets" / "config.json"
    first_refresh_token = sandbox.oauth.grant("admin")["refresh_token"]
    config_file.write_text(json.dumps(oauth_config(sandbox, first_refresh_token)))
    env = pyairbyte_env(tmp_path, AIRBYTE_CACHE_ROOT=str(tmp_path / "cache"))
    expected = {"event_types": len(sandbox.truth.records("event_types", sandbox.tokens.admin))}

    def run() -> dict[str, int]:
        done = subprocess.run(
            [str(pyairbyte), "run.py"], cwd=workdir, env=env, capture_output=True, text=True, timeout=280, check=False
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return json.loads(done.stdout.splitlines()[-1])

    assert run() == expected
    saved = json.loads(config_file.read_text())
    assert saved["credentials"]["refresh_token"] != first_refresh_token
    assert sandbox.oauth.live_refresh_tokens() == [saved["credentials"]["refresh_token"]]  # the old one is spent

    assert run() == expected  # from the saved config
    assert sandbox.oauth.live_refresh_tokens() == [json.loads(config_file.read_text())["credentials"]["refresh_token"]]
