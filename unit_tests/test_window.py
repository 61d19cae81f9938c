from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.window import WindowState, state_from_the_future

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WEEK = timedelta(days=7)


def test_first_pass_reads_from_start_date_or_all_history() -> None:
    assert WindowState().begin(T0, None, WEEK).read_from is None
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert WindowState().begin(T0, start, WEEK).read_from == start


def test_next_window_is_previous_start_minus_lookback_not_the_cursor() -> None:
    state = WindowState(updated_at=T0 - timedelta(days=300), last_sync_started_at=T0)
    assert state.begin(T0 + timedelta(days=1), None, WEEK).read_from == T0 - WEEK


def test_window_never_before_start_date() -> None:
    start = T0 - timedelta(days=2)
    state = WindowState(last_sync_started_at=T0)
    assert state.begin(T0, start, WEEK).read_from == start


def test_window_does_not_drift_back_when_nothing_changes() -> None:
    state = WindowState(updated_at=T0 - timedelta(days=30), last_sync_started_at=T0)
    for day in range(1, 4):
        now = T0 + timedelta(days=day)
        state = state.begin(now, None, WEEK)
        assert state.read_from == now - timedelta(days=1) - WEEK
        state = state.finish()
        assert state.updated_at == T0 - timedelta(days=30)
        assert state.last_sync_started_at == now


def test_cursor_advances_to_newest_emitted_but_never_past_the_pass_start() -> None:
    state = WindowState().begin(T0, None, WEEK).progress(None, T0 - timedelta(hours=1))
    assert state.finish().updated_at == T0 - timedelta(hours=1)
    changed_during_pass = WindowState().begin(T0, None, WEEK).progress(None, T0 + timedelta(minutes=5))
    assert changed_during_pass.finish().updated_at == T0


def test_is_new_is_strictly_after_the_cursor() -> None:
    state = WindowState(updated_at=T0)
    assert not state.is_new(T0)
    assert state.is_new(T0 + timedelta(microseconds=1))
    assert state.is_new(None)


def test_an_unfinished_pass_survives_a_round_trip_and_resumes() -> None:
    begun = WindowState(updated_at=T0 - WEEK, last_sync_started_at=T0 - WEEK).begin(T0, None, WEEK)
    midway = begun.progress(T0 - timedelta(days=3), T0 - timedelta(days=1))
    restored = WindowState.parse("s", midway.to_dict())
    assert restored == midway
    resumed = restored.begin(T0 + timedelta(hours=2), None, WEEK)
    assert resumed.read_from == T0 - timedelta(days=3)
    assert resumed.current is not None and resumed.current.started_at == T0  # the original pass's start
    assert not resumed.is_new(T0 - WEEK)  # the old cursor still filters


def test_resume_point_only_moves_forward() -> None:
    state = WindowState().begin(T0, None, WEEK).progress(T0, None).progress(T0 - WEEK, None)
    assert state.read_from == T0


@pytest.mark.parametrize(
    "raw",
    [
        {"updated_at": "not a date"},
        {"updated_at": 5},
        {"cursor": "2024-01-01T00:00:00Z"},
        {"pass": {"resume_from": "2024-01-01T00:00:00Z"}},
        {"pass": "x"},
        ["x"],
    ],
)
def test_state_that_cannot_be_understood_is_a_config_error(raw: object) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        WindowState.parse("scheduled_events", raw)  # type: ignore[arg-type]
    assert error.value.failure_type == FailureType.config_error  # Airbyte must not retry it unchanged
    assert "scheduled_events" in error.value.message
    assert "Refresh" in error.value.message


def test_empty_state_is_a_first_sync() -> None:
    assert WindowState.parse("s", {}) == WindowState()
    assert WindowState.parse("s", None) == WindowState()


ORG = "https://api.calendly.com/organizations/o1"
USER = "https://api.calendly.com/users/u1"


def test_a_state_for_another_scope_starts_over_from_start_date() -> None:
    start = T0 - timedelta(days=90)
    saved = WindowState(updated_at=T0 - WEEK, last_sync_started_at=T0 - WEEK, scope=USER)
    begun = saved.begin(T0, start, WEEK, ORG)
    assert begun.read_from == start and begun.updated_at is None and begun.scope == ORG
    assert begun.is_new(T0 - timedelta(days=60))  # the old cursor no longer hides anything


