"""Progress while reading (issue 19), read from the real connector's log during a sync that waits on the
sandbox's rate limit: the periodic lines, the wait and its reason, the per-stream summary, the ESTIMATE
messages, and not one request more than the same sync makes without a rate limit.
"""

from __future__ import annotations

import re
from typing import Any

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import Run, catalog, run_connector

STREAMS = ["scheduled_events", "event_invitees"]
SUMMARY = re.compile(
    r"Stream (\w+) done: (\d+) records, (\d+) requests, (\d+) retries, (\d+) rate-limited \(HTTP 429\), "
    r"(\d+) waits on the rate limit \((\d+) s\), [\d.]+ s\."
)
LINE = re.compile(r"Stream (\w+): (\d+) records(?: of ~\d+)?, (\d+) requests, (\d+) retries, (\d+) s waiting on the")


def summaries(run: Run) -> dict[str, tuple[int, ...]]:
    out = {}
    for message in run.logs("INFO"):
        match = SUMMARY.fullmatch(message)
        if match:
            out[match[1]] = tuple(int(n) for n in match.groups()[1:])
    return out


def estimates(run: Run, stream: str) -> list[int]:
    return [
        m["trace"]["estimate"]["row_estimate"]
        for m in run.of("TRACE")
        if m["trace"]["type"] == "ESTIMATE" and m["trace"]["estimate"]["name"] == stream
    ]


def test_a_sync_that_waits_on_the_rate_limit_tells_its_progress_and_why_it_waits(make_sandbox: Any) -> None:
    dataset = DatasetSpec.small(seed=31)
    # The same sync on an unlimited sandbox: how many requests it takes when it never waits.
    unlimited: Sandbox = make_sandbox(dataset=dataset)
    baseline = run_connector("read", sandbox_config(unlimited, num_workers=4), catalog(STREAMS))
    assert baseline.returncode == 0, baseline.stderr[-2000:]
    expected_requests = len(unlimited.request_log)

    # 40 requests per 3-second window: the sync spends most of its time waiting for the window to reset.
    limited: Sandbox = make_sandbox(dataset=dataset, rate_limit_per_minute=40, rate_window_seconds=3.0)
    config = sandbox_config(limited, num_workers=4, progress_interval_seconds=1)
    run = run_connector("read", config, catalog(STREAMS), timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.counts() == baseline.counts()

    # Not one request more: every request either sync made is a request the other made (429s aside).
    answered = [e for e in limited.request_log if e.status != 429]
    assert len(answered) == expected_requests
    done = summaries(run)
    assert set(done) == set(STREAMS)
    # The summaries account for every request the sandbox saw, 429s included, and every record.
    assert sum(s[1] for s in done.values()) == len(limited.request_log)
    assert sum(s[3] for s in done.values()) == sum(1 for e in limited.request_log if e.status == 429)
    for stream in STREAMS:
        records, _, retries, *_ = done[stream]
        assert records == run.counts()[stream] and retries == 0
    assert sum(s[4] for s in done.values()) > 0 and sum(s[5] for s in done.values()) > 0  # it waited, seconds

    # The periodic lines: counts that only grow, and at least one line said why the sync was waiting.
    lines = [LINE.match(m) for m in run.logs("INFO")]
    lines_of = {stream: [m for m in lines if m and m[1] == stream] for stream in STREAMS}
    assert lines_of["event_invitees"], run.logs("INFO")
    requests_seen = [int(m[3]) for m in lines_of["event_invitees"]]
    assert requests_seen == sorted(requests_seen)
    waiting = [
        m for m in run.logs("INFO") if "Waiting now: Calendly reported 0 requests left of 40; its window resets in" in m
    ]
    assert waiting and all(re.search(r"its window resets in \d+ s \(waiting \d+ s so far\)\.$", m) for m in waiting)

    # ESTIMATE messages for invitees, from the events' invitees_counter: the last one is the exact count on
    # a first sync (every invitee is new), and the first comes before the first invitee record.
    invitee_estimates = estimates(run, "event_invitees")
    assert invitee_estimates and invitee_estimates == sorted(invitee_estimates)
    assert invitee_estimates[-1] == run.counts()["event_invitees"]
    kinds = [
        m["type"] if m["type"] != "TRACE" else m["trace"]["type"]
        for m in run.messages
        if (m["type"] == "RECORD" and m["record"]["stream"] == "event_invitees")
        or (m["type"] == "TRACE" and m["trace"]["type"] == "ESTIMATE")
    ]
    assert kinds[0] == "ESTIMATE"
    assert estimates(run, "scheduled_events") == []  # no total is known without a request: none is made up

    # No secret in any of it.
    assert limited.tokens.admin not in run.stdout and limited.tokens.admin not in run.stderr
