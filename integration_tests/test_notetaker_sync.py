"""meeting_recaps, the opt-in meeting_recap_transcripts and locations against the sandbox: a full sync equals its
truth at the minimum requests, an incremental sync emits exactly what changed (tombstones for deleted recaps and
removed locations), and nothing is ever tombstoned after a refusal or a failed listing.

Cost per sync (README, "Meeting recaps"): one listing per recap status, whatever changed; one confirming request
per recap gone from the listings (per stream that had it); one transcript per new or changed available recap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import Run, catalog, discover_catalog, minimum_requests, run_connector, without_nulls

RECAPS, TRANSCRIPTS, LOCATIONS = "meeting_recaps", "meeting_recap_transcripts", "locations"
STREAMS = [RECAPS, TRANSCRIPTS, LOCATIONS, "organization_memberships"]
SWITCH = "include_meeting_recap_transcripts"
KEYS: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    RECAPS: lambda r: (r["uri"],),
    TRANSCRIPTS: lambda r: (r["recap"],),
    LOCATIONS: lambda r: (r["user"], r["kind"]),
}
DELETED = "_ab_cdc_deleted_at"
MEMBERS = 8  # DatasetSpec.small(): history_requests 160 re-reads every member's locations each sync (160 / 20)


class Destination:
    """An append-dedup destination: the newest record per primary key; a tombstone deletes the key."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {name: {} for name in KEYS}

    def load(self, run: Run) -> None:
        for stream, key in KEYS.items():
            for record in run.records(stream):
                if record.get(DELETED):
                    self.tables[stream].pop(key(record), None)
                else:
                    self.tables[stream][key(record)] = without_nulls(record)

    def equals_truth(self, sandbox: Sandbox, token: str) -> bool:
        for stream, key in KEYS.items():
            truth = {key(r): without_nulls(r) for r in sandbox.truth.records(stream, token)}
            if self.tables[stream] != truth:
                return False
        return True


class Syncs:
    def __init__(self, sandbox: Sandbox, token: str | None = None, **config: Any) -> None:
        self.sandbox = sandbox
        self.config = sandbox_config(sandbox, token, num_workers=2, history_requests=20 * MEMBERS, **{SWITCH: True})
        self.config.update(config)
        self.destination = Destination()
        self.state: list[dict[str, Any]] | None = None

    def run(self, token: str | None = None, ok: bool = True, **config: Any) -> Run:
        time.sleep(1.1)  # Calendly's clock has whole seconds: keep the syncs apart
        self.sandbox.clear_request_log()
        cfg = {**self.config, **({"personal_access_token": token} if token else {}), **config}
        run = run_connector("read", cfg, catalog(STREAMS, opt_in=[SWITCH]), self.state)
        if ok:
            assert run.returncode == 0, run.stderr[-2000:]
        self.destination.load(run)
        states = {m["stream"]["stream_descriptor"]["name"]: m for m in (self.state or [])}
        states |= {m["stream"]["stream_descriptor"]["name"]: m for m in run.state_messages()}
        self.state = list(states.values())
        return run


def emitted(run: Run, stream: str) -> set[tuple[Any, ...]]:
    return {(*KEYS[stream](r), bool(r.get(DELETED))) for r in run.records(stream)}


def tombstones(run: Run) -> list[dict[str, Any]]:
    return [r for stream in KEYS for r in run.records(stream) if r.get(DELETED)]


def paths(sandbox: Sandbox) -> list[str]:
    return [e.path for e in sandbox.request_log]


@pytest.mark.parametrize("visibility", ["own", "organization"])
def test_a_full_sync_equals_the_truth_at_the_minimum_requests(
    make_sandbox: Callable[..., Sandbox], visibility: str
) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(meeting_recaps_visibility=visibility)
    syncs = Syncs(sandbox)
    run = syncs.run()
    admin = sandbox.tokens.admin
    assert syncs.destination.equals_truth(sandbox, admin)
    assert tombstones(run) == [] and run.records(TRANSCRIPTS)
    statuses = {r["status"] for r in run.records(RECAPS)}
    assert statuses == {"available", "processing", "unavailable"} or visibility == "own"
    # Exact: /users/me, the role lookup, the memberships, one listing per status (the available one shared with
    # the transcripts), one transcript per available recap, one location list per member.
    assert len(sandbox.request_log) == minimum_requests(sandbox, admin, streams=STREAMS) + 1


