"""Bad input ends in an error that names the field or file, what is wrong and what to do (issue #10).

The cases are `integration_tests/bad_inputs.py`, which is also the README's table: the last test keeps the
two the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Faults, Sandbox
from integration_tests.bad_inputs import CASES, CHECK_ANSWERS_WITHIN, BadInput, readme_table
from integration_tests.conftest import sandbox_config
from integration_tests.harness import REPO, Run, catalog
from integration_tests.hostile_servers import closed_port, refusing_proxy, untrusted_tls_server

# Not a plain word: the CDK masks every occurrence of the token in what it prints.
TOKEN_LIKE = "eyJraWQiOiJ0ZXN0IiwidHlwIjoiUEFUIn0"


@contextmanager
def network(kind: str | None, tmp: Path) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """Config overrides and environment variables that put the connector behind a broken network."""
    if kind is None:
        yield {}, {}
    elif kind == "closed port":
        yield {"api_url": f"http://127.0.0.1:{closed_port()}"}, {}
    elif kind == "untrusted certificate":
        with untrusted_tls_server(tmp) as (url, _):
            yield {"api_url": url}, {}
    elif kind == "refusing proxy":
        with refusing_proxy() as proxy:
            yield {}, {"HTTPS_PROXY": proxy}
    else:
        raise AssertionError(f"no such network: {kind}")


def run_case(sandbox: Sandbox, case: BadInput, tmp: Path) -> tuple[Run, float]:
    """The case through the real connector process, and how long it took to answer."""
    with network(case.network, tmp) as (overrides, environment):
        contents: dict[str, Any] = {"config": {**sandbox_config(sandbox), **case.config, **overrides}}
        if case.command == "read":
            contents["catalog"] = catalog(["event_types"])
        contents.update(case.files)
        args = [sys.executable, str(REPO / "main.py"), case.command]
        for name, content in contents.items():
            path = tmp / f"{name}.json"
            if content is not None:
                path.write_text(content if isinstance(content, str) else json.dumps(content))
            args += [f"--{name}", str(path)]
        env = {**os.environ, "PYTHONPATH": str(REPO), **environment}
        started = time.monotonic()
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO, env=env, check=False)
        took = time.monotonic() - started
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return Run(done.returncode, messages, done.stderr, done.stdout), took


@pytest.mark.parametrize("case", CASES, ids=[c.input for c in CASES])
def test_bad_input_is_refused_by_name_with_what_to_do(shared_sandbox: Sandbox, case: BadInput, tmp_path: Path) -> None:
    shared_sandbox.set_faults(Faults(**case.faults))
    try:
        run, took = run_case(shared_sandbox, case, tmp_path)
    finally:
        shared_sandbox.set_faults(Faults())
    everything = " ".join(json.dumps(m) for m in run.messages)
    assert "Something went wrong" not in everything
    if case.command == "check":
        # A check answers while a person waits: the specific cause, soon, and no advice to re-run a sync.
        [status] = run.of("CONNECTION_STATUS")
        assert status["connectionStatus"]["status"] == "FAILED"
        assert case.message in status["connectionStatus"]["message"]
        assert "sync" not in status["connectionStatus"]["message"]
        assert took <= CHECK_ANSWERS_WITHIN, f"check took {took:.1f} s"
        return
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
