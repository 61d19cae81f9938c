"""scripts/test.sh builds the image only for a run that includes an image test (scripts/selects_image_tests.sh)."""

from __future__ import annotations

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
