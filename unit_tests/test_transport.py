"""Retry backoff bounds and the deadline adapter's wiring (the behaviour on the wire: test_hostile_network.py)."""

import requests

from source_calendly.transport import DeadlineAdapter, RetryPolicy, _HTTPPool, _HTTPSPool


def test_backoff_doubles_from_the_first_wait_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(first_backoff=0.25, max_backoff=30.0)
    for failures, ceiling in ((1, 0.25), (2, 0.5), (5, 4.0), (8, 30.0), (20, 30.0)):
        waits = [policy.backoff(failures) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 10  # jittered, not constant


def test_the_adapter_builds_connections_whose_responses_read_under_the_deadline() -> None:
    adapter = DeadlineAdapter(total_seconds=2.0)
    session = requests.Session()
    session.mount("http://", adapter)
    assert adapter.poolmanager.pool_classes_by_scheme == {"http": _HTTPPool, "https": _HTTPSPool}
    proxied = adapter.proxy_manager_for("http://proxy.example:3128")
    assert proxied.pool_classes_by_scheme == {"http": _HTTPPool, "https": _HTTPSPool}
