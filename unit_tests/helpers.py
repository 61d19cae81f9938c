"""Run the real connector entrypoint in-process and pick its Airbyte messages apart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_calendly import SourceCalendly
from source_calendly.bounds import MARGIN
from source_calendly.config import format_utc, parse_utc
from unit_tests.fake_api import ADMIN_TOKEN

INCREMENTAL = {
    "scheduled_events",
    "event_invitees",
    "routing_form_submissions",
    "activity_log_entries",
    "contacts",
    "outgoing_communications",
}


def asked(at: str | datetime) -> str:
    """The `min_*` value the connector sends to list from `at`: a margin before it (see source_calendly.bounds)."""
    return format_utc((parse_utc(at) if isinstance(at, str) else at) - MARGIN)


def invitees_synced(at: datetime) -> dict[str, Any]:
    """An event_invitees state whose last pass began at `at`: read before contacts, it tells them whose meetings
    changed since (see source_calendly.meetings)."""
    return {"updated_at": format_utc(at), "last_sync_started_at": format_utc(at)}


def config(**overrides: Any) -> dict[str, Any]:
    return {"personal_access_token": ADMIN_TOKEN, "num_workers": 1, **overrides}


def run_read(
    streams: list[str],
    cfg: Mapping[str, Any] | None = None,
    state: Mapping[str, Mapping[str, Any]] | None = None,
    full_refresh: bool = False,
    expect_error: bool = False,
    debug: bool = False,
    incremental: frozenset[str] | set[str] = INCREMENTAL,
) -> EntrypointOutput:
    catalog = CatalogBuilder()
    for name in streams:
        mode = SyncMode.incremental if name in incremental and not full_refresh else SyncMode.full_refresh
        catalog.with_stream(name, mode)
    state_messages = None
    if state:
        builder = StateBuilder()
        for name, value in state.items():
            builder.with_stream_state(name, dict(value))
        state_messages = builder.build()
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_error else ExpectedOutcome.EXPECT_SUCCESS
    return read(
        SourceCalendly(), dict(cfg or config()), catalog.build(), state_messages, expected_outcome=outcome, debug=debug
    )


def records(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [dict(m.record.data) for m in output.records if m.record.stream == stream]


def uris(output: EntrypointOutput, stream: str) -> list[str]:
    return [r["uri"] for r in records(output, stream)]


def final_states(output: EntrypointOutput, keys: bool = True) -> dict[str, dict[str, Any]]:
    """The last state emitted for each stream, as the next sync would receive it (without `keys`, the key memory
    of streams that track deletions left out: for tests of the window alone)."""
    out: dict[str, dict[str, Any]] = {}
    for message in output.state_messages:
        state: AirbyteStateMessage = message.state
        out[state.stream.stream_descriptor.name] = _state(state.stream.stream_state.__dict__, keys)
    return out


def stream_states(output: EntrypointOutput, stream: str, keys: bool = True) -> list[dict[str, Any]]:
    """Every state message of one stream, in order: its checkpoints (what a killed sync resumes from), then
    its final state."""
    return [
        _state(m.state.stream.stream_state.__dict__, keys)
        for m in output.state_messages
        if m.state.stream.stream_descriptor.name == stream
    ]


def _state(value: Mapping[str, Any], keys: bool) -> dict[str, Any]:
    return {k: v for k, v in value.items() if keys or k != "keys"}


def warnings(output: EntrypointOutput) -> list[str]:
    return [m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING")]


def error_messages(output: EntrypointOutput) -> list[str]:
    return [m.trace.error.message for m in output.errors]


def failure_types(output: EntrypointOutput) -> list[FailureType]:
    """The failure type of each error: Airbyte retries transient errors and not config errors."""
    return [m.trace.error.failure_type for m in output.errors]
