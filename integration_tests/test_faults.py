"""Injected faults, expiring page tokens and a tight rate limit still give a complete, duplicate-free sync."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, catalog, run_connector, without_nulls


def assert_complete(sandbox: Sandbox, run: Any) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    admin = sandbox.tokens.admin
    for stream in ("scheduled_events", "event_types", "organization_memberships", "routing_forms"):
        got = run.records(stream)
        assert len(got) == len({r["uri"] for r in got}), f"duplicates in {stream}"
        expected = {r["uri"]: without_nulls(r) for r in getattr(sandbox.truth, stream)(admin)}
        assert {r["uri"]: r for r in got} == expected, stream
    invitees = run.uris("event_invitees")
    assert len(invitees) == len(set(invitees))
    assert set(invitees) == {i["uri"] for i in sandbox.truth.event_invitees(admin)}
    submissions = run.uris("routing_form_submissions")
    assert sorted(submissions) == sorted({s["uri"] for s in sandbox.truth.routing_form_submissions(admin)})


def test_expiring_page_tokens_mid_sync(make_sandbox: Any) -> None:
    # Tokens live 0.15 s while the invitees of a page of events take longer: event pages expire mid-listing.
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=29, events=450),
        page_token_ttl_seconds=0.15,
        faults=Faults(latency_ms_median=3, seed=3),
    )
    # Invitees first: their event listing interleaves with the fan-out (scheduled_events then replays it).
    streams = ["event_invitees", *(s for s in ALL_STREAMS if s != "event_invitees")]
    run = run_connector("read", sandbox_config(sandbox, num_workers=2), catalog(streams))
    assert_complete(sandbox, run)
    rejected = [e for e in sandbox.request_log if e.status == 400 and "page_token" in e.query]
    assert rejected, "the test should really have expired a page token"


def test_moderate_fault_rates(make_sandbox: Any) -> None:
    faults = Faults(error_rate=0.04, reset_rate=0.01, truncated_rate=0.01, latency_ms_median=2, seed=5)
    sandbox: Sandbox = make_sandbox(faults=faults)
    run = run_connector("read", sandbox_config(sandbox), catalog(ALL_STREAMS), timeout=600)
    assert_complete(sandbox, run)
    statuses = {e.status for e in sandbox.request_log}
    assert statuses & {429, 500, 502, 503}, "faults should have been injected"


def test_a_tight_rate_limit_is_followed_without_a_storm_of_429s(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(rate_limit_per_minute=60, rate_window_seconds=1.5)
    run = run_connector("read", sandbox_config(sandbox, num_workers=4), catalog(ALL_STREAMS), timeout=600)
    assert_complete(sandbox, run)
    too_many = [e for e in sandbox.request_log if e.status == 429]
    assert len(too_many) <= 3, f"{len(too_many)} requests hit 429"


def test_a_budget_shared_with_another_integration_is_followed_without_a_storm_of_429s(make_sandbox: Any) -> None:
    # Calendly's limit is per user: another integration of the same user spends the window's budget while the
    # connector syncs. It calls GET /organizations/{uuid}, which the connector does not (its organization stream is
    # left out), so the request log tells the two apart. The connector sees less remaining and waits, rather than
    # hitting 429s.
    window = 1.5
    sandbox: Sandbox = make_sandbox(rate_limit_per_minute=60, rate_window_seconds=window)
    headers = {"Authorization": f"Bearer {sandbox.tokens.admin}"}
    organization = requests.get(f"{sandbox.url}/users/me", headers=headers).json()["resource"]["current_organization"]
    neighbour_url = f"{sandbox.url}/organizations/{organization.rsplit('/', 1)[-1]}"
    stop = threading.Event()

    def neighbour() -> None:  # a third of every window's budget, evenly
        while not stop.wait(window / 20):
            requests.get(neighbour_url, headers=headers, timeout=10)

    thread = threading.Thread(target=neighbour, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        streams = [s for s in ALL_STREAMS if s != "organization"]
        run = run_connector("read", sandbox_config(sandbox, num_workers=4), catalog(streams), timeout=600)
    finally:
        stop.set()
        thread.join()
    windows = (time.monotonic() - started) / window
    assert_complete(sandbox, run)
    neighbour_ok = [e for e in sandbox.request_log if e.endpoint == "/organizations/{uuid}" and e.status == 200]
    assert len(neighbour_ok) > 3 * windows, "the neighbour should really have spent the budget"
    ours_429 = [e for e in sandbox.request_log if e.status == 429 and e.endpoint != "/organizations/{uuid}"]
    # Measured: 0, at most 1 with the other core busy; with the budget switched off, 8 in 5 windows. Only a
    # request in flight when the neighbour takes a window's last unit can be refused.
    assert len(ours_429) <= 3, f"{len(ours_429)} of the connector's requests hit 429 in {windows:.0f} windows"
