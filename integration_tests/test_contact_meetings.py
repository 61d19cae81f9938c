"""contacts stay fresh after an incremental sync whether or not Calendly moves a contact's updated_at when its
meetings change (Behaviour.contact_meetings_move_updated_at; see source_calendly/meetings.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calendly_sandbox import Behaviour, DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import catalog, run_connector, without_nulls

STREAMS = ["scheduled_events", "event_invitees", "contacts"]


def table(*runs: Any) -> dict[str, dict[str, Any]]:
    """The contacts table after each run's records were merged on `uri` (Append + Deduped)."""
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        rows.update({r["uri"]: r for r in run.records("contacts")})
    return rows


@pytest.mark.parametrize("moves", [False, True], ids=["updated_at-stays", "updated_at-moves"])
def test_meeting_dates_are_current_after_an_incremental_sync(make_sandbox: Any, moves: bool) -> None:
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=43), behaviour=Behaviour(contact_meetings_move_updated_at=moves)
    )
    admin = sandbox.tokens.admin
    config = sandbox_config(sandbox, history_requests=0)
    first = run_connector("read", config, catalog(STREAMS))
    assert first.returncode == 0, first.stderr[-2000:]
    contacts = sandbox.truth.records("contacts", admin)
    assert table(first) == {c["uri"]: without_nulls(c) for c in contacts}
    # A meeting booked with one contact, and another contact's next meeting canceled.
    upcoming = next(c for c in contacts if c.get("next_meeting_date"))
    email = upcoming["emails"][0]["email"]
    event = next(
        e
        for e in sandbox.truth.scheduled_events(admin)
        if e["start_time"] == upcoming["next_meeting_date"]
        and any(i["email"].lower() == email.lower() for i in sandbox.truth.invitees(e["uri"]))
    )
    sandbox.cancel_event(event["uri"])
    idle = next(c for c in contacts if c is not upcoming and not c.get("next_meeting_date"))
    start = (datetime.now(UTC) + timedelta(days=5)).replace(second=0, microsecond=0)
    sandbox.book_event(start, invitee_emails=[idle["emails"][0]["email"]])
    after = {c["uri"]: c for c in sandbox.truth.records("contacts", admin)}
    assert after[idle["uri"]]["next_meeting_date"] != idle.get("next_meeting_date")
    assert after[upcoming["uri"]]["next_meeting_date"] != upcoming["next_meeting_date"]
    assert (after[idle["uri"]]["updated_at"] != idle["updated_at"]) is moves

    sandbox.clear_request_log()
    second = run_connector("read", config, catalog(STREAMS), state=first.state_messages())
    assert second.returncode == 0, second.stderr[-2000:]
    assert table(first, second) == {uri: without_nulls(c) for uri, c in after.items()}
    assert {idle["uri"], upcoming["uri"]} <= set(second.uris("contacts"))
    lookups = [e.query for e in sandbox.request_log if e.path == "/contacts" and "email" in e.query]
    assert len(lookups) == (0 if moves else 1)  # those not listed by updated_at already, in one request
