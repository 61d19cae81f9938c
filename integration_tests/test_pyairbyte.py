"""PyAirbyte as a real client: every table it loads equals the sandbox's truth, after a full and an incremental sync.

PyAirbyte (pinned in integration_tests/pyairbyte/requirements.lock) lives in .venv-pyairbyte, which
scripts/setup_pyairbyte.sh makes (once; later runs only check it). Everything PyAirbyte writes (its DuckDB
cache, logs, the connector's venv) goes to a temporary directory. Marker: pyairbyte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import DatasetSpec, Faults, Sandbox
from integration_tests.harness import ALL_STREAMS, REPO, as_emitted_all, discover_catalog
from integration_tests.test_oauth_sync import LIFETIME, oauth_config
from source_calendly.bounds import MARGIN
from source_calendly.streams.tracked import UPDATED_AT
from source_calendly.tombstones import DELETED_AT

PYTHON = REPO / ".venv-pyairbyte" / "bin" / "python"
EXAMPLE = REPO / "examples" / "pyairbyte_example.py"
SYNC_AND_DUMP = REPO / "integration_tests" / "pyairbyte" / "sync_and_dump.py"
# Columns PyAirbyte adds to every table.
AIRBYTE_COLUMNS = {"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"}
# Columns the connector sets from the sync, not from Calendly (the per-parent streams' change tracking).
CDC_COLUMNS = {UPDATED_AT, DELETED_AT}


@pytest.fixture(scope="module")
def pyairbyte() -> Path:
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup_pyairbyte.sh")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return PYTHON


def pyairbyte_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a PyAirbyte process: offline, everything it writes under `tmp`, uv on PATH (pip_url)."""
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    env = {
        **os.environ,
        "AIRBYTE_OFFLINE_MODE": "1",
        "AIRBYTE_LOGGING_ROOT": str(tmp / "logs"),
        "UV_SYSTEM_CERTS": "1",
        "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    }
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(dataset=DatasetSpec.small(seed=23), rate_limit_per_minute=None) as started:
        yield started


# -- the README's example ------------------------------------------------------------------------------------------
def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"<!-- examples/pyairbyte_example\.py -->\n```python\n(.*?)```\n", text, re.DOTALL)
    assert len(blocks) == 1, "README: one python block right after <!-- examples/pyairbyte_example.py -->"
    return blocks[0]


def test_the_readme_shows_the_example_file_verbatim() -> None:
    assert readme_example() == EXAMPLE.read_text()


