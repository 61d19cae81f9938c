"""The demo: a full read from the local sandbox, then changes in Calendly, then an incremental read.

Starts the sandbox (reference organization, Calendly's 500 requests/min limit lifted so it takes seconds), runs
`source-calendly read` as a separate process exactly as Airbyte would, and prints a summary per stream. Then it
changes the organization as its users would (a late booking for tomorrow, a cancellation of an upcoming event
already synced, a no-show on yesterday's meeting, a new routing form submission) and runs an incremental read
from the first read's final state: what came through, and the requests it took. Every Airbyte message goes to
demo-output/first-read.jsonl and demo-output/incremental-read.jsonl; config, catalog and the state after each
read (state-after-first-read.json, state-after-incremental-read.json) beside them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from calendly_sandbox import DatasetSpec, Sandbox  # noqa: E402
from calendly_sandbox.oauth import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI  # noqa: E402
from integration_tests.harness import catalog  # noqa: E402

SHOWN = 6  # records listed per stream after the incremental read


@dataclass
class Read:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    requests: int
    seconds: float

    def records(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in self.messages:
            if m["type"] == "RECORD":
                out[m["record"]["stream"]].append(m["record"]["data"])
        return out

    def states(self) -> dict[str, dict[str, Any]]:
        out = {}
        for m in self.messages:
            if m["type"] == "STATE":
                out[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]["stream"]["stream_state"]
        return out

    def state_file(self) -> list[dict[str, Any]]:
        """The final per-stream states, as the next read's --state file."""
        return [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
            for name, state in self.states().items()
        ]

    def logs(self, level: str) -> list[str]:
        return [m["log"]["message"] for m in self.messages if m["type"] == "LOG" and m["log"]["level"] == level]

    def errors(self) -> list[str]:
        return [
            m["trace"]["error"]["message"]
            for m in self.messages
            if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"
        ]


def read(sandbox: Sandbox, out: Path, name: str, state: Path | None = None) -> Read:
    """`main.py read` in its own process, as Airbyte runs a connector; stdout to `<name>.jsonl`."""
    command = [sys.executable, str(REPO / "main.py"), "read", "--config", str(out / "config.json"),
               "--catalog", str(out / "catalog.json")]  # fmt: skip
    if state is not None:
        command += ["--state", str(state)]
    sandbox.clear_request_log()
    started = time.monotonic()
    with (out / f"{name}.jsonl").open("w") as stdout:
        done = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=REPO, check=False)
    seconds = time.monotonic() - started
    lines = (out / f"{name}.jsonl").read_text().splitlines()
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    return Read(done.returncode, messages, done.stderr, len(sandbox.request_log), seconds)


def report(title: str, result: Read, streams: list[str], incremental: set[str], out: Path, name: str) -> bool:
    records = result.records()
    states = result.states()
    print(f"\n== {title}: {sum(len(v) for v in records.values())} records, {result.requests} requests, "
          f"{result.seconds:.1f} s, exit code {result.returncode}")  # fmt: skip
    print(f"{'stream':<34} {'records':>8}  state")
    for stream in streams:
        # Full-refresh streams have no state of ours (the CDK writes an internal marker, not worth showing).
        state = _brief(states.get(stream, {})) if stream in incremental else "(full refresh: read whole)"
        print(f"{stream:<34} {len(records.get(stream, [])):>8}  {state}")
    for line in result.logs("WARN"):
        print(f"WARNING: {line}")
    for line in result.errors():
        print(f"ERROR: {line}")
    print(f"Messages: {out / (name + '.jsonl')}")
    if result.returncode != 0:
        print(f"\nThe connector failed (exit code {result.returncode}). Its stderr:\n{result.stderr[-4000:]}")
        return False
    return True


