"""Runs in .venv-pyairbyte (PyAirbyte's own venv), started by integration_tests/test_pyairbyte.py.

PyAirbyte installs the connector from this repository as a user would (`pip_url`, into a venv of its own under
INSTALL_ROOT, its dependencies pinned by requirements.lock), syncs every stream with the README example's
`sync()` into the default DuckDB cache, and writes what the cache holds as JSON to OUT: the connector version
PyAirbyte found, and for each stream's table its column types and rows. The test compares them with the
sandbox's truth. Run it twice with the same cache and the second sync is incremental.

    sync_and_dump.py CONFIG_JSON INSTALL_ROOT OUT_JSON [CONFIGS_JSON]

With CONFIGS_JSON (an OAuth config), the source gets a `config_change_callback` that writes every config it
receives there (a JSON list, in order) and gives it to the source, whose later reads (each starts the connector
anew) then use the refresh token that still works.

The test sets AIRBYTE_CACHE_ROOT and AIRBYTE_LOGGING_ROOT to a temporary directory (and AIRBYTE_OFFLINE_MODE=1,
which the example sets too, before importing airbyte).
"""

from __future__ import annotations

import json
import runpy
import shlex
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = runpy.run_path(str(REPO / "examples" / "pyairbyte_example.py"))  # defines sync(); main() does not run

import airbyte as ab  # noqa: E402  (after the example: it sets the environment airbyte reads at import)


def plain(value: Any) -> Any:
    """A cached value as JSON: timestamps in ISO 8601 as DuckDB gave them (with or without an offset)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def dump(cache: Any, streams: list[str]) -> dict[str, Any]:
    schema = cache.schema_name
    columns = cache.run_sql_query(
        "select table_name, column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' order by table_name, ordinal_position"
    )
    tables: dict[str, Any] = {}
    for name in streams:
        types = {c["column_name"]: c["data_type"] for c in columns if c["table_name"] == name}
        rows = cache.run_sql_query(f'select * from {schema}."{name}"')
        tables[name] = {"columns": types, "rows": [{k: plain(v) for k, v in row.items()} for row in rows]}
    return tables


def main(config_path: str, install_root: str, out_path: str, configs_path: str | None = None) -> None:
    config = json.loads(Path(config_path).read_text())
    received: list[dict[str, Any]] = []

    def config_changed(new_config: dict[str, Any]) -> None:
        received.append(new_config)
        Path(str(configs_path)).write_text(json.dumps(received))
        source.set_config(new_config)  # PyAirbyte keeps the config it was given unless told

    source = ab.get_source(
        "source-calendly",
        config=config,
        pip_url=shlex.join([str(REPO), "-c", str(REPO / "requirements.lock")]),
        install_root=Path(install_root),
        config_change_callback=config_changed if configs_path else None,
    )
    EXAMPLE["sync"](source)
    streams = sorted(source.get_available_streams())
    out = {"version": source.connector_version, "tables": dump(ab.get_default_cache(), streams)}
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
