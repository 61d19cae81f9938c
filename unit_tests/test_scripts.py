"""scripts/test.sh: ruff, then the selected tests; the image is built only for a run that includes an image test
(scripts/selects_image_tests.sh), and never with SKIP_IMAGE_TESTS=1."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("args", "selects"),
    [
        ((), True),  # everything
        (("integration_tests/test_image.py", "-q"), True),
        (("unit_tests", "-q"), False),  # the README's example: no image, no apt, no root
        (("integration_tests/test_bad_input.py",), False),
    ],
)
def test_the_image_is_built_only_when_the_selected_tests_include_an_image_test(
    args: tuple[str, ...], selects: bool
) -> None:
    done = subprocess.run(
        ["bash", "scripts/selects_image_tests.sh", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert (done.returncode == 0) == selects, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("skip_image_tests", "args"),
    [
        (None, ("unit_tests/test_metadata.py", "-q")),  # the README's `bash scripts/test.sh unit_tests -q`, smaller
        ("1", ("integration_tests/test_image.py", "unit_tests/test_metadata.py", "-q")),  # SKIP_IMAGE_TESTS=1 …
    ],
)
def test_the_test_command_runs_ruff_then_the_selected_tests_without_building_the_image(
    skip_image_tests: str | None, args: tuple[str, ...]
) -> None:
    env = {key: value for key, value in os.environ.items() if key != "SKIP_IMAGE_TESTS"}
    if skip_image_tests:
        env["SKIP_IMAGE_TESTS"] = skip_image_tests
    done = subprocess.run(
        ["bash", "scripts/test.sh", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All checks passed!" in done.stdout and "files already formatted" in done.stdout  # ruff, both
    assert "==> tools: podman" not in done.stdout  # scripts/build_image.sh's first step
    summary = done.stdout.splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
    if skip_image_tests:
        assert "deselected" in summary  # test_image.py's tests, left out
    else:
        assert "==> the selected tests include no image test: the image is not built" in done.stdout
