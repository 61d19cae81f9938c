"""Sandboxes for the integration tests: real HTTP on 127.0.0.1, stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Sandbox


def sandbox_config(sandbox: Sandbox, token: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"personal_access_token": token or sandbox.tokens.admin, "api_url": sandbox.url, **extra}


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[Sandbox]:
    """Read-only: tests that mutate data or change faults use `make_sandbox`."""
    with Sandbox(dataset=DatasetSpec.small(seed=11), rate_limit_per_minute=None) as sandbox:
        yield sandbox


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