@pytest.mark.pyairbyte
@pytest.mark.timeout(600)  # the first run may also make .venv-pyairbyte
def test_the_readme_example_syncs_every_stream_and_leaves_nothing_in_the_repository(
    pyairbyte: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Run as the README says (from the repository), with the cache in HOME, not in the working directory."""
    home = tmp_path / "home"
    before = set(os.listdir(REPO))
    env = pyairbyte_env(tmp_path, HOME=str(home), CALENDLY_TOKEN=sandbox.tokens.admin, CALENDLY_API_URL=sandbox.url)
    env.pop("AIRBYTE_CACHE_ROOT", None)
    done = subprocess.run(
        [str(pyairbyte), str(EXAMPLE)], capture_output=True, text=True, timeout=600, cwd=REPO, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert set(os.listdir(REPO)) == before, "the example left files in the repository"
    admin = sandbox.tokens.admin
    expected = [f"{name}: {len(sandbox.truth.records(name, admin))} rows" for name in sorted(ALL_STREAMS)]
    cache = home / ".source-calendly" / "pyairbyte" / "default_cache" / "default_cache.duckdb"
    assert done.stdout.splitlines()[-len(expected) - 1 :] == [*expected, f"DuckDB file: {cache}"]
    assert cache.is_file()
    assert admin not in done.stdout + done.stderr


# -- every table equals the truth, after a full and an incremental sync ---------------------------------------------
def pat_config(sandbox: Sandbox) -> dict[str, Any]:
    """The admin's personal access token in the spec's shape: PyAirbyte validates the config against the spec
    before the connector (which would also take the legacy top-level personal_access_token) sees it."""
    credentials = {"auth_type": "personal_access_token", "personal_access_token": sandbox.tokens.admin}
    return {"credentials": credentials, "api_url": sandbox.url}


def sync_and_dump(
    python: Path, sandbox: Sandbox, tmp: Path, config: dict[str, Any] | None = None, configs_out: Path | None = None
) -> dict[str, Any]:
    """One sync by PyAirbyte (the README's strategy) into the cache under `tmp`, and what the cache then holds.
    With `configs_out`, the configs PyAirbyte's config_change_callback received are written there."""
    config_file = tmp / "config.json"
    config_file.write_text(json.dumps(config or pat_config(sandbox)))
    out = tmp / "out.json"
    out.unlink(missing_ok=True)
    env = pyairbyte_env(tmp, AIRBYTE_CACHE_ROOT=str(tmp / "cache"))
    args = [str(python), str(SYNC_AND_DUMP), str(config_file), str(tmp / "install"), str(out)]
    args += [str(configs_out)] if configs_out else []
    sandbox.wait_past_last_change()  # as harness.run_connector does: not in the second of the last change
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp, env=env, check=False)
    sandbox.wait_idle()
    assert done.returncode == 0, done.stderr[-5000:]
    assert sandbox.tokens.admin not in done.stdout + done.stderr
    return json.loads(out.read_text())


def instant(value: str) -> datetime:
    """A timestamp as an instant; DuckDB's TIMESTAMP (without zone) holds UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def typed(value: Any, column_type: str) -> Any:
    """A cached value as what it means: timestamps as instants, JSON as parsed JSON."""
    if value is None:
        return None
    if column_type.startswith("TIMESTAMP"):
        return instant(value)
    if column_type == "JSON":
        return json.loads(value) if isinstance(value, str) else value
    return value


def expected_value(value: Any, column_type: str) -> Any:
    if value is not None and column_type.startswith("TIMESTAMP"):
        return instant(value)
    return value


def assert_table_equals_truth(stream: str, table: dict[str, Any], truth: list[dict[str, Any]]) -> None:
    [discovered] = [s for s in discover_catalog()["streams"] if s["name"] == stream]
    declared = set(discovered["json_schema"]["properties"])
    key = [path for [path] in discovered["source_defined_primary_key"]]  # flat: test_source.py checks it
    columns: dict[str, str] = table["columns"]
    # PyAirbyte keeps declared fields only: every declared field has its column, and the truth has no other field.
    assert set(columns) == declared | AIRBYTE_COLUMNS, stream
    for field, spec in discovered["json_schema"]["properties"].items():
        kinds = set(spec["type"] if isinstance(spec["type"], list) else [spec["type"]])
        if kinds & {"object", "array"}:
            assert columns[field] == "JSON", f"{stream}.{field}"
        if spec.get("format") == "date-time":
            assert columns[field].startswith("TIMESTAMP"), f"{stream}.{field}"
    records = as_emitted_all(stream, truth)
    undeclared = {field for r in records for field in r} - declared
    assert undeclared == set(), f"{stream}: fields PyAirbyte would drop"
    rows = {tuple(typed(row[k], columns[k]) for k in key): row for row in table["rows"]}
    want = {tuple(expected_value(r.get(k), columns[k]) for k in key): r for r in records}
    assert len(rows) == len(table["rows"]) and len(want) == len(records), f"{stream}: duplicate keys"
    assert set(rows) == set(want), stream
    for k, record in want.items():
        row = rows[k]
        got = {f: typed(row[f], columns[f]) for f in declared - CDC_COLUMNS}
        expected = {f: expected_value(record.get(f), columns[f]) for f in declared - CDC_COLUMNS}
        assert got == expected, f"{stream} {k}"
        if declared >= CDC_COLUMNS:  # the sync's time, and no tombstone among the rows
            assert row[UPDATED_AT] is not None and row[DELETED_AT] is None, f"{stream} {k}"


def assert_cache_equals_truth(dumped: dict[str, Any], sandbox: Sandbox) -> None:
    assert sorted(dumped["tables"]) == sorted(ALL_STREAMS)
    for stream in ALL_STREAMS:
        truth = sandbox.truth.records(stream, sandbox.tokens.admin)
        assert truth, f"the sandbox should hold {stream}"
        assert_table_equals_truth(stream, dumped["tables"][stream], truth)


def activity_log_cursors(sandbox: Sandbox) -> list[str | None]:
    """The `min_occurred_at` of each activity log request: the cursor, when PyAirbyte passed the saved state."""
    return [e.query.get("min_occurred_at") for e in sandbox.request_log if e.endpoint == "/activity_log_entries"]


@pytest.mark.pyairbyte
@pytest.mark.timeout(600)  # two PyAirbyte processes (about 80 s on 2 busy cores), one of them installing
def test_every_table_equals_the_truth_after_a_full_and_an_incremental_sync(
    pyairbyte: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    first = sync_and_dump(pyairbyte, sandbox, tmp_path)
    assert first["version"] == "0.1.0"  # PyAirbyte found the distribution airbyte-source-calendly
    assert_cache_equals_truth(first, sandbox)
    assert activity_log_cursors(sandbox) == [None]
    newest_entry = max(instant(e["occurred_at"]) for e in sandbox.truth.activity_log_entries(sandbox.tokens.admin))

    # Change the organization: incremental streams gain and change rows, a full-refresh stream loses one.
    admin = sandbox.tokens.admin
    anchor = sandbox.anchor
    sandbox.book_event(anchor + timedelta(days=1), invitees=1)
    upcoming = [
        e
        for e in sandbox.truth.scheduled_events(admin)
        if e["status"] == "active" and instant(e["start_time"]) > anchor and e["invitees_counter"]["limit"] == 1
    ]
    sandbox.cancel_event(upcoming[0]["uri"], reason="Host is sick")
    moved = sandbox.truth.invitees(upcoming[1]["uri"])[0]
    sandbox.reschedule(moved["uri"], anchor + timedelta(days=9))
    sandbox.add_form_submission(sandbox.truth.routing_forms(admin)[0]["uri"])
    sandbox.add_activity_log_entry("EventType", "Create")
    sandbox.create_contact("new.lead@example.com", name="New Lead")
    old_contact = sandbox.truth.contacts(admin)[-1]
    sandbox.update_contact(old_contact["uri"], job_title="VP Data")
    sandbox.add_outgoing_communication()
    revoked = sandbox.truth.organization_invitations(admin)[0]["uri"]
    sandbox.revoke_invitation(revoked)
    sandbox.clear_request_log()

    second = sync_and_dump(pyairbyte, sandbox, tmp_path)
    assert_cache_equals_truth(second, sandbox)
    assert revoked not in {r["uri"] for r in second["tables"]["organization_invitations"]["rows"]}
    assert old_contact["uri"] in {r["uri"] for r in second["tables"]["contacts"]["rows"]}
    # Incremental: PyAirbyte passed the state it saved in the cache (the first sync's newest entry is the cursor,
    # asked for from bounds.MARGIN before it).
    assert [instant(c) for c in activity_log_cursors(sandbox) if c] == [newest_entry - MARGIN]
    assert len(activity_log_cursors(sandbox)) == 1


# -- OAuth: the config_change_callback gets every rotated refresh token ---------------------------------------------
@pytest.mark.pyairbyte
@pytest.mark.timeout(600)
def test_config_change_callback_receives_every_rotated_refresh_token_and_the_sync_loses_nothing(
    pyairbyte: Path, tmp_path: Path
) -> None:
    """PyAirbyte hands each CONTROL message's config to `config_change_callback`; the callback (as the README
    says) saves it and gives it to the source, so the example's second read starts with the live refresh token."""
    spec = DatasetSpec.small(seed=23)
    with Sandbox(dataset=spec, rate_limit_per_minute=None, access_token_lifetime_seconds=LIFETIME) as sandbox:
        # 80 ms per API request: the sync outlives several access tokens whatever the machine's speed.
        sandbox.set_faults(Faults(latency_ms_median=80, latency_sigma=0.0))
        first_refresh_token = sandbox.oauth.grant("admin")["refresh_token"]
        sandbox.clear_request_log()
        received_file = tmp_path / "received.json"

        dumped = sync_and_dump(pyairbyte, sandbox, tmp_path, oauth_config(sandbox, first_refresh_token), received_file)

        received = json.loads(received_file.read_text())
        assert len(received) >= 2, "the sync outlived an access token"
        # Every refresh was answered, each with the refresh token received before it, and the callback got each
        # rotation in order: the last one received is the only one Calendly still takes.
        refreshes = [e.status for e in sandbox.request_log if e.path == "/oauth/token"]
        assert refreshes == [200] * len(received)
        assert [c["credentials"]["refresh_token"] for c in received] == sandbox.oauth.issued_refresh_tokens[1:]
        assert sandbox.oauth.live_refresh_tokens() == [received[-1]["credentials"]["refresh_token"]]
        assert {k: v for k, v in received[-1].items() if k != "credentials"} == {
            k: v for k, v in oauth_config(sandbox, "").items() if k != "credentials"
        }
        # Nothing lost: every table equals the truth.
        assert_cache_equals_truth(dumped, sandbox)


