"""The contact book against the sandbox: custom field definitions, Lists and Views, their members, notes (opt-in),
and deleted contacts as tombstones (source_calendly/sweep.py), in a deduplicating destination."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from calendly_sandbox import Behaviour, DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import Run, catalog, minimum_requests, run_connector, without_nulls

BOOK = ["contact_custom_field_definitions", "contact_lists", "contact_list_memberships"]
STREAMS = ["scheduled_events", "event_invitees", "contacts", *BOOK]
DELETED = "_ab_cdc_deleted_at"


def keyed(stream: str, record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["contact_list"], record["contact"]) if stream == "contact_list_memberships" else (record["uri"],)


class Destination:
    """Append + Deduped for the incremental streams (a tombstone deletes its key), overwrite for the others."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def load(self, run: Run, streams: list[str], incremental: tuple[str, ...] = ("contacts",)) -> None:
        for stream in streams:
            table = self.tables.setdefault(stream, {})
            if stream not in incremental:
                table.clear()
            for record in run.records(stream):
                if record.get(DELETED):
                    table.pop(keyed(stream, record), None)
                else:
                    table[keyed(stream, record)] = record

    def equals_truth(self, sandbox: Sandbox, stream: str, token: str = "admin") -> bool:
        truth = {keyed(stream, r): without_nulls(r) for r in sandbox.truth.records(stream, token)}
        return self.tables[stream] == truth


def sync(sandbox: Sandbox, config: dict[str, Any], streams: list[str], state: Any = None) -> Run:
    time.sleep(1.1)  # Calendly's clock has whole seconds: keep the syncs apart
    sandbox.clear_request_log()
    run = run_connector("read", config, catalog(streams), state)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_full_sync_equals_truth_at_the_minimum_requests(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=29))
    streams = ["contacts", *BOOK]
    run = sync(sandbox, sandbox_config(sandbox), streams)
    destination = Destination()
    destination.load(run, streams)
    for stream in streams:
        assert destination.equals_truth(sandbox, stream), stream
    assert {r["type"] for r in run.records("contact_lists")} == {"static_list", "dynamic_view"}
    # /users/me, the token's role, the contacts, then one unpaged request each and one listing per List or View.
    assert len(sandbox.request_log) == minimum_requests(sandbox, sandbox.tokens.admin, streams=streams) + 1
    counts = Counter(e.path for e in sandbox.request_log)
    listings = len(run.records("contact_lists"))
    assert counts["/contact_lists"] == 1 and counts["/contacts"] == 1 + listings  # (fewer than 100 contacts)
    # A deleted definition leaves the next sync's table (read whole, overwritten).
    definition = sandbox.truth.records("contact_custom_field_definitions", "admin")[0]["uri"]
    sandbox.delete_custom_field_definition(definition)
    again = sync(sandbox, sandbox_config(sandbox), BOOK)
    destination.load(again, BOOK)
    assert destination.equals_truth(sandbox, "contact_custom_field_definitions")
    assert definition not in {r["uri"] for r in again.records("contact_custom_field_definitions")}


def test_incremental_emits_the_changes_and_a_tombstone_for_a_deleted_contact(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=31))
    config = sandbox_config(sandbox, num_workers=2)
    first = sync(sandbox, config, STREAMS)
    destination = Destination()
    destination.load(first, STREAMS[2:])
    contacts = sandbox.truth.records("contacts", "admin")
    [customers, newsletter, _view] = sandbox.truth.records("contact_lists", "admin")

    # Changes: a contact deleted, one created, List members added and removed, a new List.
    victim = contacts[3]["uri"]
    sandbox.delete_contact(victim)
    created = sandbox.create_contact("new.person@example.com", name="New Person", country="US")["contact"]
    members = [m["contact"] for m in sandbox.truth.records("contact_list_memberships", "admin")]
    outsider = next(c["uri"] for c in contacts[5:] if c["uri"] not in members)
    sandbox.add_list_members(customers["uri"], [outsider, created["uri"]])
    leaving = next(m["contact"] for m in sandbox.truth.records("contact_list_memberships", "admin")
                   if m["contact_list"] == newsletter["uri"])  # fmt: skip
    sandbox.remove_list_members(newsletter["uri"], [leaving])
    sandbox.create_contact_list("Partners", [contacts[6]["uri"]])

    second = sync(sandbox, config, STREAMS, first.state_messages())
    emitted = second.records("contacts")
    assert [r["uri"] for r in emitted if r.get(DELETED)] == [victim]
    assert {r["uri"] for r in emitted if not r.get(DELETED)} == {created["uri"]}  # nothing else changed
    destination.load(second, STREAMS[2:])
    for stream in STREAMS[2:]:
        assert destination.equals_truth(sandbox, stream), stream
    # The deletion check: every contact listed once by created_at (one page here), then one confirmation.
    sweep = [e for e in sandbox.request_log if e.path == "/contacts" and e.query.get("sort") == "created_at:asc"]
    assert len(sweep) == 1
    assert [e.path for e in sandbox.request_log if e.path.startswith("/contacts/") and "custom" not in e.path] == [
        "/contacts/" + victim.rsplit("/", 1)[1]
    ]

    third = sync(sandbox, config, STREAMS, second.state_messages())
    assert third.records("contacts") == []  # nothing changed, nothing deleted: nothing emitted