def change_the_organization(sandbox: Sandbox) -> list[str]:
    """What a Calendly organization's users do between two syncs; returns a line per change."""
    admin = sandbox.tokens.admin
    now = sandbox.anchor
    events = sorted(sandbox.truth.scheduled_events(admin), key=lambda e: e["start_time"])
    upcoming = [e for e in events if e["status"] == "active" and _dt(e["start_time"]) > now + timedelta(days=2)]
    yesterday = [e for e in events if e["status"] == "active" and now - timedelta(days=2) < _dt(e["start_time"]) < now]
    done = []
    late = sandbox.book_event(now + timedelta(days=1))
    done.append(f"booked {late['event']['uri']} for tomorrow ({late['event']['start_time']}), earlier than "
                f"{len(upcoming)} upcoming events the first read already saw")  # fmt: skip
    canceled = sandbox.cancel_event(upcoming[-1]["uri"], reason="Host is out that week")
    done.append(f"canceled {canceled['event']['uri']} (starts {canceled['event']['start_time']})")
    attendee = next(i for e in yesterday for i in sandbox.truth.invitees(e["uri"]) if i["status"] == "active")
    sandbox.mark_no_show(attendee["uri"])
    done.append(f"marked invitee {attendee['uri']} of a recent meeting as a no-show")
    forms = sandbox.truth.routing_forms(admin)
    submission = sandbox.add_form_submission(forms[0]["uri"])
    done.append(f"a new submission {submission['submission']['uri']} of routing form {forms[0]['name']!r}")
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "demo-output")
    parser.add_argument("--token", choices=["admin", "member", "no_teams"], default="admin")
    parser.add_argument("--auth", choices=["pat", "oauth"], default="pat", help="personal access token or OAuth 2.0")
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=5.0,
        help="with --auth oauth: seconds an access token lives (Calendly: 7200)",
    )
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    configured = catalog()
    streams = [s["stream"]["name"] for s in configured["streams"]]
    incremental = {s["stream"]["name"] for s in configured["streams"] if s["sync_mode"] == "incremental"}

    lifetime = args.token_lifetime if args.auth == "oauth" else 7200
    with Sandbox(
        dataset=DatasetSpec.reference(), rate_limit_per_minute=None, access_token_lifetime_seconds=lifetime
    ) as sandbox:
        if args.auth == "oauth":
            config = authenticate_your_account(sandbox, args.token, lifetime)
        else:
            config = {"personal_access_token": getattr(sandbox.tokens, args.token), "api_url": sandbox.url}
        (out / "config.json").write_text(json.dumps(config, indent=2))
        (out / "catalog.json").write_text(json.dumps(configured, indent=2))
        print(f"Sandbox at {sandbox.url} (reference organization; token '{args.token}').")
        print(f"Config: {out / 'config.json'}\nCatalog: {out / 'catalog.json'} ({len(streams)} streams)")
        print("First read: everything...", flush=True)
        first = read(sandbox, out, "first-read")
        if not report("First read", first, streams, incremental, out, "first-read"):
            return first.returncode or 1
        save_rotated_config(first, out)
        first_state = out / "state-after-first-read.json"
        first_state.write_text(json.dumps(first.state_file(), indent=2))
        print(f"State after the first read: {first_state}")

        if args.token != "admin":
            return 0  # the changes below are made as the admin's organization
        time.sleep(1.1)  # the cursor is bounded by the read's start on Calendly's clock, in whole seconds
        print("\nMeanwhile, in Calendly:")
        for line in change_the_organization(sandbox):
            print(f"  - {line}")
        time.sleep(1.1)
        print(f"\nIncremental read from the first read's final state ({first_state})...", flush=True)
        second = read(sandbox, out, "incremental-read", first_state)
        if not report("Incremental read", second, streams, incremental, out, "incremental-read"):
            return second.returncode or 1
        save_rotated_config(second, out)
        counts = Counter({stream: len(rows) for stream, rows in second.records().items()})
        print("\nWhat came through:")
        for stream in sorted(incremental):
            rows = second.records().get(stream, [])
            for record in rows[:SHOWN]:
                print(f"  {stream:<26} {_describe(record)}")
            if len(rows) > SHOWN:
                print(f"  {stream:<26} ... and {len(rows) - SHOWN} more ({out / 'incremental-read.jsonl'})")
        print(f"({sum(counts[s] for s in incremental)} incremental records; full-refresh streams are read whole)")
        second_state = out / "state-after-incremental-read.json"
        second_state.write_text(json.dumps(second.state_file(), indent=2))
        print(f"State after the incremental read (the next read's --state): {second_state}")
    return 0


def authenticate_your_account(sandbox: Sandbox, user: str, lifetime: float) -> dict[str, Any]:
    """What Airbyte's "Authenticate your account" does: consent in Calendly, then the code for tokens."""
    print("Authenticate your account (OAuth 2.0):")
    consent = requests.get(
        f"{sandbox.url}/oauth/authorize",
        params={"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "demo",
                "sandbox_user": user},
        allow_redirects=False,
        timeout=10,
    )  # fmt: skip
    location = consent.headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    print(f"  1. consent at /oauth/authorize as the sandbox's {user}: redirected to {REDIRECT_URI}?code=…&state=demo")
    tokens = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    ).json()
    print(f"  2. code exchanged at /oauth/token: an access token for {tokens['expires_in']} s and a refresh token")
    print(f"     (the sandbox's access tokens live {lifetime:g} s here, so the reads below outlive several)")
    expiry = datetime.now(UTC) + timedelta(seconds=tokens["expires_in"])
    return {
        "credentials": {
            "auth_type": "oauth2.0",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
            "access_token": tokens["access_token"],
            "token_expiry_date": expiry.isoformat(),
        },
        "api_url": sandbox.url,
        "token_url": f"{sandbox.url}/oauth/token",
    }


def save_rotated_config(result: Read, out: Path) -> None:
    """As the platform does: the config of the read's last CONTROL message replaces the saved one."""
    configs = [m["control"]["connectorConfig"]["config"] for m in result.messages if m["type"] == "CONTROL"]
    if configs:
        (out / "config.json").write_text(json.dumps(configs[-1], indent=2))
        print(f"The connector got {len(configs)} new access token(s), each with a new single-use refresh token; "
              f"config.json now holds the last CONTROL message's config.")  # fmt: skip


def _describe(record: dict[str, Any]) -> str:
    bits = [record.get("uri", "")]
    for key in ("status", "start_time", "no_show", "submitted_at", "updated_at"):
        if record.get(key) not in (None, "", {}):
            bits.append(f"{key}={record[key] if key != 'no_show' else 'marked'}")
    return " ".join(str(b) for b in bits)


def _brief(state: dict[str, Any]) -> str:
    """A state in one line: its times as they are, its maps as counts (the full state is in state.json)."""
    parts = []
    for key, value in state.items():
        if key == "scope":
            continue
        parts.append(f"{key}: {len(value)} entries" if isinstance(value, dict) else f"{key}: {value}")
    return "; ".join(parts) or "{}"


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


if __name__ == "__main__":
    sys.exit(main())
