"""meeting_recaps (a diffed listing), the opt-in meeting_recap_transcripts and locations, against the fake API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly import SourceCalendly
from source_calendly.config import CalendlyConfig
from source_calendly.streams.diffed import ListingState
from unit_tests.fake_api import ADMIN_USER, API, MEMBER_USER, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, error_messages, records, run_read, warnings

RECAPS = "meeting_recaps"
TRANSCRIPTS = "meeting_recap_transcripts"
LOCATIONS = "locations"
DELETED = "_ab_cdc_deleted_at"
STAMP = "_ab_cdc_updated_at"
NOW = "2026-11-24T12:00:00.000000Z"  # the fake's Date header: Calendly's clock when the sync began
WITH_TRANSCRIPTS = {"include_meeting_recap_transcripts": True}


def recap(n: int, status: str = "available", updated: int = 0) -> dict[str, Any]:
    uri = f"{API}/meeting_recaps/r{n}"
    return {"uri": uri, "app_url": f"https://calendly.com/app/meeting_recaps/r{n}", "event": None, "status": status,
            "name": f"Meeting {n}", "start_time": ts(days(-3)), "end_time": ts(days(-3)),
            "created_at": ts(days(-3)), "updated_at": ts(days(-3 + updated)), "attendees": [],
            "transcript": f"{uri}/transcript"}  # fmt: skip


def sync(
    streams: list[str], state: Mapping[str, Any] | None = None, expect_error: bool = False, **overrides: Any
) -> tuple[EntrypointOutput, dict[str, Any]]:
    """One incremental sync; returns its output and each stream's last state (the given one if none came)."""
    out = run_read(streams, config(**overrides), state, expect_error=expect_error, incremental=set(streams))
    states = dict(state or {})
    for message in out.state_messages:
        states[message.state.stream.stream_descriptor.name] = dict(message.state.stream.stream_state.__dict__)
    return out, states


def keyed(out: EntrypointOutput, stream: str, key: str = "uri") -> list[tuple[str, bool]]:
    return [(r[key].rsplit("/", 1)[-1], bool(r.get(DELETED))) for r in records(out, stream)]


@pytest.fixture
def recaps(api: FakeCalendly) -> FakeCalendly:
    api.recaps = [recap(1), recap(2), recap(3, "processing"), recap(4, "unavailable")]
    api.transcripts = {f"{API}/meeting_recaps/r1": "Ada: hello", f"{API}/meeting_recaps/r2": "Max: hi"}
    return api


# -- meeting_recaps ----------------------------------------------------------------------------------------------
def test_a_full_sync_lists_every_status_whole(recaps: FakeCalendly) -> None:
    out, state = sync([RECAPS])
    assert sorted(keyed(out, RECAPS)) == [("r1", False), ("r2", False), ("r3", False), ("r4", False)]
    assert [q.get("status") for q in recaps.paths("/meeting_recaps")] == [["processing"], ["available"],
                                                                        ["unavailable"]]  # fmt: skip
    assert all(r[STAMP] == NOW for r in records(out, RECAPS))
    assert len(ListingState.parse(RECAPS, state[RECAPS]).records) == 4


def test_a_sync_with_nothing_changed_emits_nothing_and_costs_the_three_listings(recaps: FakeCalendly) -> None:
    _, state = sync([RECAPS])
    recaps.requests.clear()
    out, after = sync([RECAPS], state)
    assert records(out, RECAPS) == []
    assert [p for p, _ in recaps.requests if p != "/users/me" and p != "/organization_memberships"] == [
        "/meeting_recaps"
    ] * 3
    assert after[RECAPS] == state[RECAPS]


def test_changes_arrive_and_a_deleted_recap_becomes_a_tombstone_after_calendly_confirms_it(
    recaps: FakeCalendly,
) -> None:
    _, state = sync([RECAPS])
    recaps.recaps = [recap(1, updated=1), recap(3, "available"), recap(4, "unavailable"), recap(5, "processing")]
    out, state = sync([RECAPS], state)
    assert sorted(keyed(out, RECAPS)) == [("r1", False), ("r2", True), ("r3", False), ("r5", False)]
    [tombstone] = [r for r in records(out, RECAPS) if r.get(DELETED)]
    assert tombstone == {"uri": f"{API}/meeting_recaps/r2", STAMP: NOW,
                         DELETED: NOW}  # fmt: skip
    assert recaps.paths("/meeting_recaps/r2") == [{}]  # the one confirmation: 404
    out, _ = sync([RECAPS], state)
    assert records(out, RECAPS) == []


