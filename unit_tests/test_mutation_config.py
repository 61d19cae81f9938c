"""mutmut runs the unit tests in a copy of the repository that holds only `source_paths` and `also_copy`
(pyproject.toml's [tool.mutmut]). A test that needs anything else (README.md, the sandbox...) makes mutmut's
first step fail, and benchmarks/mutation_score.py then reports 0 of 0: this collects the tests as mutmut would."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_unit_tests_mutmut_selects_are_collected_in_a_copy_holding_only_what_mutmut_copies(tmp_path: Path) -> None:
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mutmut"]
    for name in [*settings["source_paths"], *settings["also_copy"], "pyproject.toml"]:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *settings["pytest_add_cli_args_test_selection"],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert " tests collected" in collected.stdout or "tests collected" in collected.stdout
