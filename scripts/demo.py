"""The demo: a full read of all six streams from the local sandbox, through the real entrypoint.

Starts the sandbox (reference organization, Calendly's 500 requests/min limit lifted so it takes seconds),
runs `source-calendly read` as a separate process exactly as Airbyte would, writes every Airbyte message
to demo-output/messages.jsonl, prints a summary per stream, and stops the sandbox.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calendly_sandbox import DatasetSpec, Sandbox  # noqa: E402
from integration_tests.harness import catalog  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "demo-output")
    parser.add_argument("--token", choices=["admin", "member", "no_teams"], default="admin")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with Sandbox(dataset=DatasetSpec.reference(), rate_limit_per_minute=None) as sandbox:
        config = {"personal_access_token": getattr(sandbox.tokens, args.token), "api_url": sandbox.url}
        (args.out / "config.json").write_text(json.dumps(config, indent=2))
        (args.out / "catalog.json").write_text(json.dumps(catalog(), indent=2))
        print(f"Sandbox at {sandbox.url} (reference organization); reading all six streams...", flush=True)
        started = time.monotonic()
        with (args.out / "messages.jsonl").open("w") as out:
            done = subprocess.run(
                [sys.executable, str(REPO / "main.py"), "read", "--config", str(args.out / "config.json"),
                 "--catalog", str(args.out / "catalog.json")],
                stdout=out, stderr=subprocess.PIPE, text=True, cwd=REPO, check=False,
            )  # fmt: skip
        elapsed = time.monotonic() - started
        requests = len(sandbox.request_log)

    messages = [json.loads(line) for line in (args.out / "messages.jsonl").read_text().splitlines() if line]
    counts = Counter(m["record"]["stream"] for m in messages if m["type"] == "RECORD")
    states = {}
    for m in messages:
        if m["type"] == "STATE":
            states[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]["stream"]["stream_state"]
    warnings = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    errors = [
        m["trace"]["error"]["message"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"
    ]

    print(f"\n{'stream':<26} {'records':>8}  final state")
    for stream in ("scheduled_events", "event_invitees", "event_types", "organization_memberships",
                   "routing_forms", "routing_form_submissions"):  # fmt: skip
        print(f"{stream:<26} {counts.get(stream, 0):>8}  {json.dumps(states.get(stream, {}))}")
    print(f"\n{sum(counts.values())} records, {requests} requests, {elapsed:.1f} s; exit code {done.returncode}")
    for line in warnings:
        print(f"WARNING: {line}")
    for line in errors:
        print(f"ERROR: {line}")
    print(f"Messages: {args.out / 'messages.jsonl'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
