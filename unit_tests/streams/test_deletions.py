"""Tombstones for events and invitees that a complete re-read no longer lists (erased for compliance), and none
for a record merely not re-read: a failed or refused page, a 404, a window that moved on, a resumed pass, a
state saved before keys were kept. Against the requests-mock fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import CalendlyConfig
from source_calendly.key_memory import KeyMemory
from source_calendly.tombstones import DELETED_AT
from unit_tests.fake_api import API, EXPIRED_TOKEN, NOW, FakeCalendly, Fault, days, event, invitee, ts
from unit_tests.helpers import config, final_states, records, run_read, warnings

EVENTS = ["scheduled_events", "event_invitees"]


def organization(api: FakeCalendly, n: int = 250) -> list[dict[str, Any]]:
    """n events a day apart, the last ten upcoming, each with one invitee; returns the events."""
    out = []
    for i in range(n):
        start = days(-(n - 10) + i)
        record = api.add_event(event(f"e{i:03}", start, min(start, NOW) - timedelta(days=2)))
        api.invitees[record["uri"]].append(invitee(record, f"e{i:03}-inv", min(start, NOW) - timedelta(days=2)))
        out.append(record)
    return out


def erase_event(api: FakeCalendly, record: dict[str, Any]) -> list[str]:
    """The event and its invitees vanish (the invitee listing answers 404); returns the invitees' URIs."""
    api.events.remove(record)
    return [i["uri"] for i in api.invitees.pop(record["uri"])]


def tombstones(out: Any, stream: str) -> list[dict[str, Any]]:
    return [r for r in records(out, stream) if r.get(DELETED_AT)]


def first_sync(api: FakeCalendly, **cfg: Any) -> dict[str, Any]:
    out = run_read(EVENTS, config(**cfg))
    assert not tombstones(out, "scheduled_events") and not tombstones(out, "event_invitees")
    return final_states(out)


