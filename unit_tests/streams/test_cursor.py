"""The plain cursor of activity_log_entries, contacts and outgoing_communications (streams/cursor.py).

Emitted are the records newer than the saved cursor, and those at its instant not emitted before (their keys are
in the state); the cursor moves to the newest emitted, never past
Calendly's clock at the sync's start, and only in an incremental sync.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from airbyte_cdk.models import FailureType

from source_calendly.window import state_from_the_future
from unit_tests.fake_api import API, NOW, ORG, FakeCalendly, Fault, days, ts
from unit_tests.helpers import (
    asked,
    config,
    error_messages,
    failure_types,
    final_states,
    invitees_synced,
    records,
    run_read,
    warnings,
)


def message(i: int, created: float | None) -> dict[str, Any]:
    at = ts(days(created)) if created is not None else None
    return {"type": "email", "to": f"p{i}@example.com", "event_uri": f"{API}/scheduled_events/ev{i}",
            "sent_at": at, "created_at": at}  # fmt: skip


def contact(i: int, updated: float) -> dict[str, Any]:
    return {"uri": f"{API}/contacts/c{i}", "created_at": ts(days(-400)), "updated_at": ts(days(updated))}


def cursor_at(created: float, i: int) -> dict[str, Any]:
    """The state after message i, created at `created` days, was the newest emitted (its key at the cursor: the
    SHA-256 of its documented fields as compact JSON with sorted keys, the schema's communication_key)."""
    fields = ("type", "to", "from", "subject", "body", "sender_uri", "sender_email", "event_type_uri", "event_uri",
              "scheduling_url", "sent_at", "created_at")  # fmt: skip
    record = message(i, created)
    content = json.dumps({f: record.get(f) for f in fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {"created_at": ts(days(created)), "keys_at_cursor": [hashlib.sha256(content.encode()).hexdigest()]}


def sent_to(out: object) -> list[str]:
    return [r["to"] for r in records(out, "outgoing_communications")]


def test_the_cursor_moves_to_the_newest_record_whatever_the_listing_order(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -3), message(2, -1), message(3, -2)]
    out = run_read(["outgoing_communications"])
    assert sent_to(out) == ["p1@example.com", "p2@example.com", "p3@example.com"]
    assert final_states(out)["outgoing_communications"] == cursor_at(-1, 2)


def test_a_saved_state_later_than_calendlys_clock_is_distrusted_with_a_warning(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -3), message(2, -1)]
    saved = ts(days(2))
    out = run_read(["outgoing_communications"], state={"outgoing_communications": {"created_at": saved}})
    assert state_from_the_future("outgoing_communications", days(2), NOW) in warnings(out)
    assert sent_to(out) == ["p1@example.com", "p2@example.com"]  # read from the start again
    assert api.paths("/outgoing_communications") == [{"organization": [ORG], "count": ["100"]}]
    assert final_states(out)["outgoing_communications"] == cursor_at(-1, 2)


def test_a_saved_state_later_than_calendlys_clock_reads_from_start_date(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -30), message(2, -1)]
    cfg = config(start_date="2026-11-01")
    out = run_read(["outgoing_communications"], cfg, state={"outgoing_communications": {"created_at": ts(days(2))}})
    assert sent_to(out) == ["p2@example.com"]
    assert api.paths("/outgoing_communications")[0]["min_created_at"] == [asked("2026-11-01T00:00:00.000000Z")]


def test_a_saved_state_equal_to_calendlys_clock_is_trusted(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -3)]
    out = run_read(["outgoing_communications"], state={"outgoing_communications": {"created_at": ts(NOW)}})
    assert sent_to(out) == [] and not [w for w in warnings(out) if "saved state" in w]
    assert api.paths("/outgoing_communications")[0]["min_created_at"] == [asked(NOW)]


def test_a_state_without_the_cursor_reads_everything(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -3), message(2, -1)]
    out = run_read(["outgoing_communications"], state={"outgoing_communications": {"other": "x"}})
    assert sent_to(out) == ["p1@example.com", "p2@example.com"]
    assert "min_created_at" not in api.paths("/outgoing_communications")[0]
    assert final_states(out)["outgoing_communications"] == cursor_at(-1, 2)