def test_the_same_scope_or_a_state_without_one_keeps_the_cursor() -> None:
    for scope in (ORG, None):
        saved = WindowState(updated_at=T0 - WEEK, last_sync_started_at=T0, scope=scope)
        begun = saved.begin(T0 + WEEK, None, WEEK, ORG)
        assert begun.read_from == T0 - WEEK and begun.updated_at == T0 - WEEK and begun.scope == ORG


def test_scope_round_trips_through_the_saved_state() -> None:
    state = WindowState().begin(T0, None, WEEK, ORG).finish()
    assert state.to_dict()["scope"] == ORG
    assert WindowState.parse("s", state.to_dict()) == state
    with pytest.raises(AirbyteTracedException) as error:
        WindowState.parse("s", {"scope": 3})
    assert error.value.failure_type == FailureType.config_error


@pytest.mark.parametrize(
    "raw, problem",
    [
        (["x"], "it is not a JSON object"),
        ({"cursor": "x", "updated_at": None}, "unknown keys ['cursor']"),
        ({"pass": {"started_at": "2024-01-01T00:00:00Z", "extra": 1}}, "'pass' is malformed"),
        ({"history": {"since": "2024-01-01T00:00:00Z", "extra": 1}}, "'history' is malformed"),
        ({"history": ["2024-01-01T00:00:00Z"]}, "'history' is malformed"),
        ({"history": {"visited": "abc"}}, "'history.visited' is not a list of strings"),
        ({"history": {"visited": [1]}}, "'history.visited' is not a list of strings"),
        ({"scope": 3}, "'scope' is not a string"),
        ({"updated_at": "soon"}, "'soon' is not a UTC timestamp"),
        ({"updated_at": "2024-01-01T00:00:00"}, "'2024-01-01T00:00:00' is not a UTC timestamp"),
        ({"last_sync_started_at": 5}, "5 is not a timestamp"),
    ],
)
def test_a_state_that_cannot_be_understood_says_what_is_wrong_and_how_to_start_over(raw: object, problem: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        WindowState.parse("event_invitees", raw)  # type: ignore[arg-type]
    assert (
        error.value.message
        == error.value.internal_message
        == (
            f"The saved state of stream event_invitees cannot be understood ({problem}). Clear it and start over: in "
            "Airbyte, refresh or reset the stream's data (Connection > Settings > Refresh), or run read without "
            "--state."
        )
    )


def test_neither_the_cursor_nor_the_last_sync_start_ever_moves_back() -> None:
    later = T0 + timedelta(days=3)
    state = WindowState(updated_at=later, last_sync_started_at=later)
    finished = state.begin(T0, None, WEEK).progress(T0, T0 - timedelta(days=1)).finish()
    assert finished.updated_at == later and finished.last_sync_started_at == later


def test_the_newest_change_of_a_pass_only_moves_forward() -> None:
    state = WindowState().begin(T0, None, WEEK).progress(None, T0 - timedelta(hours=1))
    state = state.progress(None, T0 - timedelta(hours=5))  # an older record, emitted later
    assert state.finish().updated_at == T0 - timedelta(hours=1)


def test_a_finished_pass_round_trips_without_the_pass() -> None:
    finished = WindowState().begin(T0, None, WEEK, ORG).progress(T0, T0 - WEEK).finish()
    saved = finished.to_dict()
    assert "pass" not in saved
    assert {key: saved[key] for key in ("updated_at", "last_sync_started_at", "scope")} == {
        "updated_at": "2026-10-25T00:00:00.000000Z",
        "last_sync_started_at": "2026-11-01T00:00:00.000000Z",
        "scope": ORG,
    }
    assert WindowState.parse("s", finished.to_dict()) == finished


def test_fingerprints_and_the_walk_survive_a_round_trip_midway() -> None:
    begun = WindowState(last_sync_started_at=T0 - WEEK, groups={"abc": (3, 2)}).begin(T0, None, WEEK)
    midway = begun.progress(T0 - timedelta(days=3), None, {"abc": (4, 3)}).walked(T0 - timedelta(days=300))
    restored = WindowState.parse("s", midway.to_dict())
    assert restored == midway
    assert restored.groups == {"abc": (3, 2)}  # compared against until the pass ends
    assert restored.finish().groups == {"abc": (4, 3)}
    assert restored.history is not None and restored.history.position == T0 - timedelta(days=300)


def test_the_events_visited_at_the_walks_position_round_trip_and_are_dropped_when_it_moves_on() -> None:
    begun = WindowState().begin(T0, None, WEEK).finish().begin(T0 + WEEK, None, WEEK)
    crowded = begun.walked(T0 - 100 * WEEK, frozenset({"b", "a"}))
    saved = crowded.to_dict()
    assert saved["history"]["visited"] == ["a", "b"]
    assert WindowState.parse("s", saved) == crowded
    moved = crowded.walked(T0 - 90 * WEEK)
    assert moved.history is not None and moved.history.visited == frozenset()
    assert "visited" not in moved.to_dict()["history"]


def test_the_walk_emits_since_the_previous_cycle_began() -> None:
    full = WindowState().begin(T0, None, WEEK).finish()
    assert full.history is not None and full.history.since == T0  # the first pass read all history
    day = timedelta(days=1)
    one = full.begin(T0 + day, None, WEEK).walked(T0 - 100 * day).finish()
    assert one.history is not None and one.history.since == T0 and one.history.cycle_began == T0 + day
    two = one.begin(T0 + 2 * day, None, WEEK).walked(None).finish()
    assert two.history is not None and two.history.since == T0 + day and two.history.position is None
    legacy = WindowState(updated_at=T0, last_sync_started_at=T0).begin(T0 + day, None, WEEK)
    assert legacy.history is not None and legacy.history.since is None  # nothing known: emit it all once


def test_a_time_later_than_now_is_reported() -> None:
    state = WindowState(updated_at=T0 + WEEK, last_sync_started_at=T0)
    assert state.ahead_of(T0) == T0 + WEEK
    assert WindowState(updated_at=T0, last_sync_started_at=T0).ahead_of(T0) is None


@pytest.mark.parametrize(
    "groups, problem",
    [
        ([1, 2], "'groups' is not an object"),
        ({"a": [1]}, "'groups' holds [1] for 'a', not [total, active]"),
        ({"a": ["1", 2]}, "'groups' holds ['1', 2] for 'a', not [total, active]"),
        ({"a": [1, True]}, "'groups' holds [1, True] for 'a', not [total, active]"),
    ],
)
def test_malformed_fingerprints_are_a_config_error_that_says_what_is_wrong(groups: object, problem: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        WindowState.parse("scheduled_events", {"groups": groups})
    assert error.value.failure_type == FailureType.config_error
    assert f"cannot be understood ({problem})." in error.value.message


def test_a_state_from_the_future_is_reported_with_both_times_and_what_the_sync_does_about_it() -> None:
    assert state_from_the_future("scheduled_events", T0 + WEEK, T0) == (
        "Stream scheduled_events: the saved state holds 2026-11-08T00:00:00.000000Z, later than Calendly's clock "
        "(2026-11-01T00:00:00.000000Z): it was made on another clock (copied from a machine with a wrong clock, or "
        "edited). Trusting it would hide every change until then, so this sync reads from start_date again and "
        "records already in the destination are emitted again."
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"pass": {"started_at": "2099-01-01T00:00:00Z"}},
        {"pass": {"started_at": "2024-01-01T00:00:00Z", "max_updated_at": "2099-01-01T00:00:00Z"}},
        {"history": {"since": "2099-01-01T00:00:00Z"}},
        {"history": {"since": "2024-01-01T00:00:00Z", "cycle_began": "2099-01-01T00:00:00Z"}},
    ],
)
def test_a_time_from_the_future_anywhere_in_the_state_is_seen(raw: dict) -> None:
    # Each time in a state came from Calendly's clock; any one later than now means another clock made it.
    state = WindowState.parse("scheduled_events", {"updated_at": "2024-01-01T00:00:00Z", **raw})
    assert state.ahead_of(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2099, 1, 1, tzinfo=UTC)


def test_a_future_cursor_is_seen_beside_a_pass_and_a_history_that_are_not() -> None:
    state = WindowState.parse(
        "scheduled_events",
        {
            "updated_at": "2099-01-01T00:00:00Z",
            "pass": {"started_at": "2024-01-01T00:00:00Z"},
            "history": {"since": "2024-01-01T00:00:00Z"},
        },
    )
    assert state.ahead_of(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2099, 1, 1, tzinfo=UTC)
