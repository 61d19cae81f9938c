"""Injected faults, expiring page tokens and a tight rate limit still give a complete, duplicate-free sync."""

from __future__ import annotations

import threading
from typing import Any

import requests

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, catalog, run_connector, without_nulls

NEIGHBOUR = "/organizations/{uuid}"  # an endpoint the connector never calls: another integration of the user


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
    # A token expires once 20 other requests were served after it: the hundred invitee requests of a page of
    # events always outlast it, so event pages expire mid-listing however fast or slow the machine is.
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=29, events=450), page_token_ttl_seconds=20)
    sandbox.page_tokens._clock = lambda: float(len(sandbox.request_log))  # the lifetime counts requests, not seconds
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


def windows_spanned(sandbox: Sandbox, window: float) -> float:
    """How many rate windows the connector's requests spread over, by the sandbox's own clock."""
    times = [e.time for e in sandbox.request_log if e.endpoint != NEIGHBOUR]
    return (max(times) - min(times)) / window + 1


# Without the budget every window ends in a burst of refused requests, about one per worker (measured 40 in 18
# windows, 44 in 13 with the neighbour); with it, a 429 needs a request in flight when the window's last unit
# goes (measured 2 in 18, 6 in 15). The bound sits between them, a factor of about 2.5 from either side, and
# holds however long the sync takes, since it grows with the windows the sync spans.
def test_a_tight_rate_limit_is_followed_without_a_storm_of_429s(make_sandbox: Any) -> None:
    window = 1.5
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=23, events=600), rate_limit_per_minute=60, rate_window_seconds=window
    )
    run = run_connector("read", sandbox_config(sandbox, num_workers=4), catalog(ALL_STREAMS), timeout=600)
    assert_complete(sandbox, run)
    windows = windows_spanned(sandbox, window)
    too_many = [e for e in sandbox.request_log if e.status == 429]
    assert len(too_many) <= windows, f"{len(too_many)} requests hit 429 in {windows:.0f} windows"


def test_a_budget_shared_with_another_integration_is_followed_without_a_storm_of_429s(make_sandbox: Any) -> None:
    # Calendly's limit is per user: another integration of the same user spends the window's budget while the
    # connector syncs. It calls GET /organizations/{uuid}, which the connector does not (its organization stream is
    # left out), so the request log tells the two apart. The connector sees less remaining and waits, rather than
    # hitting 429s.
    window = 1.5
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=23, events=600), rate_limit_per_minute=60, rate_window_seconds=window
    )
    headers = {"Authorization": f"Bearer {sandbox.tokens.admin}"}
    organization = requests.get(f"{sandbox.url}/users/me", headers=headers).json()["resource"]["current_organization"]
    neighbour_url = f"{sandbox.url}/organizations/{organization.rsplit('/', 1)[-1]}"
    stop = threading.Event()

    def neighbour() -> None:  # a third of every window's budget, evenly
        while not stop.wait(window / 20):
            requests.get(neighbour_url, headers=headers, timeout=10)

    thread = threading.Thread(target=neighbour, daemon=True)
    thread.start()
    try:
        streams = [s for s in ALL_STREAMS if s != "organization"]
        run = run_connector("read", sandbox_config(sandbox, num_workers=4), catalog(streams), timeout=600)
    finally:
        stop.set()
        thread.join()
    windows = windows_spanned(sandbox, window)
    assert_complete(sandbox, run)
    neighbour_ok = [e for e in sandbox.request_log if e.endpoint == NEIGHBOUR and e.status == 200]
    assert len(neighbour_ok) > 3 * windows, "the neighbour should really have spent the budget"
    ours_429 = [e for e in sandbox.request_log if e.status == 429 and e.endpoint != NEIGHBOUR]
    assert len(ours_429) <= windows, f"{len(ours_429)} of the connector's requests hit 429 in {windows:.0f} windows"