def test_an_incremental_sync_emits_exactly_the_changes_and_tombstones(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(meeting_recaps_visibility="organization")
    admin = sandbox.tokens.admin
    syncs = Syncs(sandbox)
    syncs.run()
    truth = sandbox.truth.records(RECAPS, admin)
    available = [r["uri"] for r in truth if r["status"] == "available"]
    processing = [r["uri"] for r in truth if r["status"] == "processing"]
    deleted, edited = available[0], available[1]
    created = sandbox.create_meeting_recap(status="processing")["recap"]["uri"]
    sandbox.delete_meeting_recap(deleted)
    sandbox.edit_meeting_recap(edited, summary_md="Decided to ship.")
    finished = processing[0]
    sandbox.finish_meeting_recap(finished)
    member = sandbox.truth.organization_memberships(admin)[3]["user"]["uri"]
    before = {r["kind"] for r in sandbox.truth.locations(admin) if r["user"] == member}
    removed, added = sorted(before)[0], next(k for k in ("webex_conference", "custom") if k not in before)
    sandbox.set_user_locations(member, sorted((before - {removed}) | {added}))

    run = syncs.run()
    assert emitted(run, RECAPS) == {(created, False), (deleted, True), (edited, False), (finished, False)}
    # The edited recap's transcript is read again but is the same: not emitted.
    assert emitted(run, TRANSCRIPTS) == {(deleted, True), (finished, False)}
    assert emitted(run, LOCATIONS) == {(member, removed, True), (member, added, False)}
    assert syncs.destination.equals_truth(sandbox, admin)
    asked = paths(sandbox)
    uuid = deleted.rsplit("/", 1)[-1]
    assert asked.count(f"/meeting_recaps/{uuid}") == 2  # the 404 that confirms the deletion, once per stream
    transcripts = sorted(p for p in asked if p.endswith("/transcript"))
    assert transcripts == sorted(f"/meeting_recaps/{u.rsplit('/', 1)[-1]}/transcript" for u in (edited, finished))
    recap_lists = [e.query.get("status") for e in sandbox.request_log if e.path == "/meeting_recaps"]
    assert sorted(recap_lists) == ["available", "processing", "unavailable"]
    assert asked.count("/locations") == MEMBERS

    run = syncs.run()
    assert tombstones(run) == [] and not any(run.records(s) for s in KEYS)
    assert not [p for p in paths(sandbox) if p.endswith("/transcript")]


def test_no_tombstone_after_a_failed_listing_or_a_refusal(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(meeting_recaps_visibility="organization")
    # Two tokens of one admin: one with the Notetaker and locations scopes, one without.
    scoped, refused = sandbox.tokens.no_routing_scope, sandbox.tokens.no_notetaker_scope
    syncs = Syncs(sandbox, scoped)
    syncs.run()
    gone = sandbox.truth.records(RECAPS, scoped)[0]["uri"]
    sandbox.delete_meeting_recap(gone)
    member = sandbox.truth.organization_memberships(scoped)[2]["user"]["uri"]
    sandbox.set_user_locations(member, [])

    sandbox.set_faults(Faults(error_rate=1.0, error_weights={500: 1.0}, paths=("/meeting_recaps", "/locations")))
    failed = syncs.run(ok=False, max_retries=0)
    sandbox.set_faults(Faults())
    assert failed.returncode != 0 and tombstones(failed) == []

    skipped = syncs.run(refused)
    assert tombstones(skipped) == []
    for stream in (RECAPS, TRANSCRIPTS, LOCATIONS):
        assert any(w.startswith(f"Skipping stream {stream}: the token lacks the scope") for w in skipped.warnings())

    arrived = syncs.run()
    assert (gone, True) in emitted(arrived, RECAPS) and (gone, True) in emitted(arrived, TRANSCRIPTS)
    assert {(k[0], k[2]) for k in emitted(arrived, LOCATIONS)} == {(member, True)}
    assert syncs.destination.equals_truth(sandbox, scoped)


def test_transcripts_are_discovered_and_read_only_when_switched_on(shared_sandbox: Sandbox) -> None:
    assert TRANSCRIPTS not in {s["name"] for s in discover_catalog()["streams"]}
    on = {s["name"]: s for s in discover_catalog([SWITCH])["streams"]}
    assert on[TRANSCRIPTS]["source_defined_primary_key"] == [["recap"]]
    shared_sandbox.clear_request_log()
    run = run_connector("read", sandbox_config(shared_sandbox), catalog([RECAPS]))
    assert run.returncode == 0 and run.records(RECAPS)
    assert not [p for p in paths(shared_sandbox) if p.endswith("/transcript")]


def test_a_free_plan_skips_the_recaps_with_calendly_s_words_and_syncs_the_locations(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(dataset=DatasetSpec.small(plan="basic", events=30))
    run = Syncs(sandbox).run()
    for stream in (RECAPS, TRANSCRIPTS):
        [warning] = [w for w in run.warnings() if w.startswith(f"Skipping stream {stream}:")]
        assert "Please upgrade to a paid Calendly account" in warning
    assert run.records(RECAPS) == run.records(TRANSCRIPTS) == []
    assert len(run.records(LOCATIONS)) == len(sandbox.truth.locations(sandbox.tokens.admin))
    assert paths(sandbox).count("/meeting_recaps") == 2  # one refused request per stream
