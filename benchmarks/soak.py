"""Soak: full syncs of the reference organization through a fault storm, one per seed. Prints figures.

The storm (issue #10's mix), per request: 20% 429, 10% 5xx (500 JSON, 502/503 proxy HTML pages), 5% connection
resets, 2% truncated JSON, 2% HTML pages behind a 200, 1% short bodies (the connection closes before the
announced Content-Length). Every run must exit 0 with every record of every stream, none twice. A clean
run (no faults) gives the wall time to compare with. No rate limit (the 429s are the storm's), ~5 ms latency,
everything on 127.0.0.1.

Usage:  .venv/bin/python benchmarks/soak.py [--seeds 1,2,3,4,5] [--no-clean]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calendly_sandbox import DatasetSpec, Faults, Sandbox  # noqa: E402
from integration_tests.harness import ALL_STREAMS, catalog, minimum_requests, without_nulls  # noqa: E402

LATENCY_MS = 5.0


def storm(seed: int) -> Faults:
    return Faults(
        latency_ms_median=LATENCY_MS,
        error_rate=0.30,
        error_weights={429: 20, 500: 4, 502: 3, 503: 3},
        reset_rate=0.05,
        truncated_json_rate=0.02,
        html_rate=0.02,
        truncated_rate=0.01,
        seed=seed,
    )


def sync(sandbox: Sandbox) -> dict[str, Any]:
    """A full read of all six streams in a fresh connector process: exit code, records per stream, wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        config, cat = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config.write_text(json.dumps({"personal_access_token": sandbox.tokens.admin, "api_url": sandbox.url}))
        cat.write_text(json.dumps(catalog(ALL_STREAMS, full_refresh=True)))
        out = Path(tmp) / "out.jsonl"
        started = time.monotonic()
        with out.open("wb") as stdout:
            done = subprocess.run(
                [sys.executable, "main.py", "read", "--config", str(config), "--catalog", str(cat)],
                stdout=stdout, stderr=subprocess.DEVNULL, cwd=REPO, timeout=3600, check=False,
            )  # fmt: skip
        wall = time.monotonic() - started
        records: dict[str, list[dict[str, Any]]] = {s: [] for s in ALL_STREAMS}
        errors = []
        for line in out.read_text().splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD":
                records[message["record"]["stream"]].append(message["record"]["data"])
            elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
                errors.append(message["trace"]["error"]["message"])
    return {"exit": done.returncode, "records": records, "wall": wall, "errors": errors}


def compare(sandbox: Sandbox, records: dict[str, list[dict[str, Any]]]) -> tuple[int, int, int]:
    """(records, lost, duplicates) against the sandbox's truth; a record that differs counts as lost."""
    truth, token = sandbox.truth, sandbox.tokens.admin
    expected: dict[str, dict[str, dict[str, Any]]] = {
        stream: {r["uri"]: without_nulls(r) for r in getattr(truth, stream)(token)}
        for stream in ("scheduled_events", "event_types", "organization_memberships", "routing_forms")
    }
    expected["event_invitees"] = {i["uri"]: {} for i in truth.event_invitees(token)}
    expected["routing_form_submissions"] = {s["uri"]: {} for s in truth.routing_form_submissions(token)}
    total = lost = duplicates = 0
    for stream, want in expected.items():
        got = records[stream]
        total += len(got)
        by_uri = {r["uri"]: r for r in got}
        duplicates += len(got) - len(by_uri)
        for uri, record in want.items():
            if uri not in by_uri or (record and by_uri[uri] != record):
                lost += 1
    return total, lost, duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--no-clean", action="store_true", help="skip the clean run")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"== Soak: reference organization, full sync of all six streams, latency ~{LATENCY_MS:g} ms, no rate limit")
    print("   storm per request: 20% 429, 10% 5xx, 5% resets, 2% truncated JSON, 2% HTML 200, 1% short bodies")
    kinds = ("429", "500", "502", "503", "reset", "truncated_json", "html", "truncated")
    header = f"{'run':<8} {'exit':>4} {'records':>7} {'lost':>4} {'dup':>4} {'requests':>8} {'minimum':>7} "
    header += f"{'wall s':>7}"
    print(header + "".join(f" {k:>8}" for k in kinds))
    with Sandbox(dataset=DatasetSpec.reference(), rate_limit_per_minute=None) as sandbox:
        minimum = minimum_requests(sandbox, sandbox.tokens.admin)
        runs = [("clean", Faults(latency_ms_median=LATENCY_MS, seed=0))] if not args.no_clean else []
        runs += [(f"seed {seed}", storm(seed)) for seed in seeds]
        for label, faults in runs:
            sandbox.set_faults(faults)
            sandbox.clear_request_log()
            result = sync(sandbox)
            total, lost, duplicates = compare(sandbox, result["records"])
            log = sandbox.request_log
            faulted = Counter(e.fault for e in log if e.fault)
            print(f"{label:<8} {result['exit']:>4} {total:>7} {lost:>4} {duplicates:>4} {len(log):>8} {minimum:>7} "
                  f"{result['wall']:>7.1f}" + "".join(f" {faulted.get(k, 0):>8}" for k in kinds)
                  + (f"  ERRORS: {result['errors'][:1]}" if result["errors"] else ""), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
