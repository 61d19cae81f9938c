"""scripts/flakiness.py: node ids from JUnit reports, and a summary that counts each test once per run."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flakiness", REPO / "scripts" / "flakiness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


flakiness = _script()


def test_a_junit_test_case_becomes_pytests_node_id() -> None:
    assert (
        flakiness.node_id("integration_tests.test_resume", "test_a[admin, Enterprise]")
        == "integration_tests/test_resume.py::test_a[admin, Enterprise]"
    )
    assert (
        flakiness.node_id("integration_tests.test_acceptance.TestSourceCalendlyStandard", "test_check")
        == "integration_tests/test_acceptance.py::TestSourceCalendlyStandard::test_check"
    )
    assert flakiness.node_id("elsewhere.test_x", "test_y") == "elsewhere.test_x::test_y"  # no such file


def test_failures_and_errors_are_read_from_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="integration_tests.test_resume" name="test_ok"/>'
        '<testcase classname="integration_tests.test_resume" name="test_bad"><failure message="x"/></testcase>'
        '<testcase classname="integration_tests.test_harness" name="test_setup"><error message="y"/></testcase>'
        '<testcase classname="integration_tests.test_harness" name="test_skip"><skipped message="z"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert flakiness.failures(report) == (
        4,
        ["integration_tests/test_resume.py::test_bad", "integration_tests/test_harness.py::test_setup"],
    )


def test_every_test_that_failed_once_is_listed_with_how_often_and_the_exit_is_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = iter([(3, ["a.py::t1"], "FAILED a.py::t1"), (3, [], ""), (3, ["a.py::t1", "b.py::t2"], "")])
    monkeypatch.setattr(flakiness, "run_once", lambda args, report: next(outcomes))
    assert flakiness.main(["--runs", "3", "a.py", "b.py"]) == 1
    out = capsys.readouterr().out
    assert "run 2/3: 3 tests, all passed" in out
    assert out.endswith("  2/3  a.py::t1\n  1/3  b.py::t2\n")


def test_no_failure_in_any_run_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(flakiness, "run_once", lambda args, report: (5, [], ""))
    monkeypatch.delenv("SKIP_IMAGE_TESTS", raising=False)
    assert flakiness.main(["--runs", "2"]) == 0
    assert "No test failed in 2 runs of: pytest integration_tests" in capsys.readouterr().out


def test_the_script_run_for_real_finds_a_test_that_fails_one_run_in_two(tmp_path: Path) -> None:
    """The README's command shape (`SKIP_IMAGE_TESTS=1 … flakiness.py --runs N -- <pytest args>`), with real
    pytest runs of a test that fails only the first time."""
    (tmp_path / "test_planted.py").write_text(
        "from pathlib import Path\n\n"
        "def test_fails_the_first_time():\n"
        "    marker = Path(__file__).with_name('ran-before')\n"
        "    ran_before = marker.exists()\n"
        "    marker.touch()\n"
        "    assert ran_before\n\n"
        "def test_always_passes():\n"
        "    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "scripts/flakiness.py", "--runs", "2", "--", str(tmp_path / "test_planted.py")],
        cwd=REPO,
        env={**os.environ, "SKIP_IMAGE_TESTS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("run 1/2: 2 tests, 1 failed (")
    assert lines[1].startswith("FAILED ") and "test_fails_the_first_time" in lines[1]
    assert lines[2].startswith("run 2/2: 2 tests, all passed (")
    assert "of: pytest -m not image and not image_tests " in lines[-2]
    assert re.fullmatch(r"  1/2  \S*test_planted\S*::test_fails_the_first_time", lines[-1]), lines[-1]
