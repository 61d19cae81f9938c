"""Per-parent streams read incrementally (source_calendly/streams/tracked.py), against the fake API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from unittest.mock import ANY

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_calendly import SourceCalendly
from source_calendly.streams.tracked import ParentsState, recheck_share, rotation_slice
from source_calendly.tombstones import KeyCodec
from unit_tests.fake_api import API, MEMBER_TOKEN, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, error_messages, records, warnings

HOSTS = "event_type_memberships"
DELETED = "_ab_cdc_deleted_at"
STAMP = "_ab_cdc_updated_at"


def event_type(i: int, updated: int = 0) -> dict:
    return {"uri": f"{API}/event_types/et{i}", "name": f"Type {i}", "created_at": ts(days(-10)),
            "updated_at": ts(days(-10 + updated))}  # fmt: skip


def host(et: dict, n: int, **extra: Any) -> dict:
    return {"uri": f"{API}/event_type_memberships/{et['uri'][-3:]}-h{n}", "event_type": et,
            "member": {"uri": f"{API}/users/u{n}"}, **extra}  # fmt: skip


def sync(
    state: Mapping[str, Any] | None = None, expect_error: bool = False, **overrides: Any
) -> tuple[EntrypointOutput, dict[str, Any]]:
    """One incremental sync of event_type_memberships; no rotation unless history_requests is given."""
    catalog = CatalogBuilder().with_stream(HOSTS, SyncMode.incremental).build()
    messages = StateBuilder().with_stream_state(HOSTS, dict(state)).build() if state else None
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_error else ExpectedOutcome.EXPECT_SUCCESS
    cfg = config(**{"history_requests": 0, **overrides})
    out = read(SourceCalendly(), cfg, catalog, messages, expected_outcome=outcome)
    states = [m.state.stream.stream_state for m in out.state_messages]
    return out, (states[-1].__dict__ if states else dict(state or {}))


def asked(api: FakeCalendly) -> list[str]:
    return [q["event_type"][0].rsplit("/", 1)[-1] for q in api.paths("/event_type_memberships")]


@pytest.fixture
def three(api: FakeCalendly) -> FakeCalendly:
    api.event_types = [event_type(1), event_type(2), event_type(3)]
    for et in api.event_types:
        api.hosts[et["uri"]] = [host(et, 1), host(et, 2)]
    return api


def test_a_first_sync_reads_every_parent_and_stamps_every_record(three: FakeCalendly) -> None:
    out, state = sync()
    emitted = records(out, HOSTS)
    assert len(emitted) == 6 and all(r[STAMP] and DELETED not in r for r in emitted)
    assert sorted(state["parents"]) == ["et1", "et2", "et3"]  # each parent's id: its URI after the common prefix
    assert state["codecs"] == {"parent": [f"{API}/event_types/"], "child": [f"{API}/event_type_memberships/"]}
    assert state["parents"]["et1"][1] == {"et1-h1": ANY, "et1-h2": ANY}
    assert asked(three) == ["et1", "et2", "et3"]


def test_an_unchanged_parent_costs_no_request_and_emits_nothing(three: FakeCalendly) -> None:
    _, state = sync()
    three.requests.clear()
    out, after = sync(state)
    assert records(out, HOSTS) == [] and asked(three) == []
    assert after["parents"] == state["parents"]


def test_a_moved_signal_rereads_that_parent_only_and_emits_only_what_changed(three: FakeCalendly) -> None:
    _, state = sync()
    three.event_types[1] = event_type(2, updated=1)
    et = three.event_types[1]
    before = three.hosts[et["uri"]][0]  # still embeds the event type as it was: unchanged
    three.hosts[et["uri"]] = [before, host(et, 2, role="changed"), host(et, 3)]
    three.requests.clear()
    out, _ = sync(state)
    assert asked(three) == ["et2"]
    assert [r["uri"].rsplit("/", 1)[-1] for r in records(out, HOSTS)] == ["et2-h2", "et2-h3"]


def test_a_host_gone_from_a_reread_parent_is_tombstoned_with_its_key(three: FakeCalendly) -> None:
    _, state = sync()
    three.event_types[0] = event_type(1, updated=1)
    et = three.event_types[0]
    three.hosts[et["uri"]] = [host(et, 2)]
    out, _ = sync(state)
    [gone] = [r for r in records(out, HOSTS) if r.get(DELETED)]
    assert gone["uri"] == f"{API}/event_type_memberships/et1-h1" and gone[DELETED] == gone[STAMP]
    assert set(gone) == {"uri", DELETED, STAMP}


def test_a_parent_gone_from_the_listing_tombstones_all_its_children(three: FakeCalendly) -> None:
    _, state = sync()
    removed = three.event_types.pop(2)
    three.requests.clear()
    out, after = sync(state)
    assert sorted(r["uri"] for r in records(out, HOSTS)) == [h["uri"] for h in three.hosts[removed["uri"]]]
    assert all(r[DELETED] for r in records(out, HOSTS)) and asked(three) == []
    assert "et3" not in after["parents"]


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_or_vanished_parent_yields_no_tombstone_and_is_read_again(three: FakeCalendly, status: int) -> None:
    _, state = sync()
    for i in (0, 2):  # et1 answers (so the stream is not refused), et3 does not
        three.event_types[i] = event_type(i + 1, updated=1)
    three.hosts[three.event_types[2]["uri"]] = []
    three.faults.append(Fault("/event_type_memberships", status, {"title": "x", "message": "y"},
                              query_has=f"event_type={three.event_types[2]['uri']}"))  # fmt: skip
    out, after = sync(state)
    assert [r for r in records(out, HOSTS) if r.get(DELETED)] == []
    assert any("et3" in w for w in warnings(out))
    assert after["parents"]["et3"] == state["parents"]["et3"]  # the old signal: due again
    out, _ = sync(after)
    assert sorted(r["uri"] for r in records(out, HOSTS) if r.get(DELETED)) == [
        f"{API}/event_type_memberships/et3-h1", f"{API}/event_type_memberships/et3-h2"
    ]  # fmt: skip


def test_a_failed_parent_fails_the_stream_without_a_tombstone(three: FakeCalendly) -> None:
    _, state = sync()
    three.event_types[0] = event_type(1, updated=1)
    three.hosts[three.event_types[0]["uri"]] = []
    three.faults.append(Fault("/event_type_memberships", 500, {"title": "x", "message": "y"}, times=10))
    out, _ = sync(state, expect_error=True, max_retries=1)
    assert records(out, HOSTS) == [] and any(HOSTS in m for m in error_messages(out))


def test_the_rotation_rereads_each_parent_in_turn_without_a_signal(three: FakeCalendly) -> None:
    _, state = sync()
    seen: list[list[str]] = []
    for _ in range(4):
        three.requests.clear()
        _, state = sync(state, history_requests=20)  # a share of one parent per sync
        seen.append(asked(three))
    assert seen == [["et1"], ["et2"], ["et3"], ["et1"]]


def test_a_change_without_a_signal_arrives_when_the_rotation_reaches_it(three: FakeCalendly) -> None:
    _, state = sync()
    et = three.event_types[2]
    three.hosts[et["uri"]].append(host(et, 9))
    arrived = []
    for number in range(1, 4):
        out, state = sync(state, history_requests=20)
        if records(out, HOSTS):
            arrived.append((number, [r["uri"][-6:] for r in records(out, HOSTS)]))
    assert arrived == [(3, ["et3-h9"])]


def test_a_state_of_another_scope_starts_over_without_tombstones(three: FakeCalendly) -> None:
    _, state = sync()
    out, _ = sync({**state, "scope": f"{API}/organizations/other"})
    assert len(records(out, HOSTS)) == 6 and not [r for r in records(out, HOSTS) if r.get(DELETED)]
    assert any("another user or role" in w for w in warnings(out))


def test_a_state_of_another_primary_key_starts_over_without_tombstones(three: FakeCalendly) -> None:
    _, state = sync()
    assert state["key"] == [["uri"]]
    out, after = sync({**state, "key": [["event_type"], ["member", "uri"]]})
    assert len(records(out, HOSTS)) == 6 and not [r for r in records(out, HOSTS) if r.get(DELETED)]
    assert any("primary key is now" in w for w in warnings(out))
    assert after["key"] == [["uri"]] and sorted(after["parents"]) == ["et1", "et2", "et3"]


def test_a_member_token_keeps_its_own_scope(three: FakeCalendly) -> None:
    _, state = sync(personal_access_token=MEMBER_TOKEN)
    assert state["scope"].startswith(f"{API}/users/")


def test_a_state_not_understood_is_a_config_error(three: FakeCalendly) -> None:
    out, _ = sync({"parents": {"event_types/et1": "nonsense"}}, expect_error=True)
    assert any("not understood" in m for m in error_messages(out))


def test_full_refresh_reads_every_parent_and_leaves_the_state_alone(three: FakeCalendly) -> None:
    catalog = CatalogBuilder().with_stream(HOSTS, SyncMode.full_refresh).build()
    out = read(SourceCalendly(), config(), catalog)
    assert len(records(out, HOSTS)) == 6 and asked(three) == ["et1", "et2", "et3"]


@pytest.mark.parametrize(
    ("after", "size", "expected"),
    [(None, 2, ["a", "b"]), ("b", 2, ["c", "a"]), ("c", 5, ["a", "b", "c"]), ("bb", 1, ["c"]), ("a", 0, [])],
)
def test_rotation_slice(after: str | None, size: int, expected: list[str]) -> None:
    assert rotation_slice(["c", "a", "b"], after, size) == expected


def test_the_recheck_share_is_a_twentieth_of_the_history_budget() -> None:
    assert (recheck_share(200), recheck_share(1), recheck_share(0)) == (10, 1, 0)


def test_state_round_trips() -> None:
    codecs = KeyCodec(["p/"]), KeyCodec(["c/"])
    state = ParentsState("org", "et1", {"et1": ["abcd", {"h1": "12345678"}]}, *codecs, [["uri"]])
    assert ParentsState.parse("s", state.to_dict()) == state


def test_a_state_without_codecs_is_read_as_new() -> None:
    assert ParentsState.parse("s", {}) == ParentsState()
