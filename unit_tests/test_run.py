"""The console entry point (`source-calendly …`, also what `main.py` and the image run)."""

from __future__ import annotations

import json
from unittest.mock import patch

import pytest

from source_calendly.run import run


def test_the_entry_point_passes_its_arguments_to_the_connector(capsys: pytest.CaptureFixture[str]) -> None:
    with patch("sys.argv", ["source-calendly", "spec"]):
        run()
    [message] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert message["type"] == "SPEC"
    assert "personal_access_token" in message["spec"]["connectionSpecification"]["properties"]
