"""The `--config`, `--catalog` and `--state` files, checked before the CDK reads them (README "Bad input").

Every problem is a config error (the user's to fix, never retried as transient) whose message names the
file, says what is wrong with it and what to do; a usable file passes silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import (
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
    SyncMode,
)
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.state_builder import StateBuilder

from source_calendly.inputs import (
    RESET_STATE,
    STATE_MESSAGE_EXAMPLE,
    InputFileError,
    check_catalog_file,
    check_config_file,
    check_state_file,
)

CONFIG_FIX = (
    'It must hold a JSON object with this source\'s settings, such as {"credentials": {"personal_access_token": "…"}}.'
)
CATALOG_FIX = 'Build it from this source\'s discover output (a configured catalog: {"streams": [...]}).'
STATE_FIX = f"It must hold a list of per-stream state messages, as this source emits them: {STATE_MESSAGE_EXAMPLE}"
STATE_MESSAGE = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "scheduled_events"}, "stream_state": {}}}
CHECKS = {"config": check_config_file, "catalog": check_catalog_file, "state": check_state_file}
FIXES = {"config": CONFIG_FIX, "catalog": CATALOG_FIX, "state": f"{STATE_FIX}; {RESET_STATE}."}


def write(tmp_path: Path, content: Any, name: str = "input.json") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def refusal(check: Any, path: str) -> str:
    """The message of the config error `check` raises for `path`."""
    with pytest.raises(InputFileError) as caught:
        check(path)
    error = caught.value
    assert error.failure_type == FailureType.config_error
    assert error.message == error.internal_message  # nothing secret in it: the user sees the whole story
    return error.message


def test_the_error_is_a_config_error_carrying_its_message() -> None:
    error = InputFileError("The config file 'x' does not exist.")
    assert error.failure_type == FailureType.config_error
    assert error.message == error.internal_message == "The config file 'x' does not exist."
    trace = error.as_airbyte_message().trace
    assert trace.error.failure_type == FailureType.config_error
    assert trace.error.message == "The config file 'x' does not exist."


# --- reading: the same four problems for each of the three files, each with that file's own fix ---


@pytest.mark.parametrize("what", CHECKS)
def test_a_missing_file_is_named_with_what_it_must_hold(what: str, tmp_path: Path) -> None:
    path = str(tmp_path / "nowhere.json")
    assert refusal(CHECKS[what], path) == f"The {what} file {path!r} does not exist. {FIXES[what]}"


@pytest.mark.parametrize("what", CHECKS)
def test_a_directory_is_not_a_file(what: str, tmp_path: Path) -> None:
    assert refusal(CHECKS[what], str(tmp_path)) == (
        f"The {what} path {str(tmp_path)!r} is a directory, not a file. {FIXES[what]}"
    )


@pytest.mark.parametrize("what", CHECKS)
def test_an_unreadable_file_says_why(what: str, tmp_path: Path) -> None:
    # A path through a plain file: the system refuses it (as root too, unlike a chmod 000 file).
    path = write(tmp_path, "{}", "plain") + "/config.json"
    assert refusal(CHECKS[what], path) == f"The {what} file {path!r} cannot be read: Not a directory. {FIXES[what]}"


@pytest.mark.parametrize("what", CHECKS)
def test_a_file_that_is_not_utf8_text(what: str, tmp_path: Path) -> None:
    path = write(tmp_path, b'{"personal_access_token": "\xff\xfe"}')
    assert refusal(CHECKS[what], path) == f"The {what} file {path!r} is not UTF-8 text. {FIXES[what]}"


@pytest.mark.parametrize("what", CHECKS)
def test_a_file_that_is_not_json_gives_line_and_column(what: str, tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "streams": [],\n  oops\n}')
    assert refusal(CHECKS[what], path) == (
        f"The {what} file {path!r} is not valid JSON: Expecting property name enclosed in double quotes "
        f"at line 3, column 3. {FIXES[what]}"
    )


@pytest.mark.parametrize("what", CHECKS)
def test_an_empty_file_is_not_json(what: str, tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert refusal(CHECKS[what], path) == (
        f"The {what} file {path!r} is not valid JSON: Expecting value at line 1, column 1. {FIXES[what]}"
    )


def test_utf8_text_beyond_ascii_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"personal_access_token": "tøken…"}', encoding="utf-8")
    check_config_file(str(path))  # no error


# --- config ---


def test_a_config_object_is_accepted(tmp_path: Path) -> None:
    check_config_file(write(tmp_path, {"personal_access_token": "t", "lookback_days": 3}))
    check_config_file(write(tmp_path, {}))  # what is missing from it is the config rules' to say, by field


@pytest.mark.parametrize(
    "content, holds",
    [
        ([], "a list"),
        ([{"personal_access_token": "t"}], "a list"),
        ('"token"', "a string"),
        (True, "a boolean"),
        (False, "a boolean"),
        (None, "null"),
        (42, "a number"),
        (4.5, "a number"),
    ],
)
def test_a_config_that_is_not_an_object_says_what_it_holds(content: Any, holds: str, tmp_path: Path) -> None:
    path = write(tmp_path, content)
    assert refusal(check_config_file, path) == (
        f"The config file {path!r} holds {holds}, not a JSON object. {CONFIG_FIX}"
    )


# --- catalog ---


def test_a_configured_catalog_is_accepted(tmp_path: Path) -> None:
    catalog = CatalogBuilder().with_stream("event_types", SyncMode.full_refresh).build()
    check_catalog_file(write(tmp_path, ConfiguredAirbyteCatalogSerializer.dump(catalog)))
    check_catalog_file(write(tmp_path, {"streams": []}))


@pytest.mark.parametrize(
    "content", [{}, [], [{"streams": []}], {"streams": {}}, {"streams": None}, {"catalog": {"streams": []}}, '"x"']
)
def test_a_catalog_without_a_streams_list_is_refused(content: Any, tmp_path: Path) -> None:
    path = write(tmp_path, content)
    assert refusal(check_catalog_file, path) == (
        f"The catalog file {path!r} is not a configured catalog with a 'streams' list. {CATALOG_FIX}"
    )


def test_a_discovered_catalog_is_not_a_configured_one(tmp_path: Path) -> None:
    # The discover output itself, not configured: each stream lacks its sync modes; the serializer says which.
    path = write(tmp_path, {"streams": [{"name": "event_types", "json_schema": {}, "supported_sync_modes": []}]})
    message = refusal(check_catalog_file, path)
    assert message.startswith(f"The catalog file {path!r} is not a valid configured catalog: Schema validation failed:")
    assert '"stream" is a required property' in message and "streams/0" in message
    assert message.endswith(f". {CATALOG_FIX}")
    assert "\n" not in message  # one line, as a trace message shows best


def test_a_catalog_stream_with_the_wrong_shape_is_pointed_at(tmp_path: Path) -> None:
    path = write(tmp_path, {"streams": [{"stream": {"name": "x"}}, 42]})
    message = refusal(check_catalog_file, path)
    assert "is not a valid configured catalog: Schema validation failed:" in message
    assert "streams/0" in message or "streams/1" in message


def test_a_long_serializer_error_is_cut_short(tmp_path: Path) -> None:
    stream = {"name": "event_types", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
    path = write(tmp_path, {"streams": [{"stream": stream, "sync_mode": "x" * 400, "destination_sync_mode": "append"}]})
    message = refusal(check_catalog_file, path)
    detail = message.removeprefix(f"The catalog file {path!r} is not a valid configured catalog: ")
    detail = detail.removesuffix(f". {CATALOG_FIX}")
    assert detail.startswith("Schema validation failed:")
    # The serializer quotes the bad value, however long; the start of it is enough.
    assert 200 < len(detail) <= 300


# --- state ---


@pytest.mark.parametrize("content", ["null", "{}", "[]"])
def test_no_state_is_a_first_sync(content: str, tmp_path: Path) -> None:
    check_state_file(write(tmp_path, content))  # no error


def test_per_stream_state_messages_are_accepted(tmp_path: Path) -> None:
    state = (
        StateBuilder()
        .with_stream_state("scheduled_events", {"updated_at": "2024-01-01T00:00:00.000000Z"})
        .with_stream_state("event_types", {})
        .build()
    )
    check_state_file(write(tmp_path, [AirbyteStateMessageSerializer.dump(message) for message in state]))
    check_state_file(write(tmp_path, [STATE_MESSAGE]))


def test_a_global_state_message_with_per_stream_states_is_accepted(tmp_path: Path) -> None:
    # Not what this source emits, but the CDK reads the per-stream states out of it.
    stream_state = {"stream_descriptor": {"name": "scheduled_events"}, "stream_state": {"updated_at": "x"}}
    check_state_file(write(tmp_path, [{"type": "GLOBAL", "global": {"stream_states": [stream_state]}}]))


@pytest.mark.parametrize(
    "entry, problem",
    [
        (
            {"type": "LEGACY", "data": {"scheduled_events": {"updated_at": "x"}}},
            "is a LEGACY state message (a 'data' part), which this source does not read",
        ),
        (
            {"type": "GLOBAL", "global": {"shared_state": {"cursor": "x"}, "stream_states": []}},
            "is a GLOBAL state with a 'shared_state', which this source never writes",
        ),
    ],
)
def test_state_entries_the_cdk_would_drop_or_choke_on_are_refused(entry: Any, problem: str, tmp_path: Path) -> None:
    # A LEGACY entry is dropped by the CDK without a word (the sync silently starts over); a shared_state makes
    # its state manager raise, which ends as "Something went wrong". Both are the user's to fix.
    path = write(tmp_path, [entry])
    assert refusal(check_state_file, path) == (
        f"Entry 1 of the state file {path!r} {problem}. {STATE_FIX}; {RESET_STATE}."
    )


@pytest.mark.parametrize("message", [STATE_MESSAGE, {"type": "STREAM"}, {"stream": {}}])
def test_one_state_message_not_in_a_list_is_told_to_be_wrapped(message: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, message)
    assert refusal(check_state_file, path) == (
        f"The state file {path!r} holds one state message, not a list of them: wrap it in [ ]. {STATE_FIX}."
    )


def test_legacy_stream_name_to_state_format_is_refused_naming_its_keys(tmp_path: Path) -> None:
    path = write(tmp_path, {"scheduled_events": {"updated_at": "x"}, "event_invitees": {}})
    assert refusal(check_state_file, path) == (
        f"The state file {path!r} holds the legacy {{stream name: state}} format (keys: scheduled_events, "
        f"event_invitees), which this source does not read. Convert each entry to a message in a list. "
        f"{STATE_FIX}; {RESET_STATE}."
    )


def test_legacy_state_names_at_most_five_keys(tmp_path: Path) -> None:
    path = write(tmp_path, {f"stream_{i}": {} for i in range(1, 9)})
    message = refusal(check_state_file, path)
    assert "(keys: stream_1, stream_2, stream_3, stream_4, stream_5), which this source does not read." in message


@pytest.mark.parametrize("content, holds", [('"state"', "a string"), (7, "a number"), (True, "a boolean")])
def test_state_that_is_neither_list_nor_object_says_what_it_holds(content: Any, holds: str, tmp_path: Path) -> None:
    path = write(tmp_path, content)
    assert refusal(check_state_file, path) == (
        f"The state file {path!r} holds {holds}, not a list. {STATE_FIX}; {RESET_STATE}."
    )


@pytest.mark.parametrize(
    "entry, problem",
    [
        (42, "is a number, not a state message object"),
        ("scheduled_events", "is a string, not a state message object"),
        ([STATE_MESSAGE], "is a list, not a state message object"),
        (None, "is null, not a state message object"),
        ({}, "has no 'stream' (nor 'global') part"),
        ({"type": "STREAM"}, "has no 'stream' (nor 'global') part"),
    ],
)
def test_a_bad_entry_is_named_by_its_position(entry: Any, problem: str, tmp_path: Path) -> None:
    path = write(tmp_path, [STATE_MESSAGE, entry])
    assert refusal(check_state_file, path) == (
        f"Entry 2 of the state file {path!r} {problem}. {STATE_FIX}; {RESET_STATE}."
    )


def test_the_first_bad_entry_is_the_one_named(tmp_path: Path) -> None:
    path = write(tmp_path, [7, "x"])
    assert refusal(check_state_file, path).startswith(f"Entry 1 of the state file {path!r} is a number,")


def test_an_entry_the_serializer_refuses_says_what_is_wrong(tmp_path: Path) -> None:
    path = write(tmp_path, [{"type": "STREAM", "stream": 42}])
    assert refusal(check_state_file, path) == (
        f"Entry 1 of the state file {path!r} is not a state message (Schema validation failed: - 42 is not of "
        f"type \"object\" (instance_path='stream')). {STATE_FIX}; {RESET_STATE}."
    )


def test_an_entry_with_a_long_serializer_error_is_cut_short(tmp_path: Path) -> None:
    path = write(tmp_path, [{"type": "X" * 400}])  # the serializer quotes the bad type in full
    message = refusal(check_state_file, path)
    detail = message.split(" is not a state message (", 1)[1].split(f"). {STATE_FIX}", 1)[0]
    assert detail.startswith('Schema validation failed: - "XXX')
    assert 100 < len(detail) <= 200