def test_a_recap_the_listings_missed_but_calendly_still_has_is_not_tombstoned(recaps: FakeCalendly) -> None:
    _, state = sync([RECAPS])
    missed = recaps.recaps.pop(1)
    recaps.faults.append(Fault("^/meeting_recaps/r2$", 200, {"resource": missed}))  # the single GET: still there
    out, state = sync([RECAPS], state)
    assert records(out, RECAPS) == []
    assert len(ListingState.parse(RECAPS, state[RECAPS]).records) == 4  # still remembered, compared next sync
    recaps.recaps.append(missed)
    out, _ = sync([RECAPS], state)
    assert records(out, RECAPS) == []  # back in the listing, unchanged: nothing to emit


def test_a_recap_moving_from_processing_to_available_while_listed_is_emitted_once_not_tombstoned(
    recaps: FakeCalendly,
) -> None:
    _, state = sync([RECAPS])
    # Listed as processing by the first listing and as available by the second: the later copy counts.
    recaps.recaps.append(recap(6, "processing"))
    page = {"collection": [recap(1), recap(2), recap(6)], "pagination": {"next_page_token": None}}
    recaps.faults.append(Fault("^/meeting_recaps$", 200, page, query_has="status=available"))
    out, state = sync([RECAPS], state)
    [emitted] = records(out, RECAPS)
    assert emitted["uri"].endswith("/r6") and emitted["status"] == "available" and not emitted.get(DELETED)


@pytest.mark.parametrize(
    ("plan", "missing", "said"),
    [
        ("basic", set(), "Please upgrade to a paid Calendly account"),
        ("enterprise", {"meeting_recaps:read"}, "the token lacks the scope meeting_recaps:read"),
    ],
)
def test_a_refusal_skips_the_stream_with_a_warning_and_keeps_the_state(
    recaps: FakeCalendly, plan: str, missing: set[str], said: str
) -> None:
    _, state = sync([RECAPS])
    recaps.plan, recaps.missing_scopes = plan, missing
    out, after = sync([RECAPS], state)
    assert records(out, RECAPS) == [] and not out.errors
    [warning] = [w for w in warnings(out) if w.startswith(f"Skipping stream {RECAPS}")]
    assert said in warning
    assert after[RECAPS] == state[RECAPS]


def test_a_failed_page_fails_the_stream_with_no_tombstone_and_the_state_kept(recaps: FakeCalendly) -> None:
    _, state = sync([RECAPS])
    recaps.recaps = [recap(1)]  # r2, r3 and r4 deleted, but the last listing fails
    recaps.faults.append(Fault("^/meeting_recaps$", 500, None, query_has="status=unavailable", times=100))
    out, after = sync([RECAPS], state, expect_error=True, max_retries=0)
    assert records(out, RECAPS) == [] and error_messages(out)
    assert after[RECAPS] == state[RECAPS]


def test_a_state_of_another_user_starts_over_without_tombstones(recaps: FakeCalendly) -> None:
    _, state = sync([RECAPS])
    state[RECAPS] = {**state[RECAPS], "scope": MEMBER_USER}
    recaps.recaps = recaps.recaps[:1]
    out, after = sync([RECAPS], state)
    assert keyed(out, RECAPS) == [("r1", False)]
    assert after[RECAPS]["scope"] == ADMIN_USER


def test_a_state_not_understood_says_to_reset(recaps: FakeCalendly) -> None:
    out, _ = sync([RECAPS], {RECAPS: {"records": ["not", "a", "mapping"]}}, expect_error=True)
    assert any("saved state of stream meeting_recaps is not understood" in m for m in error_messages(out))


# -- meeting_recap_transcripts -------------------------------------------------------------------------------------
def test_transcripts_are_not_discovered_unless_switched_on(api: FakeCalendly) -> None:
    names = {s.name for s in discover(SourceCalendly(), config()).catalog.catalog.streams}
    assert TRANSCRIPTS not in names and RECAPS in names
    on = {s.name: s for s in discover(SourceCalendly(), config(**WITH_TRANSCRIPTS)).catalog.catalog.streams}
    assert on[TRANSCRIPTS].source_defined_primary_key == [["recap"]]
    assert api.requests == []


def test_transcripts_off_are_never_requested(recaps: FakeCalendly) -> None:
    sync([RECAPS])
    assert [p for p, _ in recaps.requests if p.endswith("/transcript")] == []


