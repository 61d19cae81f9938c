"""Data-compliance erasures and vanishing submissions (calendly_sandbox/compliance.py): what leaves the API and the
truth, when, and the requests Calendly refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from calendly_sandbox import Behaviour, Sandbox


def _local(sb: Sandbox, uri: str) -> str:
    return uri.replace("https://api.calendly.com", sb.url)


def _get(sb: Sandbox, uri: str) -> requests.Response:
    return requests.get(_local(sb, uri), headers={"Authorization": f"Bearer {sb.tokens.admin}"}, timeout=10)


def _events(sb: Sandbox) -> list[dict[str, Any]]:
    return sorted(sb.truth.scheduled_events(sb.tokens.admin), key=lambda e: e["start_time"])


def test_erased_events_leave_the_listing_and_answer_404_with_their_invitees(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox()
    events = _events(sb)
    target = events[5]
    start = datetime.fromisoformat(target["start_time"])
    end = start + timedelta(hours=1)
    in_range = [e["uri"] for e in events if start <= datetime.fromisoformat(e["start_time"]) < end]
    invitees = [i["uri"] for uri in in_range for i in sb.truth.invitees(uri)]
    done = sb.erase_events(start.isoformat(), end.isoformat())
    assert sorted(done["erased"]["events"]) == sorted(in_range)
    assert sorted(done["erased"]["invitees"]) == sorted(invitees)
    assert [e["uri"] for e in _events(sb)] == [e["uri"] for e in events if e["uri"] not in in_range]
    assert _get(sb, target["uri"]).status_code == 404
    assert _get(sb, target["uri"] + "/invitees").status_code == 404
    assert _get(sb, events[6]["uri"] + "/invitees").status_code == 200  # the others stay


def test_an_invitee_erasure_by_email_takes_effect_after_its_delay(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox()
    event = _events(sb)[3]
    invitee = sb.truth.invitees(event["uri"])[0]
    pending = sb.erase_invitees([invitee["email"].upper()], delay_days=7)  # emails match whatever their case
    assert pending["erased"] == {"events": [], "invitees": []}
    assert invitee in sb.truth.invitees(event["uri"])
    assert sb.advance_clock(days=6.9)["erased"]["invitees"] == []
    gone = sb.advance_clock(days=0.1)["erased"]["invitees"]
    assert invitee["uri"] in gone
    everywhere = [i for e in _events(sb) for i in sb.truth.invitees(e["uri"])]
    assert not [i for i in everywhere if i["email"] == invitee["email"]]
    assert [e["uri"] for e in _events(sb)].count(event["uri"]) == 1  # the event itself stays, unchanged
    assert next(e for e in _events(sb) if e["uri"] == event["uri"]) == event


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        ("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", "after start_time"),
        ("2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "24 months"),
        ("2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "in the past"),
        ("yesterday", "2026-01-01T00:00:00Z", "yesterday"),
    ],
)
def test_a_range_calendly_refuses_is_a_400(
    make_sandbox: Callable[..., Sandbox], start: str, end: str, why: str
) -> None:
    sb = make_sandbox()
    answer = requests.post(f"{sb.url}/_sandbox/erase_events", json={"start_time": start, "end_time": end}, timeout=10)
    assert answer.status_code == 400 and why in answer.json()["error"]


def test_a_submission_vanishes_only_where_the_behaviour_allows(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox()
    form = sb.truth.routing_forms(sb.tokens.admin)[0]["uri"]
    submission = sb.truth.routing_form_submissions(sb.tokens.admin, form_uri=form)[0]
    with pytest.raises(ValueError, match="submissions_can_vanish"):
        sb.delete_form_submission(submission["uri"])
    sb.set_behaviour(submissions_can_vanish=True)
    assert sb.delete_form_submission(submission["uri"])["submission"] == submission
    assert submission not in sb.truth.routing_form_submissions(sb.tokens.admin, form_uri=form)
    assert _get(sb, submission["uri"]).status_code == 404
    assert Behaviour(submissions_can_vanish=True).as_dict()["submissions_can_vanish"] is True
