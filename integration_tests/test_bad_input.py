"""Bad input ends in an error that names the field or file, what is wrong and what to do (issue #10).

The cases are `integration_tests/bad_inputs.py`, which is also the README's table: the last test keeps the
two the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Faults, Sandbox
from integration_tests.bad_inputs import CASES, BadInput, readme_table
from integration_tests.conftest import sandbox_config
from integration_tests.harness import REPO, Run, catalog

# Not a plain word: the CDK masks every occurrence of the token in what it prints.
TOKEN_LIKE = "eyJraWQiOiJ0ZXN0IiwidHlwIjoiUEFUIn0"


def run_case(sandbox: Sandbox, case: BadInput, tmp: Path) -> Run:
    contents: dict[str, Any] = {
        "config": {**sandbox_config(sandbox), **case.config},
        "catalog": catalog(["event_types"]),
        **case.files,
    }
    args = [sys.executable, str(REPO / "main.py"), "read"]
    for name, content in contents.items():
        path = tmp / f"{name}.json"
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        args += [f"--{name}", str(path)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO, env=env, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return Run(done.returncode, messages, done.stderr, done.stdout)


@pytest.mark.parametrize("case", CASES, ids=[c.input for c in CASES])
def test_bad_input_is_refused_by_name_with_what_to_do(shared_sandbox: Sandbox, case: BadInput, tmp_path: Path) -> None:
    shared_sandbox.set_faults(Faults(**case.faults))
    try:
        run = run_case(shared_sandbox, case, tmp_path)
    finally:
        shared_sandbox.set_faults(Faults())
    everything = " ".join(json.dumps(m) for m in run.messages)
    assert "Something went wrong" not in everything
    if case.failure_type is None:
        assert run.returncode == 0, run.stdout[-3000:]
        assert run.records("event_types"), "the sync should have run"
        if case.message:
            assert any(case.message in warning for warning in run.warnings()), run.warnings()
        return
    assert run.returncode != 0
    errors = run.errors()
    assert errors, run.stdout[-3000:]
    assert errors[0]["failure_type"] == case.failure_type
    assert case.message in errors[0]["message"]


def test_a_bad_config_fails_check_with_a_connection_status_naming_the_field(shared_sandbox: Sandbox) -> None:
    from integration_tests.harness import run_connector

    run = run_connector("check", {**sandbox_config(shared_sandbox), "lookback_days": -1})
    [status] = run.of("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "FAILED"
    assert "lookback_days must be a whole number from 0 to 3650; got -1." in status["connectionStatus"]["message"]


def test_a_token_like_value_is_never_echoed_when_it_has_the_wrong_type(shared_sandbox: Sandbox) -> None:
    from integration_tests.harness import run_connector

    run = run_connector("check", {**sandbox_config(shared_sandbox), "personal_access_token": [TOKEN_LIKE]})
    assert TOKEN_LIKE not in run.stdout and TOKEN_LIKE not in run.stderr
    assert "personal_access_token must be a string, not a list" in run.stdout


def test_the_readme_table_is_the_cases() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_table() in readme, "README's bad-input table drifted: python -m integration_tests.bad_inputs"
