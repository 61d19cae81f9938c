"""The files a run is given (`--config`, `--catalog`, `--state`), checked before the CDK reads them.

The CDK reads them too, but a missing file, a file that is not JSON or a state in the wrong shape ended as
"Something went wrong in the connector". Each problem here is a config error that names the file, says what
is wrong with it and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessageSerializer, ConfiguredAirbyteCatalogSerializer, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

STATE_MESSAGE_EXAMPLE = (
    '[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "scheduled_events"}, "stream_state": {...}}}]'
)
RESET_STATE = "or reset the connection's state in Airbyte (the next sync then starts from start_date)"


class InputFileError(AirbyteTracedException):
    """A file given on the command line cannot be used; always the user's to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message, internal_message=message, failure_type=FailureType.config_error)


def _json_type(value: Any) -> str:
    names = {dict: "a JSON object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def read_json_file(path: str, what: str, fix: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"The {what} file {path!r} does not exist. {fix}") from None
    except IsADirectoryError:
        raise InputFileError(f"The {what} path {path!r} is a directory, not a file. {fix}") from None
    except OSError as exc:
        raise InputFileError(f"The {what} file {path!r} cannot be read: {exc.strerror}. {fix}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"The {what} file {path!r} is not UTF-8 text. {fix}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"The {what} file {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. {fix}"
        ) from None


def check_config_file(path: str) -> None:
    fix = (
        "It must hold a JSON object with this source's settings, such as "
        '{"credentials": {"personal_access_token": "…"}}.'
    )
    config = read_json_file(path, "config", fix)
    if not isinstance(config, dict):
        raise InputFileError(f"The config file {path!r} holds {_json_type(config)}, not a JSON object. {fix}")


def check_catalog_file(path: str) -> None:
    fix = 'Build it from this source\'s discover output (a configured catalog: {"streams": [...]}).'
    catalog = read_json_file(path, "catalog", fix)
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise InputFileError(f"The catalog file {path!r} is not a configured catalog with a 'streams' list. {fix}")
    try:
        ConfiguredAirbyteCatalogSerializer.load(catalog)
    except Exception as exc:  # the serializer's own error says which key is wrong
        detail = " ".join(str(exc).split())[:300]
        raise InputFileError(f"The catalog file {path!r} is not a valid configured catalog: {detail}. {fix}") from None


def check_state_file(path: str) -> None:
    fix = f"It must hold a list of per-stream state messages, as this source emits them: {STATE_MESSAGE_EXAMPLE}"
    state = read_json_file(path, "state", f"{fix}; {RESET_STATE}.")
    if state is None or state == {} or state == []:
        return  # no state: a first sync
    if isinstance(state, Mapping):
        if "type" in state or "stream" in state:
            raise InputFileError(
                f"The state file {path!r} holds one state message, not a list of them: wrap it in [ ]. {fix}."
            )
        raise InputFileError(
            f"The state file {path!r} holds the legacy {{stream name: state}} format (keys: "
            f"{', '.join(list(map(str, state))[:5])}), which this source does not read. Convert each entry to a "
            f"message in a list. {fix}; {RESET_STATE}."
        )
    if not isinstance(state, list):
        raise InputFileError(f"The state file {path!r} holds {_json_type(state)}, not a list. {fix}; {RESET_STATE}.")
    for position, item in enumerate(state, 1):
        problem = None
        if not isinstance(item, dict):
            problem = f"is {_json_type(item)}, not a state message object"
        else:
            try:
                message = AirbyteStateMessageSerializer.load(item)
            except Exception as exc:
                problem = f"is not a state message ({' '.join(str(exc).split())[:200]})"
            else:
                if not (message.stream or message.global_ or message.data):
                    problem = "has no 'stream' (nor 'global') part"
                elif not (message.stream or message.global_):
                    # Only 'data' is left: a LEGACY entry, which the CDK drops without a word (the sync would
                    # start over from start_date).
                    problem = "is a LEGACY state message (a 'data' part), which this source does not read"
                elif message.global_ is not None and message.global_.shared_state:
                    # The CDK's state manager cannot take a shared_state for a source that does not write one.
                    problem = "is a GLOBAL state with a 'shared_state', which this source never writes"
        if problem:
            raise InputFileError(f"Entry {position} of the state file {path!r} {problem}. {fix}; {RESET_STATE}.")
