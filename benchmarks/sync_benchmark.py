"""Benchmarks of the connector against the sandbox: prints figures, asserts nothing.

1. Rate-limited syncs of the reference organization (2,000 events over two years plus three months ahead,
   ~1.3 invitees per event, 40 event types, 60 members, 5 routing forms x 200 submissions) at Calendly's
   500 requests/min with ~100 ms latency (lognormal spread): a full sync, then an incremental sync with no
   changes, each with concurrency 1 and with the default. For each: requests made, the minimum, wall time,
   the floor (minimum / rate) and the ratios. `--quick` scales the limit up and the latency down by 10.
2. Throughput with zero latency and no limit: records per second through the entrypoint, over the whole
   process and from the first record to the last; and the same for the CDK alone (`cdk_ceiling.py`: the
   same records, no HTTP, no connector code), the most any airbyte-cdk source can reach here.
3. Peak memory (RSS) of the connector process for full syncs of 10,000 and 100,000 events.

Usage:  .venv/bin/python benchmarks/sync_benchmark.py [--quick] [--only rate|throughput|memory]
The connector runs as its own process (`python main.py read ...`), the sandbox in this one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calendly_sandbox import DatasetSpec, Faults, Sandbox  # noqa: E402
from integration_tests.harness import ALL_STREAMS, catalog, minimum_requests  # noqa: E402
from source_calendly.config import DEFAULT_NUM_WORKERS  # noqa: E402

RATE = 500  # requests per minute, Calendly's paid-plan limit
LATENCY_MS = 100.0

# Runs the connector from a small, fresh process and reports its wall time and peak RSS. Linux carries the
# peak RSS of the process that spawns a child into the child's own figure, so spawning the connector from
# this benchmark (which holds sandboxes of 100,000 events) would report this process's memory, not its own.
SPAWN_AND_MEASURE = """
import json, os, sys, time
usage_file, argv = sys.argv[1], sys.argv[2:]
started = time.monotonic()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - started
with open(usage_file, "w") as out:
    json.dump({"wall": wall, "maxrss_kb": usage.ru_maxrss, "status": status}, out)
