"""Fixtures for the sandbox's own tests: real HTTP on 127.0.0.1, every server stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_helpers import ANCHOR, Client

from calendly_sandbox import DatasetSpec, Sandbox


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    """Overrides the connector suite's autouse ``no_sleep``: these tests measure real time (windows, TTLs)."""
    yield


@pytest.fixture(scope="session")
def ro() -> Iterator[Sandbox]:
    """Shared read-only sandbox (small dataset, fixed anchor, no rate limit). Tests must not mutate it."""
    with Sandbox(dataset=DatasetSpec.small(seed=7, anchor=ANCHOR), rate_limit_per_minute=None) as sandbox:
        yield sandbox


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Factory for private, started sandboxes (mutations, faults, rate limits)."""
    created: list[Sandbox] = []

    def make(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("dataset", DatasetSpec.small(seed=7, anchor=ANCHOR))
        sandbox = Sandbox(**kwargs).start()
        created.append(sandbox)
        return sandbox

    yield make
    for sandbox in created:
        sandbox.stop()


@pytest.fixture
def client() -> Iterator[Callable[[Sandbox, str | None], Client]]:
    clients: list[Client] = []

    def make(sandbox: Sandbox, label: str | None = "admin") -> Client:
        c = Client(sandbox, label)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def admin(ro: Sandbox, client: Callable[[Sandbox, str | None], Client]) -> Client:
    return client(ro, "admin")


@pytest.fixture
def member(ro: Sandbox, client: Callable[[Sandbox, str | None], Client]) -> Client:
    return client(ro, "member")


@pytest.fixture
def acme(ro: Sandbox) -> str:
    return ro.truth.organization("admin")["uri"]


@pytest.fixture
def solo(ro: Sandbox) -> str:
    return ro.truth.organization("no_teams")["uri"]
