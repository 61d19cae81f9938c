"""The per-parent streams read incrementally against the sandbox, in each of its modes: a change arrives within the
syncs the README states, an unchanged parent costs nothing, and only a parent read whole ever yields a tombstone.

Staleness bound (README, "Per-parent streams"): a change that moves a signal arrives in the next sync; one that
moves none within ceil(parents / recheck_share(history_requests)) syncs. Here history_requests is 40, so the
rotation re-reads 2 parents per stream per sync: 6 event types -> 3 syncs, 8 members -> 4 syncs. Webhook
subscriptions: the organization's every sync; a member's or a group's (no signal) within
ceil((members + groups) / recheck_share(history_requests)) syncs; a removed member's or deleted group's at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from calendly_sandbox import Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import Run, as_emitted, catalog, recheck_share, run_connector, without_nulls
from integration_tests.test_optional_streams import key_of

TRACKED = ("event_type_memberships", "user_availability_schedules", "event_type_availability_schedules")
STREAMS = ["event_types", "organization_memberships", *TRACKED]
HISTORY_REQUESTS = 40
SHARE = recheck_share(HISTORY_REQUESTS)
DELETED = "_ab_cdc_deleted_at"
ENDPOINTS = {f"/{name}" for name in TRACKED}

# (event_type_changes_move_updated_at, user_availability_moves_updated_at): no signal at all, or both signals.
MODES = [pytest.param((False, False), id="no-signal"), pytest.param((True, True), id="signals")]


class Destination:
    """An append-dedup destination: the newest record per primary key, a tombstone deletes the key."""

    def __init__(self, streams: tuple[str, ...] = TRACKED) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {name: {} for name in streams}

    def load(self, run: Run) -> None:
        for stream in self.tables:
            key = key_of(stream)
            for record in run.records(stream):
                if record.get(DELETED):
                    self.tables[stream].pop(key(record), None)
                else:
                    self.tables[stream][key(record)] = without_nulls(record)

    def matches(self, sandbox: Sandbox, stream: str) -> bool:
        # The truth as the connector emits it (with the fields it adds, such as half of a flat primary key).
        key = key_of(stream)
        emitted = [without_nulls(as_emitted(stream, r)) for r in sandbox.truth.records(stream, sandbox.tokens.admin)]
        truth = {key(r): r for r in emitted}
        return self.tables[stream] == truth


class Syncs:
    """Consecutive incremental syncs of the tracked streams, each loaded into one destination."""

    def __init__(
        self,
        sandbox: Sandbox,
        token: str | None = None,
        streams: list[str] = STREAMS,
        tracked: tuple[str, ...] = TRACKED,
        **config: Any,
    ) -> None:
        self.sandbox = sandbox
        self.config = sandbox_config(sandbox, token, history_requests=HISTORY_REQUESTS, num_workers=2, **config)
        self.streams = streams
        self.destination = Destination(tracked)
        self.state: list[dict[str, Any]] | None = None

    def run(self, check: bool = True) -> Run:
        time.sleep(1.1)  # Calendly's clock has whole seconds: keep the syncs apart
        self.sandbox.clear_request_log()
        run = run_connector("read", self.config, catalog(self.streams), self.state)
        if check:
            assert run.returncode == 0, run.stderr[-2000:]
        self.destination.load(run)
        # As Airbyte does: a stream's state is replaced only by a state the stream emitted.
        states = {m["stream"]["stream_descriptor"]["name"]: m for m in (self.state or [])}
        states |= {m["stream"]["stream_descriptor"]["name"]: m for m in run.state_messages()}
        self.state = list(states.values())
        return run

    def arrivals(self, streams: list[str], syncs: int) -> dict[str, int]:
        """The first sync (1 = the next one) after which each stream's destination table equals the truth."""
        first: dict[str, int] = {}
        for number in range(1, syncs + 1):
            self.run()
            for stream in streams:
                if stream not in first and self.destination.matches(self.sandbox, stream):
                    first[stream] = number
            if len(first) == len(streams):
                break
        return {stream: first.get(stream, syncs + 1) for stream in streams}

    def until(self, arrived: Callable[[], bool], bound: int) -> int:
        """Syncs until `arrived`, at most `bound` (the README's staleness bound): the number it took."""
        for number in range(1, bound + 1):
            self.run()
            if arrived():
                return number
        raise AssertionError(f"not arrived within {bound} syncs")