"""


def run_read(
    config: dict[str, Any],
    streams: tuple[str, ...] | list[str],
    state: list | None = None,
    program: list[str] | None = None,
) -> dict:
    """One `read` in a fresh process: wall time, peak RSS, records, final states.

    Also the steady rate: records between the first and the last record's `emitted_at`, which leaves out the
    process's start-up (importing the CDK) and shutdown. `program` replaces `main.py` (the CDK ceiling).
    """
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"{name}.json" for name in ("config", "catalog", "state")}
        paths["config"].write_text(json.dumps(config))
        paths["catalog"].write_text(json.dumps(catalog(streams)))
        argv = [sys.executable, *(program or [str(REPO / "main.py")]), "read", "--config", str(paths["config"]),
                "--catalog", str(paths["catalog"])]  # fmt: skip
        if state:
            paths["state"].write_text(json.dumps(state))
            argv += ["--state", str(paths["state"])]
        out_path, usage_path = Path(tmp) / "out.jsonl", Path(tmp) / "usage.json"
        with out_path.open("wb") as out:
            subprocess.run([sys.executable, "-c", SPAWN_AND_MEASURE, str(usage_path), *argv],
                           stdout=out, stderr=subprocess.DEVNULL, cwd=REPO, check=False)  # fmt: skip
        usage = json.loads(usage_path.read_text())
        wall, status = usage["wall"], usage["status"]
        records, states, errors = 0, {}, []
        first_ms = last_ms = 0
        sample = None
        with out_path.open("rb") as lines:
            for line in lines:
                if line.startswith(b'{"type":"RECORD"'):
                    records += 1
                    # The record's own data may hold anything; emitted_at is the envelope's last key.
                    last_ms = int(line[line.rindex(b'"emitted_at":') + 13 :].rstrip(b"}\n"))
                    if records == 1:
                        first_ms, sample = last_ms, json.loads(line)["record"]["data"]
                    continue
                message = json.loads(line)
                if message["type"] == "STATE":
                    stream = message["state"]["stream"]
                    states[stream["stream_descriptor"]["name"]] = stream["stream_state"]
                elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
                    errors.append(message["trace"]["error"]["message"])
    state_messages = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": s}} for n, s in states.items()
    ]
    streaming = (last_ms - first_ms) / 1000
    return {
        "wall": wall,
        "rss_mb": usage["maxrss_kb"] / 1024,
        "records": records,
        "steady_rate": records / streaming if streaming > 0 else float("nan"),
        "sample": sample,
        "state": state_messages,
        "states": states,
        "exit": os.waitstatus_to_exitcode(status),
        "errors": errors,
    }


def rate_limited(quick: bool, workers_list: list[int]) -> None:
    # Quick: Calendly's 500 requests per window, but a 6 s window instead of 60 s, and a tenth of the latency:
    # the budget still binds (the sync spans many windows), ten times faster.
    scale = 10 if quick else 1
    window = 60 / scale
    rate, latency = RATE * scale, LATENCY_MS / scale
    print(f"\n== Rate-limited syncs: reference organization, {rate} requests/min, latency ~{latency:g} ms "
          f"(lognormal){' [quick: 500 per 6 s window, latency /10]' if quick else ''}")  # fmt: skip
    header = f"{'sync':<12} {'workers':>7} {'requests':>8} {'minimum':>7} {'req ratio':>9} {'wall s':>7} "
    print(header + f"{'floor s':>7} {'ratio':>6} {'429s':>5}")
    faults = Faults(latency_ms_median=latency, latency_sigma=0.5, seed=1)
    with Sandbox(dataset=DatasetSpec.reference(), rate_limit_per_minute=RATE, rate_window_seconds=window,
                 faults=faults) as sandbox:  # fmt: skip
        token = sandbox.tokens.admin
        for workers in workers_list:
            config = {"personal_access_token": token, "api_url": sandbox.url, "num_workers": workers}
            previous = None
            for kind in ("full", "incremental"):
                sandbox.set_rate_limit(RATE, window)  # a fresh window for each measured sync
                sandbox.clear_request_log()
                result = run_read(config, ALL_STREAMS, previous["state"] if previous else None)
                made = len(sandbox.request_log)
                too_many = sum(1 for e in sandbox.request_log if e.status == 429)
                window_start = None
                if previous:
                    started = datetime.fromisoformat(previous["states"]["scheduled_events"]["last_sync_started_at"])
                    window_start = (started - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                minimum = minimum_requests(sandbox, token, window_start)
                floor = minimum / rate * 60
                print(f"{kind:<12} {workers:>7} {made:>8} {minimum:>7} {made / minimum:>9.3f} {result['wall']:>7.1f} "
                      f"{floor:>7.1f} {result['wall'] / floor:>6.2f} {too_many:>5}"
                      + (f"  ERRORS: {result['errors'][:1]}" if result["errors"] else ""))  # fmt: skip
                previous = result


def throughput() -> None:
    print("\n== Throughput: zero latency, no rate limit, through the entrypoint to stdout")
    print("   whole: records / process wall time (start-up, ~1 s of importing the CDK, included)")
    print("   steady: records / time from the first record to the last")
    print(f"{'case':<44} {'records':>8} {'wall s':>7} {'whole/s':>9} {'steady/s':>9} {'requests':>8}")

    def show(label: str, result: dict, requests: int | str) -> None:
        print(f"{label:<44} {result['records']:>8} {result['wall']:>7.2f} {result['records'] / result['wall']:>9,.0f} "
              f"{result['steady_rate']:>9,.0f} {requests:>8}"
              + (f"  ERRORS: {result['errors'][:1]}" if result["errors"] else ""))  # fmt: skip

    cases = [
        ("reference org, all six streams", DatasetSpec.reference(), ALL_STREAMS),
        ("100,000 events, scheduled_events", DatasetSpec.large(events=100_000), ("scheduled_events",)),
    ]
    sample = None
    for label, spec, streams in cases:
        with Sandbox(dataset=spec, rate_limit_per_minute=None) as sandbox:
            gc.freeze()
            config = {"personal_access_token": sandbox.tokens.admin, "api_url": sandbox.url}
            result = run_read(config, streams)
            show(label, result, len(sandbox.request_log))
            sample = result["sample"] if streams == ("scheduled_events",) else sample
        gc.unfreeze()
    # The same records through the CDK alone: no HTTP, no connector code (benchmarks/cdk_ceiling.py).
    with tempfile.TemporaryDirectory() as tmp:
        record_file = Path(tmp) / "record.json"
        record_file.write_text(json.dumps(sample))
        program = [str(REPO / "benchmarks" / "cdk_ceiling.py"), "100000", str(record_file)]
        show("CDK ceiling: 100,000 records, no HTTP", run_read({}, ("scheduled_events",), program=program), "-")


def memory() -> None:
    print("\n== Peak memory of the connector process, full sync of all six streams, zero latency")
    for events in (10_000, 100_000):
        # The sandbox runs in its own process here: a child forked from a process holding it would count
        # the parent's pages in its peak RSS before exec.
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "calendly_sandbox", "serve", "--profile", "large", "--events", str(events),
             "--rate-limit", "0"],
            stdout=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            assert sandbox.stdout is not None
            info = json.loads(sandbox.stdout.readline())
            config = {"personal_access_token": info["tokens"]["admin"], "api_url": info["url"]}
            result = run_read(config, ALL_STREAMS)
            print(f"{events:>7,} events: {result['records']:>8,} records in {result['wall']:>6.1f} s, "
                  f"peak RSS {result['rss_mb']:.0f} MB, exit {result['exit']}")  # fmt: skip
        finally:
            sandbox.terminate()
            sandbox.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="window and latency /10: about a minute")
    parser.add_argument("--only", choices=["rate", "throughput", "memory"])
    parser.add_argument(
        "--workers", default=f"1,{DEFAULT_NUM_WORKERS}", help="concurrency levels for the rate-limited syncs"
    )
    args = parser.parse_args()
    if args.only in (None, "rate"):
        rate_limited(args.quick, [int(w) for w in args.workers.split(",")])
    if args.only in (None, "throughput"):
        throughput()
    if args.only in (None, "memory"):
        memory()


if __name__ == "__main__":
    main()
