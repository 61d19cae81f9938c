"""The console entry point (`source-calendly …`, also what `main.py` and the image run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder

from source_calendly.run import run
from unit_tests.fake_api import API, FakeCalendly
from unit_tests.helpers import config


def test_the_entry_point_passes_its_arguments_to_the_connector(capsys: pytest.CaptureFixture[str]) -> None:
    with patch("sys.argv", ["source-calendly", "spec"]):
        run()
    [message] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert message["type"] == "SPEC"
    assert "credentials" in message["spec"]["connectionSpecification"]["properties"]
    assert message["spec"]["advanced_auth"]["predicate_value"] == "oauth2.0"


# --- the files on the command line are checked first (README "Bad input") ---


def launch(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str, list[dict[str, Any]]]:
    """`source-calendly <args>` in-process: its exit code (0 when it returns) and its Airbyte messages."""
    code: int | str | None = 0
    with patch("sys.argv", ["source-calendly", *args]):
        try:
            run()
        except SystemExit as exit_:
            code = exit_.code  # as the process would exit: None is 0
    out = capsys.readouterr().out
    # As the CDK's own `launch`: one message per line, nothing else on stdout.
    assert out.endswith("\n") and "\n\n" not in out, out[:500]
    return code or 0, [json.loads(line) for line in out.splitlines()]


def files(tmp_path: Path, **contents: Any) -> list[str]:
    """`--config`/`--catalog`/`--state` arguments for files holding `contents` (text as is, else as JSON)."""
    args = []
    for name, content in contents.items():
        path = tmp_path / f"{name}.json"
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        args += [f"--{name}", str(path)]
    return args


def catalog(*streams: str) -> dict[str, Any]:
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, SyncMode.full_refresh)
    return ConfiguredAirbyteCatalogSerializer.dump(builder.build())


def the_error(messages: list[dict[str, Any]]) -> dict[str, Any]:
    [error] = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    return error


@pytest.mark.parametrize(
    "command, contents, named, wrong",
    [
        ("check", {"config": None}, "config", "does not exist. It must hold a JSON object"),
        ("discover", {"config": "{oops"}, "config", "is not valid JSON: Expecting property name"),
        ("read", {"config": None, "catalog": catalog("event_types")}, "config", "does not exist."),
        ("read", {"config": config(), "catalog": {}}, "catalog", "is not a configured catalog with a 'streams' list."),
        ("read", {"config": config(), "catalog": catalog("event_types"), "state": {"scheduled_events": {}}},
         "state", "holds the legacy {stream name: state} format"),
    ],
)  # fmt: skip
def test_a_bad_file_ends_the_run_with_a_config_error_naming_it(
    command: str,
    contents: dict[str, Any],
    named: str,
    wrong: str,
    api: FakeCalendly,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    code, messages = launch([command, *files(tmp_path, **contents)], capsys)
    assert code == 1  # the platform reads a non-zero exit as a failed sync
    error = the_error(messages)
    assert error["failure_type"] == "config_error"  # the user's to fix: not retried
    assert error["message"].startswith(f"The {named} file {str(tmp_path / f'{named}.json')!r} ")
    assert wrong in error["message"]
    assert "Something went wrong" not in json.dumps(messages)
    # Also in the log, where someone reading the sync's log looks first.
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelname == "ERROR"] == [
        ("airbyte", "ERROR", error["message"])
    ]
    assert api.requests == []  # checked before anything was sent


def test_good_files_are_passed_on_to_the_sync(
    api: FakeCalendly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.event_types.append({"uri": f"{API}/event_types/et-1", "name": "Intro", "updated_at": "2024-01-01T00:00:00Z"})
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "event_types"}, "stream_state": {}}}]
    code, messages = launch(["read", *files(tmp_path, config=config(), catalog=catalog("event_types"), state=state)],
                            capsys)  # fmt: skip
    assert code == 0
    assert [m["record"]["data"]["uri"] for m in messages if m["type"] == "RECORD"] == [f"{API}/event_types/et-1"]
    assert not [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]


# --- the config's own rules run before the spec's JSON schema ---


def test_check_reports_a_bad_value_by_field_name_with_what_to_do(
    api: FakeCalendly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, messages = launch(["check", *files(tmp_path, config=config(lookback_days=-1))], capsys)
    assert code == 0  # a failed check is an answer, not a crash
    [status] = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert status["status"] == "FAILED"
    # Not the schema's "-1 is less than the minimum of 0".
    assert status["message"].startswith("lookback_days must be a whole number from 0 to 3650; got -1.")
    assert "or remove it to use the default" in status["message"]
    assert api.requests == []


def test_read_with_a_bad_value_fails_as_a_config_error_by_field_name(
    api: FakeCalendly, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["read", *files(tmp_path, config=config(num_workers=0), catalog=catalog("event_types"))]
    with pytest.raises(Exception) as raised:  # the CDK's launch lets a config error escape, as here
        launch(args, capsys)
    assert getattr(raised.value, "failure_type", None) == FailureType.config_error
    assert "num_workers must be a whole number from 1 to 16; got 0." in str(raised.value)
    assert api.requests == []


def test_a_start_date_in_the_future_is_a_warning_and_check_goes_on(
    api: FakeCalendly, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code, messages = launch(["check", *files(tmp_path, config=config(start_date="2999-01-01"))], capsys)
    assert code == 0
    [status] = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert status["status"] == "SUCCEEDED"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w for w in warnings if "start_date 2999-01-01T00:00:00.000000Z is in the future" in w]


def test_a_start_date_in_the_past_is_no_warning(
    api: FakeCalendly, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code, _ = launch(["check", *files(tmp_path, config=config(start_date="2020-01-01"))], capsys)
    assert code == 0
    assert not [r for r in caplog.records if "in the future" in r.getMessage()]
