"""Benchmarks of the connector against the sandbox: prints figures, asserts nothing.

1. Rate-limited syncs, every stream selected, of the reference organization (2,000 events over two years plus
   three months ahead, ~1.3 invitees per event, 40 event types, 60 members, 5 routing forms x 200 submissions,
   and the optional streams' groups, availability, activity log, contacts, webhook subscriptions of all three
   scopes: one listing per member and per group, counted in `minimum_requests`, ...) at Calendly's
   500 requests/min with ~100 ms latency (lognormal spread): a full sync, then an incremental sync with no
   changes, each with concurrency 1 and with the default. For each: requests made, the minimum, wall time,
   the floor (minimum / rate) and the ratios. `--quick` scales the limit up and the latency down by 10.
2. Throughput with zero latency and no limit: records per second through the entrypoint, over the whole
   process and from the first record to the last; and the same for the CDK alone (`cdk_ceiling.py`: the
   same records, no HTTP, no connector code), the most any airbyte-cdk source can reach here.
3. Peak memory (RSS) of the connector process for full syncs of 10,000 and 100,000 events.
4. Incremental cost on a large organization (20,000 events, 200 members, 150 event types), every default stream: the
   full sync (requests and their minimum), then a sync with nothing changed and one after an hour of changes
   (requests, records, wall time at 500/min measured with ~100 ms latency, at 500/min and 50/min as the rate
   floor), the state's size; for the sync with nothing changed, requests and records per stream, with the six
   core streams and the 13 optional ones apart, and the six core streams synced alone; and how many syncs the
   history walk needs to emit a no-show marked on a 60-day-old meeting with the default budget.
5. The Free plan: the reference organization's full sync at 50 requests per window (a 6 s window: the
   same budget per request as 50/min, ten times faster).

Usage:  .venv/bin/python benchmarks/sync_benchmark.py [--quick] [--only rate|throughput|memory|incremental|free]
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
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from calendly_sandbox import DatasetSpec, Faults, Sandbox  # noqa: E402
from integration_tests.harness import (  # noqa: E402
    ALL_STREAMS,
    CORE_STREAMS,
    INCREMENTAL,
    OPTIONAL_STREAMS,
    TRACKED_STREAMS,
    catalog,
    history_walk_requests,
    minimum_requests,
)
from source_calendly.config import DEFAULT_HISTORY_REQUESTS, DEFAULT_NUM_WORKERS  # noqa: E402

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
    uris_of: str | None = None,
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
        counts: dict[str, int] = {}
        uris: set[str] = set()
        first_ms = last_ms = 0
        sample = None
        with out_path.open("rb") as lines:
            for line in lines:
                if line.startswith(b'{"type":"RECORD"'):
                    records += 1
                    at = line.index(b'"stream":"') + 10
                    stream = line[at : line.index(b'"', at)].decode()
                    counts[stream] = counts.get(stream, 0) + 1
                    if stream == uris_of:
                        uris.add(json.loads(line)["record"]["data"]["uri"])
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
        "counts": counts,
        "uris": uris,
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
                minimum = minimum_for(sandbox, token, previous, result)
                floor = minimum / rate * 60
                print(f"{kind:<12} {workers:>7} {made:>8} {minimum:>7} {made / minimum:>9.3f} {result['wall']:>7.1f} "
                      f"{floor:>7.1f} {result['wall'] / floor:>6.2f} {too_many:>5}"
                      + (f"  ERRORS: {result['errors'][:1]}" if result["errors"] else ""))  # fmt: skip
                previous = result


def minimum_for(sandbox: Sandbox, token: str, previous: dict | None, result: dict) -> int:
    """The fewest requests of a sync: all of it after no state; after a state with nothing changed, the window
    with invitees of the events started since its start, plus what the history walk's first step must read
    (a deliberate budget, not waste)."""
    if previous is None:
        return minimum_requests(sandbox, token)
    started = datetime.fromisoformat(previous["states"]["scheduled_events"]["last_sync_started_at"])
    window_start = (started - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    began = datetime.fromisoformat(result["states"]["event_invitees"]["last_sync_started_at"])

    def started_by(event: dict) -> bool:
        return datetime.fromisoformat(event["start_time"]) <= began

    walk = history_walk_requests(sandbox, token, window_start, DEFAULT_HISTORY_REQUESTS)
    sync_started = result["states"]["event_invitees"]["last_sync_started_at"]
    return (
        minimum_requests(sandbox, token, window_start, started_by, states=previous["states"], sync_started=sync_started)
        + walk
    )


def state_bytes(states: dict, streams: tuple[str, ...] = INCREMENTAL) -> int:
    return sum(len(json.dumps(states[name], separators=(",", ":"))) for name in streams if name in states)


# The stream each endpoint's requests are counted under. A listing read once for several streams counts under its
# own stream: event_types also feeds the two event type substreams, organization_memberships users and
# user_availability_schedules, scheduled_events event_invitees, routing_forms routing_form_submissions.
ENDPOINT_STREAMS = {
    "/users/me": "(account)",
    "/scheduled_events/{uuid}/invitees": "event_invitees",
    "/organizations/{uuid}": "organization",
    "/organizations/{uuid}/invitations": "organization_invitations",
    "/meeting_recaps/{uuid}": "meeting_recaps",  # a deletion confirmed (404)
    "/meeting_recaps/{uuid}/transcript": "meeting_recap_transcripts",
    "/contacts/custom_field_definitions": "contact_custom_field_definitions",
    "/contacts/{uuid}": "contacts",  # a deletion confirmed (404)
}


def requests_by_stream(log: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in log:
        stream = ENDPOINT_STREAMS.get(entry.endpoint, entry.endpoint.strip("/"))
        if stream == "organization_memberships" and "user" in entry.query:
            stream = "(account)"  # the token's own membership: its role
        if stream == "contacts" and "contact_list" in entry.query:
            stream = "contact_list_memberships"  # one List's contacts
        counts[stream] = counts.get(stream, 0) + 1
    return counts


def cost_table(label: str, log: list, counts: dict[str, int], selected: tuple[str, ...]) -> None:
    """Requests and records per selected stream of one sync: the six core streams, then the optional ones."""
    by_stream = requests_by_stream(log)
    print(f"  {label}: requests and records per stream (a shared listing counts under its own stream)")
    print(f"  {'stream':<36} {'requests':>8} {'records':>8}")
    groups = (("six core streams", CORE_STREAMS), (f"{len(OPTIONAL_STREAMS)} optional streams", OPTIONAL_STREAMS))
    for title, streams in groups:
        if not set(streams) & set(selected):
            continue
        for name in streams:
            print(f"  {name:<36} {by_stream.get(name, 0):>8} {counts.get(name, 0):>8}")
        print(f"  {'= ' + title:<36} {sum(by_stream.get(n, 0) for n in streams):>8} "
              f"{sum(counts.get(n, 0) for n in streams):>8}")  # fmt: skip
    print(f"  {'(account: /users/me and own role)':<36} {by_stream.get('(account)', 0):>8}")
    print(f"  {'= the sync':<36} {len(log):>8} {sum(counts.values()):>8}")


def an_hour_of_changes(sandbox: Sandbox) -> str:
    """What an organization of 20,000 events (about 25 bookings a day) might see in a busy hour."""
    admin = sandbox.tokens.admin
    anchor = sandbox.anchor
    events = sandbox.truth.scheduled_events(admin)
    upcoming = [e for e in events if e["status"] == "active" and anchor < datetime.fromisoformat(e["start_time"])]
    solo = [e for e in upcoming if e["invitees_counter"]["limit"] == 1]
    groups = [e for e in upcoming if e["invitees_counter"]["active"] < e["invitees_counter"]["limit"] > 1]
    for days in (1, 3, 8, 20, 45):
        sandbox.book_event(anchor + timedelta(days=days, hours=2))
    for event in solo[10:12]:
        sandbox.cancel_event(event["uri"])
    sandbox.reschedule(sandbox.truth.invitees(solo[20]["uri"])[0]["uri"], anchor + timedelta(days=12))
    sandbox.join_group_event(groups[5]["uri"])
    active = [i for i in sandbox.truth.invitees(groups[6]["uri"]) if i["status"] == "active"]
    sandbox.cancel_invitee(active[-1]["uri"])
    today = [e for e in events if e["status"] == "active"
             and anchor - timedelta(hours=8) < datetime.fromisoformat(e["end_time"]) < anchor]  # fmt: skip
    attending = [i for e in today for i in sandbox.truth.invitees(e["uri"]) if i["status"] == "active"]
    no_shows = [i for i in attending if i.get("no_show") is None][:3]
    for invitee in no_shows:
        sandbox.mark_no_show(invitee["uri"])
    sandbox.add_form_submission(sandbox.truth.routing_forms(admin)[0]["uri"])
    return (f"5 bookings, 2 cancellations, 1 reschedule, 1 group invitee booked, 1 cancelled, {len(no_shows)} "
            "no-shows, 1 submission")  # fmt: skip


def incremental_cost(events: int = 20_000) -> None:
    print(f"\n== Incremental syncs of a large organization ({events:,} events over two years plus three months "
          f"ahead, 200 members, 150 event types), all {len(ALL_STREAMS)} streams, default config")  # fmt: skip
    with Sandbox(dataset=DatasetSpec.large(events=events), rate_limit_per_minute=None) as sandbox:
        gc.freeze()
        token = sandbox.tokens.admin
        config = {"personal_access_token": token, "api_url": sandbox.url}
        full = run_read(config, ALL_STREAMS)
        print(f"full sync, all {len(ALL_STREAMS)} streams: {len(sandbox.request_log):,} requests (minimum "
              f"{minimum_requests(sandbox, token):,}), {full['records']:,} records, state "
              f"{state_bytes(full['states']):,} bytes (incremental streams), of which "
              f"{state_bytes(full['states'], TRACKED_STREAMS):,} for the four per-parent streams"
              f"{errors_of(full)}")  # fmt: skip
        heading = f"incremental sync, all {len(ALL_STREAMS)} streams"
        print(f"{heading:<34} {'requests':>8} {'minimum':>7} {'invitee':>7} "
              f"{'records':>7} {'state B':>7} {'wall s @500/min':>15} {'floor s @500':>12} "
              f"{'floor s @50':>11}")  # fmt: skip
        previous = full
        for label in ("nothing changed", "after an hour of changes"):
            if label != "nothing changed":
                print(f"  (changes: {an_hour_of_changes(sandbox)})")
            time.sleep(1.1)  # Calendly's clock has whole seconds: keep the syncs apart
            sandbox.clear_request_log()
            sandbox.set_rate_limit(RATE, 60)
            sandbox.set_faults(Faults(latency_ms_median=LATENCY_MS, latency_sigma=0.5, seed=3))
            result = run_read(config, ALL_STREAMS, previous["state"])
            sandbox.set_faults(Faults())
            sandbox.set_rate_limit(None)
            log = sandbox.request_log
            made = len(log)
            minimum = str(minimum_for(sandbox, token, previous, result)) if label == "nothing changed" else "-"
            invitee = sum(1 for e in log if e.path.endswith("/invitees"))
            incremental_records = sum(result["counts"].get(name, 0) for name in INCREMENTAL)
            size = state_bytes(result["states"])
            print(f"{label:<34} {made:>8} {minimum:>7} {invitee:>7} {incremental_records:>7} {size:>7} "
                  f"{result['wall']:>15.1f} {made / RATE * 60:>12.1f} {made / 50 * 60:>11.1f}"
                  f"{errors_of(result)}")  # fmt: skip
            if label == "nothing changed":
                cost_table(f"{label}, all {len(ALL_STREAMS)} streams", log, result["counts"], ALL_STREAMS)
                # The six core streams alone, from the same state (what the sync costs without the optional ones).
                time.sleep(1.1)
                sandbox.clear_request_log()
                core_state = [m for m in previous["state"]
                              if m["stream"]["stream_descriptor"]["name"] in CORE_STREAMS]  # fmt: skip
                core = run_read(config, CORE_STREAMS, core_state)
                cost_table(f"{label}, the six core streams alone", sandbox.request_log, core["counts"], CORE_STREAMS)
            previous = result
        # A no-show marked on a meeting of 60 days ago: how many syncs until the history walk emits it.
        anchor = sandbox.anchor
        since = anchor - timedelta(days=60)
        old = next(e for e in sandbox.truth.scheduled_events(token)
                   if e["status"] == "active" and datetime.fromisoformat(e["start_time"]) > since)  # fmt: skip
        invitee_uri = next(i["uri"] for i in sandbox.truth.invitees(old["uri"])
                           if i["status"] == "active" and i.get("no_show") is None)  # fmt: skip
        sandbox.mark_no_show(invitee_uri)
        state = [m for m in previous["state"] if m["stream"]["stream_descriptor"]["name"] == "event_invitees"]
        for number in range(1, 400):
            time.sleep(1.1)
            result = run_read(config, ["event_invitees"], state, uris_of="event_invitees")
            if invitee_uri in result["uris"]:
                print(f"no-show marked on a meeting 60 days ago: emitted by incremental sync {number} "
                      f"(default history budget {DEFAULT_HISTORY_REQUESTS} requests per sync)")  # fmt: skip
                break
            state = result["state"]
        else:
            print("no-show marked on a meeting 60 days ago: NOT emitted within 400 syncs")
    gc.unfreeze()


def free_plan(workers: int = DEFAULT_NUM_WORKERS) -> None:
    window, rate = 6.0, 50
    print(f"\n== Free plan: reference organization, full sync, {rate} requests per {window:g} s window "
          "(the budget per request of 50/min, ten times faster), latency ~10 ms")  # fmt: skip
    faults = Faults(latency_ms_median=LATENCY_MS / 10, latency_sigma=0.5, seed=1)
    with Sandbox(dataset=DatasetSpec.reference(), rate_limit_per_minute=rate, rate_window_seconds=window,
                 faults=faults) as sandbox:  # fmt: skip
        token = sandbox.tokens.admin
        config = {"personal_access_token": token, "api_url": sandbox.url, "num_workers": workers}
        result = run_read(config, ALL_STREAMS)
        made = len(sandbox.request_log)
        too_many = sum(1 for e in sandbox.request_log if e.status == 429)
        minimum = minimum_requests(sandbox, token)
        floor = minimum / rate * window
        print(f"requests {made}, minimum {minimum}, ratio {made / minimum:.3f}; wall {result['wall']:.1f} s, floor "
              f"{floor:.1f} s, ratio {result['wall'] / floor:.2f}; 429s {too_many}{errors_of(result)}")  # fmt: skip


def errors_of(result: dict) -> str:
    return f"  ERRORS: {result['errors'][:1]}" if result["errors"] else ""


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
        (f"reference org, all {len(ALL_STREAMS)} streams", DatasetSpec.reference(), ALL_STREAMS),
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
    print(f"\n== Peak memory of the connector process, full sync of all {len(ALL_STREAMS)} streams, zero latency")
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
    parser.add_argument("--only", choices=["rate", "throughput", "memory", "incremental", "free"])
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
    if args.only in (None, "incremental"):
        incremental_cost()
    if args.only in (None, "free"):
        free_plan()


if __name__ == "__main__":
    main()