def test_transcripts_are_read_once_per_new_or_changed_available_recap_and_tombstoned_when_gone(
    recaps: FakeCalendly,
) -> None:
    out, state = sync([RECAPS, TRANSCRIPTS], **WITH_TRANSCRIPTS)
    assert sorted((r["recap"].rsplit("/", 1)[-1], r["text"]) for r in records(out, TRANSCRIPTS)) == [
        ("r1", "Ada: hello"),
        ("r2", "Max: hi"),
    ]
    # One available listing for both streams: spooled, not asked twice.
    assert [q["status"] for q in recaps.paths("/meeting_recaps")] == [["processing"], ["available"], ["unavailable"]]
    recaps.requests.clear()
    out, state = sync([RECAPS, TRANSCRIPTS], state, **WITH_TRANSCRIPTS)
    assert records(out, TRANSCRIPTS) == [] and not [p for p, _ in recaps.requests if p.endswith("/transcript")]
    # r1 deleted, r2's highlights edited (its updated_at moves), r3 finished processing.
    recaps.recaps = [recap(2, updated=1), recap(3), recap(4, "unavailable")]
    recaps.transcripts = {f"{API}/meeting_recaps/r2": "Max: hi", f"{API}/meeting_recaps/r3": "Ada: done"}
    recaps.requests.clear()
    out, _ = sync([RECAPS, TRANSCRIPTS], state, **WITH_TRANSCRIPTS)
    # r2's transcript is read again (its recap changed) but not emitted: it is the same as before.
    assert sorted(keyed(out, TRANSCRIPTS, "recap")) == [("r1", True), ("r3", False)]
    assert sorted(p for p, _ in recaps.requests if p.endswith("/transcript")) == [
        "/meeting_recaps/r2/transcript",
        "/meeting_recaps/r3/transcript",
    ]


def test_a_transcript_not_ready_is_asked_again_next_sync_without_a_tombstone(recaps: FakeCalendly) -> None:
    del recaps.transcripts[f"{API}/meeting_recaps/r2"]
    out, state = sync([TRANSCRIPTS], **WITH_TRANSCRIPTS)
    assert keyed(out, TRANSCRIPTS, "recap") == [("r1", False)]
    recaps.transcripts[f"{API}/meeting_recaps/r2"] = "Max: late"
    out, _ = sync([TRANSCRIPTS], state, **WITH_TRANSCRIPTS)
    assert keyed(out, TRANSCRIPTS, "recap") == [("r2", False)]


def test_transcripts_refused_by_the_plan_skip_with_a_warning(recaps: FakeCalendly) -> None:
    recaps.plan = "basic"
    out, _ = sync([TRANSCRIPTS], **WITH_TRANSCRIPTS)
    assert records(out, TRANSCRIPTS) == [] and not out.errors
    assert any("Please upgrade to a paid Calendly account" in w for w in warnings(out))


# -- locations -------------------------------------------------------------------------------------------------------
@pytest.fixture
def located(api: FakeCalendly) -> FakeCalendly:
    api.locations = {
        ADMIN_USER: [{"kind": "zoom_conference", "connected": True}, {"kind": "physical"}],
        MEMBER_USER: [{"kind": "google_conference", "connected": False}],
    }
    return api


def test_locations_carry_their_user_and_a_removed_one_becomes_a_tombstone(located: FakeCalendly) -> None:
    out, state = sync([LOCATIONS])
    assert sorted((r["user"].rsplit("/", 1)[-1], r["kind"]) for r in records(out, LOCATIONS)) == [
        ("admin-1", "physical"),
        ("admin-1", "zoom_conference"),
        ("member-1", "google_conference"),
    ]
    assert len(located.paths("/locations")) == 2
    located.locations[ADMIN_USER] = [{"kind": "zoom_conference", "connected": False}]
    out, _ = sync([LOCATIONS], state, history_requests=40)  # the rotation re-reads both members
    changed = sorted((r["kind"], r.get("connected"), bool(r.get(DELETED))) for r in records(out, LOCATIONS))
    assert changed == [("physical", None, True), ("zoom_conference", False, False)]


# -- the switch and check -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_a_switch_that_is_not_a_boolean_is_refused_naming_it(value: Any) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        CalendlyConfig.from_mapping(config(include_meeting_recap_transcripts=value))
    assert raised.value.message.startswith(f"include_meeting_recap_transcripts must be true or false; got {value!r}")
    assert raised.value.failure_type == FailureType.config_error
    assert CalendlyConfig.from_mapping(config()).include_meeting_recap_transcripts is False


def test_check_reports_the_transcripts_only_when_switched_on_with_one_probe_for_both(
    recaps: FakeCalendly, tmp_path: Any
) -> None:
    from unit_tests.test_source import check

    _, _, off = check(config(), tmp_path)
    [report] = [line for line in off if line.startswith("Gated streams this token can read")]
    assert "meeting_recaps" in report and TRANSCRIPTS not in report
    recaps.requests.clear()
    _, _, on = check(config(**WITH_TRANSCRIPTS), tmp_path)
    [report] = [line for line in on if line.startswith("Gated streams this token can read")]
    assert report.endswith(", meeting_recap_transcripts.") and "meeting_recaps, locations, " in report
    assert len(recaps.paths("/meeting_recaps")) == 1