# -- deletions: compliance erasures leave the DuckDB tables ---------------------------------------------------------
@pytest.mark.pyairbyte
@pytest.mark.timeout(600)
def test_erased_events_and_invitees_a_deleted_contact_and_recap_are_gone_from_the_tables_and_nothing_else_is(
    pyairbyte: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The README example's strategy: the incremental streams merge on the primary key, so a tombstone replaces its
    key's row, and the example then deletes the rows whose newest version is a tombstone (what a deduplicating
    Airbyte destination does; PyAirbyte 0.71.3 does not)."""
    first = sync_and_dump(pyairbyte, sandbox, tmp_path)
    assert_cache_equals_truth(first, sandbox)
    admin = sandbox.tokens.admin
    anchor = sandbox.anchor
    events = sorted(sandbox.truth.scheduled_events(admin), key=lambda e: e["start_time"])
    recent = next(e for e in events if anchor - timedelta(days=3) < instant(e["start_time"]) < anchor)  # the window
    old = events[2]  # long before the window: the walks' first step
    erased: dict[str, list[str]] = {"events": [], "invitees": []}
    for event in (recent, old):
        start = instant(event["start_time"])
        end = start + timedelta(seconds=1)
        done = sandbox.erase_events(start.isoformat(), end.isoformat())["erased"]
        erased["events"] += done["events"]
        erased["invitees"] += done["invitees"]
    assert recent["uri"] in erased["events"] and old["uri"] in erased["events"] and erased["invitees"]
    # A contact and a meeting recap deleted in Calendly: listed no more, their single GET answers 404.
    deleted_contact = sandbox.truth.contacts(admin)[0]["uri"]
    sandbox.delete_contact(deleted_contact)
    deleted_recap = sandbox.truth.records("meeting_recaps", admin)[0]["uri"]
    sandbox.delete_meeting_recap(deleted_recap)
    keys = {s["name"]: [path for [path] in s["source_defined_primary_key"]] for s in discover_catalog()["streams"]}

    def keyed(dumped: dict[str, Any]) -> dict[str, set[tuple[Any, ...]]]:
        tables = dumped["tables"]
        return {name: {tuple(row[k] for k in keys[name]) for row in tables[name]["rows"]} for name in ALL_STREAMS}

    before = keyed(first)

    second = sync_and_dump(pyairbyte, sandbox, tmp_path)
    assert_cache_equals_truth(second, sandbox)  # the erased rows are gone: the truth no longer has them
    after = keyed(second)
    assert before["scheduled_events"] - after["scheduled_events"] == {(uri,) for uri in erased["events"]}
    assert before["event_invitees"] - after["event_invitees"] == {(uri,) for uri in erased["invitees"]}
    assert before["contacts"] - after["contacts"] == {(deleted_contact,)}
    assert before["meeting_recaps"] - after["meeting_recaps"] == {(deleted_recap,)}
    # The deleted contact left its Lists too (Calendly: a deleted contact is listed nowhere).
    left_lists = before["contact_list_memberships"] - after["contact_list_memberships"]
    assert left_lists == {pair for pair in before["contact_list_memberships"] if pair[1] == deleted_contact}
    gone = ("scheduled_events", "event_invitees", "contacts", "meeting_recaps", "contact_list_memberships")
    for stream in ALL_STREAMS:  # nothing else is gone
        if stream not in gone:
            assert before[stream] <= after[stream], stream
