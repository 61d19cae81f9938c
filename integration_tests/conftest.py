"""Sandboxes for the integration tests: real HTTP on 127.0.0.1, stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.harness import ALL_STREAMS, Run, catalog, run_connector


def sandbox_config(sandbox: Sandbox, token: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"personal_access_token": token or sandbox.tokens.admin, "api_url": sandbox.url, **extra}


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[Sandbox]:
    """Read-only: tests that mutate data or change faults use `make_sandbox`."""
    with Sandbox(dataset=DatasetSpec.small(seed=11), rate_limit_per_minute=None) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def full_sync(shared_sandbox: Sandbox) -> Run:
    """One full sync of every stream with the admin token, read by the tests that only look at its output."""
    run = run_connector("read", sandbox_config(shared_sandbox, num_workers=4), catalog(ALL_STREAMS))
    assert run.returncode == 0, run.stderr[-2000:]
    return run


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    created: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("dataset", DatasetSpec.small(seed=23))
        kwargs.setdefault("rate_limit_per_minute", None)
        sandbox = Sandbox(**kwargs)
        sandbox.start()
        created.append(sandbox)
        return sandbox

    yield make
    for sandbox in created:
        sandbox.stop()