def bound(parents: int, signalled: bool) -> int:
    return 1 if signalled else math.ceil(parents / SHARE)


def tracked_requests(sandbox: Sandbox) -> list[str]:
    return [e.path for e in sandbox.request_log if e.path in ENDPOINTS]


def changed(run: Run) -> dict[str, int]:
    return {stream: len(run.records(stream)) for stream in TRACKED if run.records(stream)}


@pytest.fixture
def syncs(make_sandbox: Callable[..., Sandbox], request: pytest.FixtureRequest) -> Syncs:
    sandbox = make_sandbox()
    moves, user_moves = request.param
    sandbox.set_behaviour(event_type_changes_move_updated_at=moves, user_availability_moves_updated_at=user_moves)
    syncs = Syncs(sandbox)
    first = syncs.run()
    assert not [r for s in TRACKED for r in first.records(s) if r.get(DELETED)]
    for stream in TRACKED:
        assert syncs.destination.matches(sandbox, stream), stream
    return syncs


def acme_event_types(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sandbox.truth.event_types(sandbox.tokens.admin)


def acme_users(sandbox: Sandbox) -> list[str]:
    return [m["user"]["uri"] for m in sandbox.truth.organization_memberships(sandbox.tokens.admin)]


@pytest.mark.parametrize("syncs", MODES, indirect=True)
def test_nothing_changed_reads_only_the_rotation_and_emits_nothing(syncs: Syncs) -> None:
    run = syncs.run()
    assert changed(run) == {}
    asked = tracked_requests(syncs.sandbox)
    # One request per parent of the rotation (each event type has fewer than 100 hosts), per stream.
    assert sorted(asked) == sorted([f"/{name}" for name in TRACKED for _ in range(SHARE)])


@pytest.mark.parametrize("syncs", MODES, indirect=True)
def test_an_unchanged_parent_costs_no_request_without_the_rotation(syncs: Syncs) -> None:
    syncs.config["history_requests"] = 0  # no rotation: only signals make a parent due
    run = syncs.run()
    assert changed(run) == {} and tracked_requests(syncs.sandbox) == []


@pytest.mark.parametrize("syncs", MODES, indirect=True)
def test_a_host_added_to_an_event_type_arrives_within_the_bound(syncs: Syncs, request: pytest.FixtureRequest) -> None:
    sandbox = syncs.sandbox
    signalled = sandbox.behaviour.event_type_changes_move_updated_at
    event_type = acme_event_types(sandbox)[0]["uri"]
    hosts = {r["member"]["uri"] for r in sandbox.truth.records("event_type_memberships", sandbox.tokens.admin)
             if r["event_type"]["uri"] == event_type}  # fmt: skip
    newcomer = next(u for u in acme_users(sandbox) if u not in hosts)
    sandbox.add_event_type_host(event_type, newcomer)
    parents = len(acme_event_types(sandbox))
    took = syncs.until(lambda: all(syncs.destination.matches(sandbox, s) for s in TRACKED), bound(parents, signalled))
    if signalled:
        assert took == 1


@pytest.mark.parametrize("syncs", MODES, indirect=True)
def test_an_availability_rule_changed_arrives_within_the_bound(syncs: Syncs) -> None:
    sandbox = syncs.sandbox
    behaviour = sandbox.behaviour
    hosts = {r["availability_rule"]["user"] for r in sandbox.truth.records(
        "event_type_availability_schedules", sandbox.tokens.admin)}  # fmt: skip
    user = next(u for u in acme_users(sandbox) if u in hosts)
    sandbox.change_default_availability(user)
    bounds = {
        "user_availability_schedules": bound(len(acme_users(sandbox)), behaviour.user_availability_moves_updated_at),
        "event_type_availability_schedules": bound(
            len(acme_event_types(sandbox)), behaviour.event_type_changes_move_updated_at
        ),
    }
    arrived = syncs.arrivals(list(bounds), max(bounds.values()))
    assert all(arrived[stream] <= bounds[stream] for stream in bounds), (arrived, bounds)


@pytest.mark.parametrize("syncs", MODES, indirect=True)
def test_a_removed_member_is_tombstoned(syncs: Syncs) -> None:
    sandbox = syncs.sandbox
    hosts = {r["member"]["uri"] for r in sandbox.truth.records("event_type_memberships", sandbox.tokens.admin)}
    admin_user = sandbox.truth.user(sandbox.tokens.admin)["uri"]
    leaving = next(u for u in acme_users(sandbox) if u in hosts and u != admin_user)
    schedules = [s["uri"] for s in sandbox.truth.records("user_availability_schedules", sandbox.tokens.admin)
                 if s["user"] == leaving]  # fmt: skip
    sandbox.remove_member(leaving)
    run = syncs.run()
    # The member is gone from the memberships listing, read whole: their schedules are deleted at once.
    tombstones = [r for r in run.records("user_availability_schedules") if r.get(DELETED)]
    assert sorted(r["uri"] for r in tombstones) == sorted(schedules) and schedules
    assert all(set(r) == {"uri", DELETED, "_ab_cdc_updated_at"} for r in tombstones)
    assert syncs.destination.matches(sandbox, "user_availability_schedules")
    # As a host: within the event types' bound (the next sync when the event type's updated_at moves).
    signalled = sandbox.behaviour.event_type_changes_move_updated_at
    remaining = bound(len(acme_event_types(sandbox)), signalled) - 1
    done = lambda: all(syncs.destination.matches(sandbox, s) for s in TRACKED)  # noqa: E731
    if not done():
        assert remaining > 0, "a signalled change arrives in the next sync"
        syncs.until(done, remaining)


@pytest.mark.parametrize("syncs", [MODES[1]], indirect=True)
def test_a_failed_parent_yields_no_tombstone_and_arrives_later(syncs: Syncs) -> None:
    sandbox = syncs.sandbox
    hosts = {r["member"]["uri"] for r in sandbox.truth.records("event_type_memberships", sandbox.tokens.admin)}
    admin_user = sandbox.truth.user(sandbox.tokens.admin)["uri"]
    leaving = next(u for u in acme_users(sandbox) if u in hosts and u != admin_user)
    sandbox.remove_member(leaving)
    sandbox.set_faults(Faults(error_rate=1.0, error_weights={500: 1.0}, paths=("/event_type_memberships",)))
    syncs.config["max_retries"] = 0
    failed = syncs.run(check=False)
    assert not [r for r in failed.records("event_type_memberships") if r.get(DELETED)]
    assert any("event_type_memberships" in e["message"] for e in failed.errors())
    sandbox.set_faults(Faults())
    syncs.config["max_retries"] = 2
    syncs.run()  # the event types whose hosts changed are still due: their signal was not recorded
    assert all(syncs.destination.matches(sandbox, s) for s in TRACKED)


@pytest.mark.parametrize("syncs", [MODES[0]], indirect=True)
def test_a_refused_parent_yields_no_tombstone(syncs: Syncs) -> None:
    """A member's token that Calendly refuses other users' schedules (403): the admin's records stay."""
    sandbox = syncs.sandbox
    sandbox.set_behaviour(availability_of_others=False)
    member = Syncs(sandbox, sandbox.tokens.member)
    member.state, member.destination = syncs.state, syncs.destination
    for _ in range(math.ceil(len(acme_users(sandbox)) / SHARE)):  # a whole rotation
        run = member.run()
        assert not [r for s in TRACKED for r in run.records(s) if r.get(DELETED)]
    assert member.destination.matches(sandbox, "user_availability_schedules")


# webhook_subscriptions: the organization scope every sync, members and groups on the rotation ------------------
HOOKS = "webhook_subscriptions"


@pytest.fixture
def hook_syncs(make_sandbox: Callable[..., Sandbox]) -> Syncs:
    sandbox = make_sandbox()
    syncs = Syncs(sandbox, streams=["organization_memberships", "groups", HOOKS], tracked=(HOOKS,))
    first = syncs.run()
    assert first.records(HOOKS) and not [r for r in first.records(HOOKS) if r.get(DELETED)]
    assert syncs.destination.matches(sandbox, HOOKS)
    return syncs


def hook_parents(sandbox: Sandbox) -> int:
    """Members and groups: the parents the rotation re-checks."""
    return len(acme_users(sandbox)) + len(sandbox.truth.groups(sandbox.tokens.admin))


def hook_listings(sandbox: Sandbox) -> list[str]:
    """The scope of each subscription listing the last sync asked for."""
    return [e.query["scope"] for e in sandbox.request_log if e.path == f"/{HOOKS}"]


def test_webhook_subscriptions_unchanged_cost_the_organization_and_the_rotation(hook_syncs: Syncs) -> None:
    run = hook_syncs.run()
    assert run.records(HOOKS) == []
    assert sorted(hook_listings(hook_syncs.sandbox)).count("organization") == 1
    assert len(hook_listings(hook_syncs.sandbox)) == 1 + SHARE  # each member has fewer than 100 subscriptions
    hook_syncs.config["history_requests"] = 0  # no rotation: an unchanged member or group costs nothing
    run = hook_syncs.run()
    assert run.records(HOOKS) == [] and hook_listings(hook_syncs.sandbox) == ["organization"]


def test_a_subscription_created_for_a_member_arrives_within_the_bound(hook_syncs: Syncs) -> None:
    sandbox = hook_syncs.sandbox
    admin_user = sandbox.truth.user(sandbox.tokens.admin)["uri"]
    member = next(u for u in acme_users(sandbox) if u != admin_user)
    created = sandbox.add_webhook_subscription("user", member)["subscription"]
    took = hook_syncs.until(
        lambda: hook_syncs.destination.matches(sandbox, HOOKS), math.ceil(hook_parents(sandbox) / SHARE)
    )
    assert took >= 1 and any(k[0] == created["uri"] for k in hook_syncs.destination.tables[HOOKS])


def test_deleted_subscriptions_are_tombstoned(hook_syncs: Syncs) -> None:
    sandbox = hook_syncs.sandbox
    rows = sandbox.truth.records(HOOKS, sandbox.tokens.admin)
    of_organization = next(r["uri"] for r in rows if r["scope"] == "organization")
    of_user = next(r["uri"] for r in rows if r["scope"] == "user")
    sandbox.delete_webhook_subscription(of_organization)
    sandbox.delete_webhook_subscription(of_user)
    run = hook_syncs.run()
    # The organization's listing is read every sync: its deletion arrives at once.
    assert of_organization in [r["uri"] for r in run.records(HOOKS) if r.get(DELETED)]
    # A user's, within the rotation's bound.
    if not hook_syncs.destination.matches(sandbox, HOOKS):
        hook_syncs.until(
            lambda: hook_syncs.destination.matches(sandbox, HOOKS), math.ceil(hook_parents(sandbox) / SHARE) - 1
        )
    assert not any(k[0] in (of_organization, of_user) for k in hook_syncs.destination.tables[HOOKS])


def test_a_removed_member_has_their_subscriptions_tombstoned_in_the_next_sync(hook_syncs: Syncs) -> None:
    sandbox = hook_syncs.sandbox
    admin_user = sandbox.truth.user(sandbox.tokens.admin)["uri"]
    member = next(u for u in acme_users(sandbox) if u != admin_user)
    theirs = [sandbox.add_webhook_subscription("user", member)["subscription"]["uri"] for _ in range(2)]
    hook_syncs.until(lambda: hook_syncs.destination.matches(sandbox, HOOKS), math.ceil(hook_parents(sandbox) / SHARE))
    sandbox.remove_member(member)
    run = hook_syncs.run()
    tombstones = [r for r in run.records(HOOKS) if r.get(DELETED)]
    assert sorted(r["uri"] for r in tombstones) == sorted(theirs)
    assert all(set(r) == {"uri", DELETED, "_ab_cdc_updated_at"} for r in tombstones)
    assert hook_syncs.destination.matches(sandbox, HOOKS)
