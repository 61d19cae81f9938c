"""The progress lines' interval, counts and wait accounting, on a manual clock (no thread, no sleep)."""

from __future__ import annotations

import logging

import pytest

from source_calendly.progress import SyncProgress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def progress(clock: Clock) -> SyncProgress:
    return SyncProgress(logging.getLogger("test.progress"), interval=15.0, clock=clock, ticking=False)


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.progress"]


def test_a_line_comes_once_per_interval_not_per_tick(
    progress: SyncProgress, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with progress.reading("event_types"):
        for _ in range(45):  # ticks every second for 45 s: lines at 15, 30 and 45 s
            clock.now += 1
            progress.record()
            progress.request_sent()
            progress.tick()
        assert lines(caplog) == [
            "Stream event_types: 15 records, 15 requests, 0 retries, 0 s waiting on the rate limit, 15 s so far.",
            "Stream event_types: 30 records, 30 requests, 0 retries, 0 s waiting on the rate limit, 30 s so far.",
            "Stream event_types: 45 records, 45 requests, 0 retries, 0 s waiting on the rate limit, 45 s so far.",
        ]


def test_no_line_before_the_interval_and_none_outside_a_read(
    progress: SyncProgress, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock.now += 100
    progress.tick()  # no stream is read (check's requests): nothing to tell
    progress.request_sent()
    with progress.reading("users"):
        clock.now += 14.9
        progress.tick()
        assert lines(caplog) == []
    assert lines(caplog) == [
        "Stream users done: 0 records, 0 requests, 0 retries, 0 rate-limited (HTTP 429), 0 waits on the rate limit "
        "(0 s), 14.9 s."
    ]


def test_a_wait_is_told_with_its_reason_while_it_lasts_and_counted_once_for_concurrent_waiters(
    progress: SyncProgress, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with progress.reading("event_invitees"):
        progress.request_sent()
        progress.rate_limited()
        progress.retried()
        clock.now += 5
        reason = "Calendly reported 0 requests left of 500; its window resets in {seconds} s"
        progress.wait_began(reason, until=clock.now + 40)
        progress.wait_began(reason, until=clock.now + 40)
        clock.now += 10
        progress.tick()
        progress.wait_ended()
        clock.now += 30  # the second waiter waits on: still one wait
        progress.wait_ended()
        progress.tick()
    assert lines(caplog) == [
        "Stream event_invitees: 0 records, 1 requests, 1 retries, 10 s waiting on the rate limit, 15 s so far. "
        "Waiting now: Calendly reported 0 requests left of 500; its window resets in 30 s (waiting 10 s so far).",
        "Stream event_invitees: 0 records, 1 requests, 1 retries, 40 s waiting on the rate limit, 45 s so far.",
        "Stream event_invitees done: 0 records, 1 requests, 1 retries, 1 rate-limited (HTTP 429), 1 waits on the "
        "rate limit (40 s), 45.0 s.",
    ]


def test_a_wait_cut_short_by_an_error_still_counts_in_the_summary(
    progress: SyncProgress, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(RuntimeError), progress.reading("groups"):
        progress.wait_began("why")
        clock.now += 7
        raise RuntimeError("the sync failed while waiting")
    assert lines(caplog)[-1].endswith("1 waits on the rate limit (7 s), 7.0 s.")
    progress.wait_ended()  # the waiter's own end after the read ended changes nothing
    with progress.reading("teams") as teams:
        clock.now += 1
    assert teams.waits == 0 and teams.waited == 0.0


def test_an_estimate_is_a_trace_message_sent_only_when_it_changes(progress: SyncProgress) -> None:
    assert progress.estimate(10) is None  # no stream is read
    with progress.reading("event_invitees"):
        message = progress.estimate(120)
        assert message is not None
        as_dict = message.trace.estimate
        assert message.type.value == "TRACE" and message.trace.type.value == "ESTIMATE"
        assert (as_dict.name, as_dict.type.value, as_dict.row_estimate) == ("event_invitees", "STREAM", 120)
        assert progress.estimate(120) is None
        assert progress.estimate(250) is not None