def test_no_tombstone_when_the_check_is_refused(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=37))
    config = sandbox_config(sandbox)
    first = sync(sandbox, config, STREAMS)
    victim = sandbox.truth.records("contacts", "admin")[0]["uri"]
    sandbox.delete_contact(victim)
    # A token without contacts:read put in the config: 403 Insufficient scope, for the listing and the check.
    narrower = sandbox_config(sandbox, sandbox.tokens.no_contacts_scope)
    refused = sync(sandbox, narrower, STREAMS, first.state_messages())
    assert not [r for r in refused.records("contacts") if r.get(DELETED)]
    assert any(
        w.startswith("Skipping stream contacts: the token lacks the scope contacts:read") for w in refused.warnings()
    )
    # The state was left as it was: the next sync with the right token finds the deletion.
    later = sync(sandbox, config, STREAMS, first.state_messages())
    assert [r["uri"] for r in later.records("contacts") if r.get(DELETED)] == [victim]


def test_notes_are_opt_in_and_equal_truth_at_the_minimum_requests(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(dataset=DatasetSpec.small(seed=41))
    off = run_connector("discover", sandbox_config(sandbox))
    assert "contact_notes" not in {s["name"] for s in off.of("CATALOG")[0]["catalog"]["streams"]}
    on_config = sandbox_config(sandbox, sync_contact_notes=True)
    on = run_connector("discover", on_config)
    [notes] = [s for s in on.of("CATALOG")[0]["catalog"]["streams"] if s["name"] == "contact_notes"]
    contact = sandbox.truth.records("contacts", "admin")[0]["uri"]
    sandbox.add_note(contact, title="Called", body="Wants a quote")
    configured = {"streams": [{"stream": notes, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    sandbox.clear_request_log()
    run = run_connector("read", on_config, configured)
    assert run.returncode == 0, run.stderr[-2000:]
    truth = [without_nulls(n) for n in sandbox.truth.records("contact_notes", "admin")]
    assert sorted(run.records("contact_notes"), key=lambda n: n["uri"]) == sorted(truth, key=lambda n: n["uri"])
    assert any(n["title"] == "Called" for n in run.records("contact_notes"))
    minimum = minimum_requests(sandbox, sandbox.tokens.admin, streams=["contact_notes"])
    # The minimum counts /users/me; notes alone need no account (nor the role): every contact, then notes ten at a time.
    assert len(sandbox.request_log) == minimum - 1
    # Off: the same catalog entry is not read at all (the stream is not offered), nothing requested for it.
    sandbox.clear_request_log()
    refused = run_connector("read", sandbox_config(sandbox), configured)
    assert not [e for e in sandbox.request_log if e.path == "/notes"]
    assert not refused.records("contact_notes")


@pytest.mark.parametrize("moves", [False, True], ids=["updated_at-stays", "updated_at-moves"])
def test_a_new_note_arrives_whether_or_not_it_moves_its_contacts_updated_at(make_sandbox: Any, moves: bool) -> None:
    # Undocumented (Behaviour.contact_notes_move_updated_at): the notes stream reads every note each sync, so it
    # is exact either way; only the contacts stream's output differs (the contact is emitted again when it moves).
    sandbox: Sandbox = make_sandbox(
        dataset=DatasetSpec.small(seed=43), behaviour=Behaviour(contact_notes_move_updated_at=moves)
    )
    config = sandbox_config(sandbox, sync_contact_notes=True)
    [notes] = [s for s in run_connector("discover", config).of("CATALOG")[0]["catalog"]["streams"]
               if s["name"] == "contact_notes"]  # fmt: skip
    configured = catalog(["scheduled_events", "event_invitees", "contacts"])
    configured["streams"].append({"stream": notes, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"})
    time.sleep(1.1)
    one = run_connector("read", config, configured)
    assert one.returncode == 0, one.stderr[-2000:]
    contact = sandbox.truth.records("contacts", "admin")[2]["uri"]
    note = sandbox.add_note(contact, title="Asked for a quote")["note"]
    time.sleep(1.1)
    two = run_connector("read", config, configured, one.state_messages())
    assert two.returncode == 0, two.stderr[-2000:]
    truth = sorted((without_nulls(n) for n in sandbox.truth.records("contact_notes", "admin")), key=lambda n: n["uri"])
    assert sorted(two.records("contact_notes"), key=lambda n: n["uri"]) == truth
    assert note["uri"] in {n["uri"] for n in two.records("contact_notes")}
    assert (contact in {c["uri"] for c in two.records("contacts")}) is moves
