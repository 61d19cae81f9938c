"""Sync a Calendly organization into a local DuckDB file with PyAirbyte; run it again for an incremental sync.

    bash scripts/setup.sh && bash scripts/setup_pyairbyte.sh  # the connector's .venv, and PyAirbyte's
    CALENDLY_TOKEN=<personal access token> .venv-pyairbyte/bin/python examples/pyairbyte_example.py

CALENDLY_API_URL=http://127.0.0.1:8765 reads the local sandbox instead (README: Try it). The cache is
~/.source-calendly/pyairbyte/default_cache/default_cache.duckdb (AIRBYTE_CACHE_ROOT moves it).
"""

import os
from pathlib import Path

# Before importing airbyte, which reads them at import: no registry lookup and no telemetry (the connector is
# local), and the cache in your home directory, not in whichever directory you run this from.
os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
os.environ.setdefault("AIRBYTE_CACHE_ROOT", str(Path.home() / ".source-calendly" / "pyairbyte"))
import airbyte as ab

# The connector's console script in this repository's .venv, by absolute path.
CONNECTOR = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "source-calendly"
# Streams read incrementally. The others are read whole every time, the four tracked per-parent streams too
# (event_type_memberships, event_type_availability_schedules, user_availability_schedules, webhook_subscriptions),
# although they have a cursor: incrementally they send a removed child as a tombstone (`_ab_cdc_deleted_at` set),
# which PyAirbyte (0.71.3) does not apply; its merge would store the tombstone as a row. Read whole and replaced,
# they are exact.
INCREMENTAL = [
    "scheduled_events",
    "event_invitees",
    "routing_form_submissions",
    "activity_log_entries",
    "contacts",
    "outgoing_communications",
    "meeting_recaps",
]
# Incremental streams that send tombstones for records Calendly no longer lists (erased, deleted).
TOMBSTONED = ["scheduled_events", "event_invitees", "routing_form_submissions", "contacts", "meeting_recaps"]


def sync(source: ab.Source) -> None:
    """Every stream into the default DuckDB cache: a full read the first time, then incremental."""
    # Full-refresh streams replace their tables, so what Calendly deleted (a revoked invitation, a removed
    # member) leaves them too; merging on the primary key (the default) would keep such rows forever.
    full_refresh = [name for name in source.get_available_streams() if name not in INCREMENTAL]
    source.read(streams=full_refresh, write_strategy="replace", force_full_refresh=True)
    # Incremental streams read from the state PyAirbyte keeps in the cache and merge on the primary key.
    # Never "replace" these: the table would keep only what changed since the last sync.
    cache = source.read(streams=INCREMENTAL, write_strategy="merge").cache
    # A tombstone replaced its key's row in the merge: delete those rows, as a deduplicating Airbyte destination
    # does (PyAirbyte does not), in the tables there are (a plan without routing forms has none for them).
    schema = cache.schema_name
    listed = cache.run_sql_query(f"select table_name from information_schema.tables where table_schema = '{schema}'")
    tables = {row["table_name"] for row in listed}
    cache.execute_sql(
        [f'DELETE FROM {schema}."{name}" WHERE _ab_cdc_deleted_at IS NOT NULL' for name in TOMBSTONED if name in tables]
    )


def main() -> None:
    config = {
        "credentials": {"auth_type": "personal_access_token", "personal_access_token": os.environ["CALENDLY_TOKEN"]}
    }
    if os.environ.get("CALENDLY_API_URL"):
        config["api_url"] = os.environ["CALENDLY_API_URL"]
    source = ab.get_source("source-calendly", local_executable=CONNECTOR, config=config)
    source.check()
    sync(source)
    cache = ab.get_default_cache()
    for name in sorted(source.get_available_streams()):
        print(f"{name}: {len(cache[name])} rows")
    print(f"DuckDB file: {cache.db_path}")


if __name__ == "__main__":
    main()
