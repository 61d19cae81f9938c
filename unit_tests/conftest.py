"""Shared fixtures: the fake API on requests-mock, no real sleeping, and in-process connector runs."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

import pytest
import requests_mock

from unit_tests.fake_api import FakeCalendly


@pytest.fixture
def api() -> Iterator[FakeCalendly]:
    fake = FakeCalendly()
    with requests_mock.Mocker() as mocker:
        fake.install(mocker)
        yield fake


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    # Backoff waits become instant; the waits themselves are asserted where they matter.
    with patch("time.sleep"):
        yield
