"""Run the integration tests N times and report every test that failed at least once.

    .venv/bin/python scripts/flakiness.py                 # integration_tests, 10 runs
    .venv/bin/python scripts/flakiness.py --runs 3 -- integration_tests/test_resume.py -k killed

Arguments after `--` go to pytest instead of the default `integration_tests`. With SKIP_IMAGE_TESTS=1 the
image tests are left out, as in scripts/test.sh. Exits 1 if any test failed (or a run ended without a report),
0 if every run passed. A flaky test is a bug: one failure in ten runs is a failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def node_id(classname: str, name: str) -> str:
    """pytest's node id of a JUnit test case: `a.b.test_x.TestY`, `test_z[p]` -> `a/b/test_x.py::TestY::test_z[p]`."""
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        path = Path(*parts[:cut]).with_suffix(".py")
        if (REPO / path).is_file():
            return "::".join([path.as_posix(), *parts[cut:], name])
    return f"{classname}::{name}"


def failures(report: Path) -> tuple[int, list[str]]:
    """(tests run, node ids of those that failed or errored) from a JUnit XML report."""
    cases = ET.parse(report).getroot().iter("testcase")
    ran, failed = 0, []
    for case in cases:
        ran += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(node_id(case.get("classname", ""), case.get("name", "")))
    return ran, failed


def run_once(pytest_args: list[str], report: Path) -> tuple[int, list[str], str]:
    """One pytest run: (tests run, failed node ids, pytest's summary lines for what failed)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *pytest_args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if not report.is_file():
        return 0, [f"(pytest exited {done.returncode} without a report)"], done.stdout[-3000:] + done.stderr[-3000:]
    ran, failed = failures(report)
    if done.returncode not in (0, 1) and not failed:  # interrupted, internal error, no tests collected...
        failed = [f"(pytest exited {done.returncode})"]
    summary = "\n".join(line for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR ")))
    return ran, failed, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="how many times to run the tests (default 10)")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments (default: integration_tests)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    pytest_args = args.pytest_args or ["integration_tests"]
    if os.environ.get("SKIP_IMAGE_TESTS") == "1":
        pytest_args = ["-m", "not image and not image_tests", *pytest_args]

    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            ran, failed, summary = run_once(pytest_args, Path(tmp) / f"run-{run}.xml")
            counts.update(set(failed))
            outcome = f"{len(failed)} failed" if failed else "all passed"
            print(f"run {run}/{args.runs}: {ran} tests, {outcome} ({time.monotonic() - started:.0f} s)", flush=True)
            if summary:
                print(summary, flush=True)
    if not counts:
        print(f"No test failed in {args.runs} runs of: pytest {' '.join(pytest_args)}")
        return 0
    print(f"\nTests that failed at least once in {args.runs} runs of: pytest {' '.join(pytest_args)}")
    for test, times in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {times}/{args.runs}  {test}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
