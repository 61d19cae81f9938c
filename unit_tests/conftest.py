"""Shared fixtures: the fake API on requests-mock, no real sleeping, and in-process connector runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from unittest.mock import patch

import pytest
import requests_mock
from airbyte_cdk.utils import airbyte_secrets_utils

from source_calendly.rate_budget import RateBudget
from unit_tests.fake_api import FakeCalendly


@pytest.fixture
def api() -> Iterator[FakeCalendly]:
    fake = FakeCalendly()
    with requests_mock.Mocker() as mocker:
        fake.install(mocker)
        yield fake


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own time zone is not UTC (Calendly's and the connector's always are)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    # Backoff and rate-budget waits become instant; test_rate_budget.py asserts the budget's waits on a fake
    # clock, and the sandbox tests override this fixture because they measure real time.
    with patch("time.sleep"), patch.object(RateBudget, "_wait_needed", return_value=0.0):
        yield


@pytest.fixture(autouse=True)
def no_secrets_from_other_tests() -> Iterator[None]:
    """The CDK masks every secret it has seen in this process in what it prints: one test's token `t` would
    turn each `t` in a later test's messages into `****`."""
    before = list(getattr(airbyte_secrets_utils, "__SECRETS_FROM_CONFIG"))
    airbyte_secrets_utils.update_secrets([])
    yield
    airbyte_secrets_utils.update_secrets(before)
