"""The thirteen optional streams against the sandbox: every record, two incremental syncs, and who may read what."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    CURSOR_STREAMS,
    OPTIONAL_STREAMS,
    Run,
    catalog,
    discover_catalog,
    run_connector,
    without_nulls,
)


def key_of(stream: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The stream's primary key (source-defined, from discover) as a function of a record."""
    [schema] = [s for s in discover_catalog()["streams"] if s["name"] == stream]

    def at(record: dict[str, Any], path: list[str]) -> Any:
        for part in path:
            record = record.get(part) if isinstance(record, dict) else None  # type: ignore[assignment]
        return record

    return lambda record: tuple(at(record, path) for path in schema["source_defined_primary_key"])


def truth_or_refused(sandbox: Sandbox, stream: str, token: str) -> list[dict[str, Any]] | None:
    """What the token may read of the stream, or None where Calendly answers 403."""
    try:
        return sandbox.truth.records(stream, token)
    except PermissionError:
        return None


def skips(run: Run, stream: str) -> list[str]:
    return [w for w in run.warnings() if w.startswith(f"Skipping stream {stream}:")]


def assert_equals_truth(run: Run, sandbox: Sandbox, token: str, stream: str) -> None:
    key = key_of(stream)
    expected = {key(r): without_nulls(r) for r in sandbox.truth.records(stream, token)}
    got = run.records(stream)
    assert len(got) == len({key(r) for r in got}), f"{stream}: duplicate primary keys"
    assert {key(r): r for r in got} == expected, stream


@pytest.fixture(scope="module")
def full_sync(shared_sandbox: Sandbox) -> Run:
    run = run_connector("read", sandbox_config(shared_sandbox, num_workers=4), catalog(ALL_STREAMS))
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.mark.parametrize("stream", OPTIONAL_STREAMS)
def test_a_full_sync_of_every_optional_stream_equals_the_truth(
    full_sync: Run, shared_sandbox: Sandbox, stream: str
) -> None:
    assert shared_sandbox.truth.records(stream, shared_sandbox.tokens.admin), f"the sandbox should hold {stream}"
    assert_equals_truth(full_sync, shared_sandbox, shared_sandbox.tokens.admin, stream)
    assert not skips(full_sync, stream)