def test_records_without_a_cursor_value_are_emitted_and_do_not_move_the_cursor(api: FakeCalendly) -> None:
    page = {"collection": [message(1, None), message(2, -2), {**message(3, None), "created_at": "not a date"}],
            "pagination": {"next_page_token": None}}  # fmt: skip
    api.faults.append(Fault("^/outgoing_communications$", 200, page, times=2))
    first = run_read(["outgoing_communications"])
    assert sent_to(first) == ["p1@example.com", "p2@example.com", "p3@example.com"]
    assert final_states(first)["outgoing_communications"] == cursor_at(-2, 2)
    # Next time they are sent again (nothing tells them old), the one at the cursor is not.
    second = run_read(["outgoing_communications"], state=final_states(first))
    assert sent_to(second) == ["p1@example.com", "p3@example.com"]


def test_a_sync_that_finds_nothing_new_keeps_the_cursor(api: FakeCalendly) -> None:
    api.outgoing = [message(1, -3)]
    saved = {"outgoing_communications": cursor_at(-3, 1)}
    out = run_read(["outgoing_communications"], state=saved)
    assert sent_to(out) == []
    assert final_states(out)["outgoing_communications"] == saved["outgoing_communications"]


def test_a_first_sync_that_finds_nothing_has_no_cursor(api: FakeCalendly) -> None:
    out = run_read(["outgoing_communications"])
    assert final_states(out)["outgoing_communications"] == {}


def test_a_full_refresh_leaves_the_cursor_where_it_was(api: FakeCalendly) -> None:
    api.contacts = [contact(1, -5), contact(2, -1)]
    saved = {"contacts": {"updated_at": ts(days(-10)), "keys_at_cursor": [f"{API}/contacts/c0"]}}
    out = run_read(["contacts"], state=saved, full_refresh=True)
    assert len(records(out, "contacts")) == 2
    assert final_states(out)["contacts"] == saved["contacts"]


def test_newest_first_stops_at_the_first_record_before_the_cursor(api: FakeCalendly) -> None:
    api.contacts = [contact(i, -200 + i) for i in range(200)]  # two pages, newest first
    saved = {"updated_at": ts(days(-5)), "keys_at_cursor": [f"{API}/contacts/c195"], "last_sync_started_at": ts(NOW)}
    out = run_read(["event_invitees", "contacts"], state={"contacts": saved, "event_invitees": invitees_synced(NOW)})
    assert [r["uri"] for r in records(out, "contacts")] == [f"{API}/contacts/c{i}" for i in (199, 198, 197, 196)]
    assert [q["sort"] for q in api.paths("/contacts")] == [["updated_at:desc"]]


def test_a_saved_state_that_is_not_a_timestamp_is_a_config_error_saying_how_to_reset(api: FakeCalendly) -> None:
    out = run_read(["contacts"], state={"contacts": {"updated_at": 17}}, expect_error=True)
    assert error_messages(out)[0] == (
        "The saved state of stream contacts is not understood: updated_at is 17, not a UTC date-time. Reset the "
        "stream's state (or run a full refresh of it) to start over."
    )
    assert failure_types(out)[0] == FailureType.config_error


def test_a_distrusted_state_is_not_checked_for_age(api: FakeCalendly) -> None:
    # The activity log warns about a cursor older than its retention; a cursor from the future is simply dropped.
    api.activity = [{"uri": f"{API}/activity_log_entries/e1", "occurred_at": ts(days(-1))}]
    out = run_read(["activity_log_entries"], state={"activity_log_entries": {"occurred_at": ts(days(3))}})
    assert not out.errors
    assert [w for w in warnings(out) if "activity_log_entries" in w] == [
        state_from_the_future("activity_log_entries", days(3), NOW)
    ]
    assert final_states(out)["activity_log_entries"] == {
        "occurred_at": ts(days(-1)),
        "keys_at_cursor": [f"{API}/activity_log_entries/e1"],
    }
