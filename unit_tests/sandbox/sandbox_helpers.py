"""Shared helpers for the sandbox tests (a uniquely named module, so it cannot clash with another conftest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from calendly_sandbox import Sandbox

# A fixed anchor makes the read-only data identical on every run.
ANCHOR = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAX_PAGES = 500  # bound on every pagination loop in these tests


class Client:
    """A requests session bound to one sandbox and one token label."""

    def __init__(self, sandbox: Sandbox, label: str | None) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        if label is not None:
            token = sandbox.tokens.by_label()[label]
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.sandbox.url}{path}", params=params, timeout=10)

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every page of a listing, following next_page_token (bounded)."""
        out = []
        for _ in range(MAX_PAGES):
            body = self.ok(path, **params)
            out.append(body)
            token = body["pagination"]["next_page_token"]
            if token is None:
                return out
            params = {**params, "page_token": token}
        raise AssertionError("pagination did not end")

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return [record for page in self.pages(path, **params) for record in page["collection"]]

    def close(self) -> None:
        self.session.close()


def error(response: requests.Response) -> dict[str, Any]:
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


class ManualClock:
    """A clock that moves only when a test moves it: page-token lifetimes and rate windows without sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_clock(sandbox: Sandbox, clock: ManualClock) -> None:
    """Run the sandbox's page-token lifetimes and rate-limit windows on `clock` instead of the wall clock."""
    sandbox.page_tokens._clock = clock
    sandbox.limiter._clock = clock
