"""What a sync shares: its clock, scope and worker threads, and the rate budget the config builds (on a clock
the tests control).

The reads below run through the real entrypoint with the real `RateBudget` logic; only its clock is fake:
its waits move the clock instead of sleeping, and the fake API notes the clock's time of every request.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
import requests

from source_calendly.config import CalendlyConfig
from source_calendly.context import NON_ADMIN_WARNING, Account, SyncContext, server_time
from source_calendly.rate_budget import RateBudget
from unit_tests.fake_api import MEMBER_USER as USER
from unit_tests.fake_api import ORG, FakeCalendly, Fault
from unit_tests.helpers import config, run_read, uris


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_sleep() -> Iterator[None]:
    """Overrides the suite's: the budget's own waiting logic runs (on the fake clock); backoff does not sleep."""
    with patch("time.sleep"):
        yield


@pytest.fixture
def clock(api: FakeCalendly) -> Iterator[FakeClock]:
    """Every budget the connector builds runs on this clock; `api.request_times` holds it per request."""
    fake = FakeClock()

    class FakeClockBudget(RateBudget):
        def __init__(self, requests_per_minute: float | None = None) -> None:
            super().__init__(requests_per_minute=requests_per_minute, clock=fake)

            def wait(timeout: float | None = None) -> bool:  # waiting moves the fake clock
                fake.now += timeout or 0
                return True

            self._cond.wait = wait  # type: ignore[method-assign]

    api.clock = fake
    with patch("source_calendly.context.RateBudget", FakeClockBudget):
        yield fake


def event_types(n: int) -> list[dict[str, str]]:
    return [{"uri": f"https://api.calendly.com/event_types/t{i:03}", "name": f"T{i}"} for i in range(n)]


def test_requests_per_minute_spaces_every_request_of_the_sync(api: FakeCalendly, clock: FakeClock) -> None:
    api.event_types = event_types(250)
    out = run_read(["event_types"], config(requests_per_minute=30))
    assert len(uris(out, "event_types")) == 250
    times = api.request_times
    assert len(times) == 5  # /users/me, the role, three pages
    assert all(later - earlier >= 2.0 for earlier, later in itertools.pairwise(times))  # 60 / 30


def test_without_requests_per_minute_nothing_waits(api: FakeCalendly, clock: FakeClock) -> None:
    api.event_types = event_types(250)
    run_read(["event_types"])
    assert api.request_times == [1000.0] * 5


def test_a_429_with_only_retry_after_is_waited_out_then_retried(api: FakeCalendly, clock: FakeClock) -> None:
    # Calendly documents X-RateLimit-Reset; a 429 from something in between may carry only Retry-After.
    api.event_types = event_types(3)
    api.faults.append(Fault("/event_types", 429, {"title": "Too Many Requests"}, {"Retry-After": "7"}))
    out = run_read(["event_types"])
    assert len(uris(out, "event_types")) == 3 and not out.errors
    refused, retried = api.request_times[-2:]
    assert 7 <= retried - refused < 8  # the shared budget held every request back until then, no longer


def sync_context(selected: frozenset[str] | None = None, **options: Any) -> SyncContext:
    return SyncContext(CalendlyConfig.from_mapping({"personal_access_token": "t", **options}), MagicMock(), selected)


def with_date(value: str | None) -> requests.Response:
    r = requests.Response()
    if value is not None:
        r.headers["Date"] = value
    return r


def test_the_sync_starts_on_calendlys_clock_in_utc(tokyo: None) -> None:
    assert server_time(with_date("Tue, 24 Nov 2026 12:00:00 GMT")) == datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert server_time(with_date("Tue, 24 Nov 2026 12:00:00 GMT")).utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, "yesterday"])
def test_without_a_usable_date_header_the_sync_starts_on_our_clock(tokyo: None, value: str | None) -> None:
    before = datetime.now(UTC)
    started = server_time(with_date(value))
    assert before <= started <= datetime.now(UTC) and started.utcoffset() == timedelta(0)


def test_a_listing_is_spooled_only_when_both_streams_that_read_it_are_in_the_catalog() -> None:
    assert sync_context(None).both_selected("scheduled_events", "event_invitees")  # catalog unknown
    both = frozenset({"scheduled_events", "event_invitees"})
    assert sync_context(both).both_selected("scheduled_events", "event_invitees")
    assert sync_context(both | {"event_types"}).both_selected("scheduled_events", "event_invitees")
    assert not sync_context(frozenset({"scheduled_events"})).both_selected("scheduled_events", "event_invitees")


def test_a_non_admin_scope_is_the_users_own_with_one_warning_naming_the_role() -> None:
    context = sync_context()
    account = Account(USER, "Max Member", "max@example.com", ORG, None, datetime(2026, 1, 1, tzinfo=UTC))
    context.set_account_resolver(lambda: account)
    assert context.scope_params() == {"user": USER} and context.scope_params() == {"user": USER}
    context.logger.warning.assert_called_once_with(NON_ADMIN_WARNING.format(name="Max Member", role="unknown"))
    assert account.describe() == f"Max Member <max@example.com>, role 'unknown' in organization {ORG}"


def test_an_owner_or_admin_reads_the_organization_without_a_warning() -> None:
    for role in ("owner", "admin"):
        context = sync_context()
        account = Account(USER, "Ada", "ada@example.com", ORG, role, datetime(2026, 1, 1, tzinfo=UTC))
        context.set_account_resolver(lambda account=account: account)
        assert context.scope_params() == {"organization": ORG}
        context.logger.warning.assert_not_called()


def test_the_fan_out_runs_on_num_workers_threads() -> None:
    assert sync_context(num_workers=1).executor is None  # everything on the main thread
    two = sync_context(num_workers=2).executor
    assert two is not None and two._max_workers == 2
    pool = sync_context(num_workers=3).executor
    assert pool is not None and pool._max_workers == 3
    names = set(pool.map(lambda _: threading.current_thread().name, range(30)))
    assert names and all(name.startswith("calendly") for name in names)


def test_the_warning_and_the_description_name_the_members_role() -> None:
    context = sync_context()
    account = Account(USER, "Max Member", "max@example.com", ORG, "user", datetime(2026, 1, 1, tzinfo=UTC))
    context.set_account_resolver(lambda: account)
    context.warn_if_not_admin()
    context.warn_if_not_admin()  # once per process, however many streams ask
    context.logger.warning.assert_called_once_with(NON_ADMIN_WARNING.format(name="Max Member", role="user"))
    assert account.describe() == f"Max Member <max@example.com>, role 'user' in organization {ORG}"
