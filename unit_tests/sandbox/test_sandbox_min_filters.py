"""min_start_time, min_occurred_at, min_created_at at the bound: inclusive or exclusive (Behaviour.min_filters)."""

from __future__ import annotations

import pytest
from sandbox_helpers import Client

from calendly_sandbox import Behaviour, Sandbox


@pytest.mark.parametrize("reading", ["inclusive", "exclusive"])
def test_min_filters_list_the_bound_itself_only_when_inclusive(make_sandbox, client, reading: str) -> None:
    sb: Sandbox = make_sandbox(behaviour=Behaviour(min_filters=reading))
    admin: Client = client(sb, "admin")
    org = sb.truth.organization("admin")["uri"]
    kept = (lambda at, bound: at >= bound) if reading == "inclusive" else (lambda at, bound: at > bound)
    events = sb.truth.scheduled_events("admin")
    entries = sb.truth.records("activity_log_entries", "admin")
    messages = sb.truth.records("outgoing_communications", "admin")
    listings = [
        ("/scheduled_events", "start_time", "min_start_time", {"sort": "start_time:asc"}, events),
        ("/activity_log_entries", "occurred_at", "min_occurred_at", {"sort": "occurred_at:asc"}, entries),
        ("/outgoing_communications", "created_at", "min_created_at", {}, messages),
    ]
    for path, field, param, extra, truth in listings:
        bound = truth[len(truth) // 2][field]  # a record's own time: it is at the bound
        listed = admin.all(path, organization=org, count=100, **extra, **{param: bound})
        expected = [r for r in truth if kept(r[field], bound)]
        assert sorted(r[field] for r in listed) == sorted(r[field] for r in expected), path
        assert any(r[field] == bound for r in listed) is (reading == "inclusive"), path