def test_an_event_erased_in_the_window_is_tombstoned_with_its_invitees_next_sync(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    assert len(state["scheduled_events"]["keys"]["keys"]) == 250  # one instant each
    gone = events[-3]  # starts in the window (which starts 7 days before the first sync)
    invitees = erase_event(api, gone)
    out = run_read(EVENTS, config(), state=state)
    at = ts(NOW)
    assert tombstones(out, "scheduled_events") == [{"uri": gone["uri"], "updated_at": at, DELETED_AT: at}]
    assert tombstones(out, "event_invitees") == [
        {"uri": invitees[0], "event_uri": gone["uri"], "updated_at": at, DELETED_AT: at}
    ]
    # Remembered no more: the next sync sends nothing again.
    again = run_read(EVENTS, config(), state=final_states(out))
    assert not tombstones(again, "scheduled_events") and not tombstones(again, "event_invitees")


def test_an_event_erased_before_the_window_is_tombstoned_by_the_walks(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    gone = events[5]  # 235 days ago, long before the window
    invitees = erase_event(api, gone)
    out = run_read(EVENTS, config(), state=state)
    assert [t["uri"] for t in tombstones(out, "scheduled_events")] == [gone["uri"]]
    assert [t["uri"] for t in tombstones(out, "event_invitees")] == invitees


def test_an_invitee_erased_by_email_is_tombstoned_when_its_event_is_read_again(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    past, upcoming = events[-12], events[-2]  # started 2 days ago (read every sync), starts in 8 days
    erased = [api.invitees[past["uri"]].pop(), api.invitees[upcoming["uri"]].pop()]
    out = run_read(EVENTS, config(), state=state)
    assert not tombstones(out, "scheduled_events")
    # The upcoming event shows no change, so its invitees are not read: its invitee waits until it starts.
    assert tombstones(out, "event_invitees") == [
        {"uri": erased[0]["uri"], "event_uri": past["uri"], "updated_at": ts(NOW), DELETED_AT: ts(NOW)}
    ]


def test_a_state_without_keys_sends_no_tombstone_and_learns_them(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    legacy = {name: {k: v for k, v in s.items() if k != "keys"} for name, s in state.items()}
    erase_event(api, events[-3])
    out = run_read(EVENTS, config(), state=legacy)
    assert not tombstones(out, "scheduled_events") and not tombstones(out, "event_invitees")
    assert not out.errors
    assert final_states(out)["scheduled_events"]["keys"]["keys"]  # learned from what it read


def test_a_window_that_moved_on_sends_no_tombstone(api: FakeCalendly) -> None:
    organization(api)
    state = first_sync(api)
    api.server_date = NOW + timedelta(days=30)  # the window now starts 23 days after the last one
    out = run_read(EVENTS, config(history_requests=0), state=state)  # no walk: the left-behind are not re-read
    assert not tombstones(out, "scheduled_events") and not tombstones(out, "event_invitees")
    # Still remembered, for the walk to compare once it gets there.
    assert len(final_states(out)["scheduled_events"]["keys"]["keys"]) == 250


def test_a_failed_or_refused_page_sends_no_tombstone_for_what_it_did_not_list(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    erase_event(api, events[150])  # on the walk's second page
    for status in (403, 500):
        api.faults = [Fault(r"^/scheduled_events$", status, times=10, query_has="page_token")]
        out = run_read(["scheduled_events"], config(max_retries=0), state=state, expect_error=True)
        assert not tombstones(out, "scheduled_events")
    api.faults = []


def test_a_page_token_restart_sends_exactly_the_tombstones_of_what_is_gone(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    erase_event(api, events[150])
    api.faults = [Fault(r"^/scheduled_events$", 400, body=EXPIRED_TOKEN, query_has="page_token")]
    out = run_read(["scheduled_events"], config(), state=state)
    assert [t["uri"] for t in tombstones(out, "scheduled_events")] == [events[150]["uri"]]


def test_a_resumed_pass_concludes_nothing_before_its_checkpoint(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    saved = dict(state["scheduled_events"])
    # A killed sync got as far as 2 days from now in its window, with no walk left to do.
    saved["pass"] = {"started_at": ts(NOW), "window_start": ts(days(-7)), "resume_from": ts(days(2))}
    erase_event(api, events[-9])  # 1 day ago: in the window, before the checkpoint
    erase_event(api, events[-5])  # in 3 days: after it
    out = run_read(["scheduled_events"], config(history_requests=0), state={"scheduled_events": saved})
    assert [t["uri"] for t in tombstones(out, "scheduled_events")] == [events[-5]["uri"]]


def test_an_invitee_listing_answering_404_is_skipped_without_a_tombstone(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    vanishing = events[-12]  # read every sync (started in the window); erased after the listing named it
    del api.invitees[vanishing["uri"]]
    changed = api.invitees[events[-11]["uri"]][0]
    changed["updated_at"] = ts(NOW - timedelta(hours=1))  # a no-show marked on the next event
    out = run_read(EVENTS, config(), state=state)
    assert not out.errors
    assert not tombstones(out, "event_invitees")
    assert any("no longer exists (HTTP 404)" in w for w in warnings(out))
    assert [r["uri"] for r in records(out, "event_invitees")] == [changed["uri"]]  # the other events' still come
    # Its invitees stay remembered: the event's own absence from a listing decides, later.
    keys = final_states(out)["event_invitees"]["keys"]["keys"]
    assert any("e238" in children for children in keys.values())


def test_a_full_refresh_sends_no_tombstone(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)
    erase_event(api, events[-3])
    out = run_read(EVENTS, config(), state=state, full_refresh=True)
    assert not tombstones(out, "scheduled_events") and not tombstones(out, "event_invitees")


def test_the_state_keeps_an_event_in_about_26_characters(api: FakeCalendly) -> None:
    organization(api, n=1000)
    state = first_sync(api)
    size = len(orjson.dumps(state["scheduled_events"]["keys"]))
    # Ids here are 4 characters; a Calendly UUID packs into 23: at most 22 more per event (see README).
    assert size < 1000 * (4 + 3 + 16) + 100
    assert API in state["scheduled_events"]["keys"]["codec"][0]


# routing_form_submissions ------------------------------------------------------------------------------------------
SUBMISSIONS = ["routing_forms", "routing_form_submissions"]


def forms(api: FakeCalendly, n_forms: int = 3, per_form: int = 150) -> list[list[dict[str, Any]]]:
    """Forms created oldest first, each with `per_form` submissions from 300 days ago, a day apart."""
    api.routing_forms = []
    out = []
    for i in range(n_forms):
        uri = f"{API}/routing_forms/f{i}"
        api.routing_forms.append(
            {
                "uri": uri,
                "name": f"Form {i}",
                "status": "published",
                "questions": [],
                "created_at": ts(days(-500 + i)),
                "updated_at": ts(days(-500 + i)),
            }
        )
        rows = [
            {
                "uri": f"{API}/routing_form_submissions/f{i}-{j}",
                "routing_form": uri,
                "questions_and_answers": [],
                "submitter": None,
                "created_at": ts(days(-300 + j)),
                "updated_at": ts(days(-300 + j)),
            }
            for j in range(per_form)
        ]
        api.submissions[uri] = rows
        out.append(rows)
    return out


def delete(api: FakeCalendly, record: dict[str, Any]) -> str:
    api.submissions[record["routing_form"]].remove(record)
    return str(record["uri"])


def test_a_vanished_submission_is_tombstoned_by_the_window_or_when_the_walk_reaches_its_form(api: FakeCalendly) -> None:
    by_form = forms(api)
    recent = {**by_form[2][0], "uri": f"{API}/routing_form_submissions/recent", "created_at": ts(days(-1))}
    api.submissions[recent["routing_form"]].insert(0, recent)
    out = run_read(SUBMISSIONS, config())
    assert not tombstones(out, "routing_form_submissions")
    in_window, first_form, second_form = delete(api, recent), delete(api, by_form[0][7]), delete(api, by_form[1][7])
    second = run_read(SUBMISSIONS, config(), state=final_states(out))
    # The window re-reads every form from its start; the walk reads the first form whole (a new cycle).
    assert sorted(t["uri"] for t in tombstones(second, "routing_form_submissions")) == sorted([in_window, first_form])
    third = run_read(SUBMISSIONS, config(), state=final_states(second))
    assert [t["uri"] for t in tombstones(third, "routing_form_submissions")] == [second_form]
    fourth = run_read(SUBMISSIONS, config(), state=final_states(third))
    assert not tombstones(fourth, "routing_form_submissions")


def test_a_submission_past_the_walks_share_is_not_concluded_gone(api: FakeCalendly) -> None:
    by_form = forms(api, n_forms=1, per_form=250)
    out = run_read(SUBMISSIONS, config())
    oldest, read = delete(api, by_form[0][0]), delete(api, by_form[0][100])
    # history_requests=10: the window's page, then one more: the newest 200 of 250 (oldest first: 50 and up).
    second = run_read(SUBMISSIONS, config(history_requests=10), state=final_states(out))
    assert [t["uri"] for t in tombstones(second, "routing_form_submissions")] == [read]
    saved = final_states(second)["routing_form_submissions"]["keys"][f"{API}/routing_forms/f0"]
    remembered = [KeyMemory.parse(saved).codec.decode(k)[0] for keys in saved["keys"].values() for k in keys]
    assert oldest in remembered and read not in remembered and len(remembered) == 249


def test_refused_routing_forms_send_no_tombstone_and_keep_the_keys(api: FakeCalendly) -> None:
    by_form = forms(api)
    state = final_states(run_read(SUBMISSIONS, config()))
    delete(api, by_form[0][7])
    api.routing_forms = None  # the plan lost routing forms: 403
    out = run_read(SUBMISSIONS, config(), state=state)
    assert not out.errors and not tombstones(out, "routing_form_submissions")
    assert final_states(out)["routing_form_submissions"]["keys"] == state["routing_form_submissions"]["keys"]


def test_track_deletions_off_keeps_no_keys_drops_a_saved_memory_and_sends_no_tombstone(api: FakeCalendly) -> None:
    events = organization(api)
    state = first_sync(api)  # tracking on (the default): the memory is saved
    assert state["scheduled_events"]["keys"] and state["event_invitees"]["keys"]
    erase_event(api, events[-3])
    out = run_read(EVENTS, config(track_deletions=False), state=state)
    assert not tombstones(out, "scheduled_events") and not tombstones(out, "event_invitees")
    after = final_states(out)
    assert "keys" not in after["scheduled_events"] and "keys" not in after["event_invitees"]
    # Off from the first sync: no memory at all, and the records are read as with it on.
    fresh = run_read(EVENTS, config(track_deletions=False))
    assert all("keys" not in s for s in final_states(fresh).values())
    assert len(records(fresh, "scheduled_events")) == len(events) - 1


def test_track_deletions_must_be_a_boolean_and_defaults_to_on() -> None:
    assert CalendlyConfig.from_mapping(config()).track_deletions is True
    assert CalendlyConfig.from_mapping(config(track_deletions=False)).track_deletions is False
    with pytest.raises(AirbyteTracedException, match=r"track_deletions must be true or false; got 'no'.*on"):
        CalendlyConfig.from_mapping(config(track_deletions="no"))
