"""The thirteen optional streams against the sandbox: every record, two incremental syncs, and who may read what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    CURSOR_STREAMS,
    OPTIONAL_STREAMS,
    Run,
    as_emitted_all,
    catalog,
    discover_catalog,
    run_connector,
    without_nulls,
)


def key_of(stream: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The stream's primary key (source-defined, from discover) as a function of a record."""
    [schema] = [s for s in discover_catalog()["streams"] if s["name"] == stream]

    def at(record: Any, path: list[str]) -> Any:
        for part in path:
            record = record.get(part) if isinstance(record, dict) else None
        return record

    return lambda record: tuple(at(record, path) for path in schema["source_defined_primary_key"])


def truth_or_refused(sandbox: Sandbox, stream: str, token: str) -> list[dict[str, Any]] | PermissionError:
    """What the token may read of the stream, or why Calendly answers 403."""
    try:
        return sandbox.truth.records(stream, token)
    except PermissionError as refused:
        return refused


def skips(run: Run, stream: str) -> list[str]:
    return [w for w in run.warnings() if w.startswith(f"Skipping stream {stream}:")]


def keyed(stream: str, records: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Records as a destination that deduplicates on the declared primary key keeps them; none may be lost."""
    key = key_of(stream)
    emitted = as_emitted_all(stream, records)  # the truth gets the fields the connector adds; its own keep theirs
    out = {key(r): without_nulls(r) for r in emitted}
    assert len(out) == len(records), f"{stream}: duplicate primary keys"
    return out


# -- a full sync (conftest.py: full_sync) --------------------------------------------------------------------------
@pytest.mark.parametrize("stream", OPTIONAL_STREAMS)
def test_a_full_sync_of_every_optional_stream_equals_the_truth(
    full_sync: Run, shared_sandbox: Sandbox, stream: str
) -> None:
    expected = shared_sandbox.truth.records(stream, shared_sandbox.tokens.admin)
    assert expected, f"the sandbox should hold {stream}"
    assert keyed(stream, full_sync.records(stream)) == keyed(stream, expected)
    assert not skips(full_sync, stream)


def test_children_keep_their_parent(full_sync: Run) -> None:
    event_types = set(full_sync.uris("event_types"))
    users = set(full_sync.uris("users"))
    assert {r["event_type"]["uri"] for r in full_sync.records("event_type_memberships")} <= event_types
    assert {r["event_type"] for r in full_sync.records("event_type_availability_schedules")} == event_types
    assert {r["user"] for r in full_sync.records("user_availability_schedules")} <= users
    assert users == {m["user"]["uri"] for m in full_sync.records("organization_memberships")}


@pytest.mark.parametrize("collisions", [True, False], ids=["with-collisions", "without"])
def test_messages_that_share_event_type_recipient_and_instant_all_survive_deduplication(
    make_sandbox: Callable[..., Sandbox], collisions: bool
) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(communication_collisions=collisions)
    run = run_connector("read", sandbox_config(sandbox), catalog(["outgoing_communications"]))
    assert run.returncode == 0 and run.errors() == [], run.stderr[-2000:]
    emitted = run.records("outgoing_communications")
    expected = sandbox.truth.records("outgoing_communications", sandbox.tokens.admin)
    # What the old key [event_uri, type, to, created_at] would keep, and what the declared key keeps.
    old_key = {(r["event_uri"], r["type"], r["to"], r["created_at"]) for r in emitted}
    assert (len(old_key) < len(expected)) == collisions
    assert keyed("outgoing_communications", emitted) == keyed("outgoing_communications", expected)
    assert len(keyed("outgoing_communications", emitted)) == len(expected)


# -- two incremental syncs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "behaviour",
    [{}, {"outgoing_communications_order": "desc", "contacts_visibility": "organization"}],
    ids=["defaults", "other-order-and-visibility"],
)
def test_a_second_sync_emits_the_new_and_changed_records_and_nothing_else(
    make_sandbox: Callable[..., Sandbox], behaviour: dict[str, Any]
) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(**behaviour)
    admin = sandbox.tokens.admin
    # event_invitees before contacts tells them whose meetings changed (none here); without it, every contact
    # would be read again (source_calendly/meetings.py).
    streams = ["event_invitees", *CURSOR_STREAMS]
    config = sandbox_config(sandbox, num_workers=4)
    first = run_connector("read", config, catalog(streams))
    assert first.returncode == 0 and first.errors() == [], first.stderr[-2000:]
    for stream in CURSOR_STREAMS:
        assert keyed(stream, first.records(stream)) == keyed(stream, sandbox.truth.records(stream, admin)), stream
        assert first.states()[stream][CURSOR_STREAMS[stream]]

    entry = sandbox.add_activity_log_entry(namespace="User", action="Login")["entry"]
    created = sandbox.create_contact("new.contact@example.com", name="New Contact")["contact"]
    changed_before = first.records("contacts")[-1]  # the oldest change: nothing later in its listing moved
    changed = sandbox.update_contact(changed_before["uri"], company="Renamed Inc")["contact"]
    message = sandbox.add_outgoing_communication()["communication"]

    second = run_connector("read", config, catalog(streams), first.state_messages())
    assert second.returncode == 0 and second.errors() == [], second.stderr[-2000:]
    assert second.records("activity_log_entries") == [without_nulls(entry)]
    assert keyed("contacts", second.records("contacts")) == keyed("contacts", [created, changed])
    assert keyed("outgoing_communications", second.records("outgoing_communications")) == keyed(
        "outgoing_communications", [message]
    )

    third = run_connector("read", config, catalog(streams), second.state_messages())
    assert third.returncode == 0 and third.counts() == {}
    for stream in CURSOR_STREAMS:  # their cursors stay (contacts' time of the last sync moves on)
        assert {k: v for k, v in third.states()[stream].items() if k != "last_sync_started_at"} == {
            k: v for k, v in second.states()[stream].items() if k != "last_sync_started_at"
        }


@pytest.mark.parametrize("max_count", [1000, 100], ids=["count-1000-accepted", "count-1000-refused"])
def test_the_activity_log_reads_every_entry_whichever_count_limit_calendly_applies(
    make_sandbox: Callable[..., Sandbox], max_count: int
) -> None:
    sandbox = make_sandbox(dataset=DatasetSpec.small(activity_log_entries=400))
    sandbox.set_behaviour(activity_log_max_count=max_count)
    run = run_connector("read", sandbox_config(sandbox), catalog(["activity_log_entries"]))
    assert run.returncode == 0 and run.errors() == [] and run.warnings() == [], run.stderr[-2000:]
    expected = sandbox.truth.records("activity_log_entries", sandbox.tokens.admin)
    assert len(expected) > 100  # more than one page at the fallback's 100
    assert keyed("activity_log_entries", run.records("activity_log_entries")) == keyed("activity_log_entries", expected)
    counts = [e.query.get("count") for e in sandbox.request_log if e.path == "/activity_log_entries"]
    fell_back = [line for line in run.logs() if "refused count=1000" in line]
    if max_count == 1000:
        assert counts == ["1000"] and fell_back == []
    else:  # the refused request, then 100 a page
        assert counts == ["1000"] + ["100"] * -(-len(expected) // 100) and len(fell_back) == 1


def test_a_cursor_older_than_the_activity_logs_90_days_warns_that_entries_are_gone(shared_sandbox: Sandbox) -> None:
    # The state of a sync four months ago: Calendly has dropped what happened in its first month since.
    old = (datetime.now(UTC) - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "activity_log_entries"},
                                           "stream_state": {"occurred_at": old}}}]  # fmt: skip
    run = run_connector("read", sandbox_config(shared_sandbox), catalog(["activity_log_entries"]), state)
    assert run.returncode == 0 and run.errors() == []
    [warning] = [w for w in run.warnings() if "90 days" in w]
    assert old in warning and "gone" in warning
    expected = shared_sandbox.truth.records("activity_log_entries", shared_sandbox.tokens.admin)
    assert keyed("activity_log_entries", run.records("activity_log_entries")) == keyed("activity_log_entries", expected)


def test_webhook_subscriptions_of_all_three_scopes_arrive(shared_sandbox: Sandbox) -> None:
    admin = shared_sandbox.tokens.admin
    run = run_connector("read", sandbox_config(shared_sandbox), catalog(["webhook_subscriptions"]))
    assert run.returncode == 0 and run.errors() == [] and run.warnings() == []
    got = run.records("webhook_subscriptions")
    assert {r["scope"] for r in got} == {"organization", "user", "group"}
    assert len({r["user"] for r in got if r["scope"] == "user"}) >= 2  # not only the token's own user's
    expected = shared_sandbox.truth.records("webhook_subscriptions", admin)
    assert keyed("webhook_subscriptions", got) == keyed("webhook_subscriptions", expected)


# -- who may read what ---------------------------------------------------------------------------------------------
ACCESS_CASES = {
    "admin, Enterprise": ("admin", None),
    "admin, Teams plan": ("admin", "teams"),
    "owner, Standard plan": ("no_teams", None),
    "member": ("member", None),
    "admin without availability:read": ("no_availability_scope", None),
    "admin without contacts:read": ("no_contacts_scope", None),
}


def what_is_missing(refused: PermissionError) -> str:
    """The words the skip warning must contain, from the sandbox's reason for its 403."""
    reason = str(refused)
    if "lacks" in reason:
        return reason.split("lacks ", 1)[1].split(" ", 1)[0]  # the scope itself
    return "plan" if "plan" in reason else "admin or owner role"


@pytest.mark.parametrize("case", list(ACCESS_CASES))
def test_each_token_syncs_what_it_may_and_warns_once_for_the_rest(
    case: str, shared_sandbox: Sandbox, make_sandbox: Callable[..., Sandbox]
) -> None:
    label, plan = ACCESS_CASES[case]
    sandbox = make_sandbox(dataset=DatasetSpec.small(seed=23, plan=plan)) if plan else shared_sandbox
    token = getattr(sandbox.tokens, label)
    run = run_connector("read", sandbox_config(sandbox, token, num_workers=4), catalog(ALL_STREAMS))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.errors() == []
    refused_streams = []
    for stream in OPTIONAL_STREAMS:
        truth = truth_or_refused(sandbox, stream, token)
        if isinstance(truth, PermissionError):
            refused_streams.append(stream)
            assert run.records(stream) == [], stream
            [warning] = skips(run, stream)
            assert what_is_missing(truth) in warning, (stream, warning)
        else:
            assert keyed(stream, run.records(stream)) == keyed(stream, truth), stream
            assert not skips(run, stream), stream
    if label != "admin" or plan:
        assert refused_streams, "the case should really refuse something"
    # check says the same before any sync: one report, naming exactly the streams the sync skipped.
    check = run_connector("check", sandbox_config(sandbox, token))
    [report] = [line for line in check.logs() if "Gated streams this token can read" in line]
    cannot = report.split("cannot read", 1)[1] if "cannot read" in report else ""
    assert [s for s in OPTIONAL_STREAMS if f" {s}: " in cannot or f": {s}: " in cannot] == refused_streams


def test_a_member_reads_only_its_own_availability_where_calendly_hides_the_others(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox()
    sandbox.set_behaviour(availability_of_others=False)
    member = sandbox.tokens.member
    run = run_connector("read", sandbox_config(sandbox, member), catalog(["user_availability_schedules"]))
    assert run.returncode == 0 and run.errors() == [] and run.warnings() == []
    expected = sandbox.truth.records("user_availability_schedules", member)
    assert {r["user"] for r in expected} == {sandbox.truth.user(member)["uri"]}
    assert keyed("user_availability_schedules", run.records("user_availability_schedules")) == keyed(
        "user_availability_schedules", expected
    )
    asked = [e for e in sandbox.request_log if e.path == "/user_availability_schedules"]
    assert len(asked) == 2  # its own, and one other user's (refused): then no more
