"""Run the real connector as a separate process and read its Airbyte protocol messages."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from calendly_sandbox import Sandbox
from source_calendly.bounds import MARGIN

REPO = Path(__file__).resolve().parents[1]
RECAP_STATUSES = ("processing", "available", "unavailable")  # the listings meeting_recaps reads every sync
CORE_STREAMS = (
    "scheduled_events",
    "event_invitees",
    "event_types",
    "organization_memberships",
    "routing_forms",
    "routing_form_submissions",
)
OPTIONAL_STREAMS = (
    "organization",
    "users",
    "groups",
    "group_relationships",
    "organization_invitations",
    "event_type_memberships",
    "user_availability_schedules",
    "event_type_availability_schedules",
    "activity_log_entries",
    "contacts",
    "outgoing_communications",
    "webhook_subscriptions",
    "teams",
    "meeting_recaps",
    "locations",
    "contact_custom_field_definitions",
    "contact_lists",
    "contact_list_memberships",
)
# Opt-in streams (a config switch adds them to discover): not in ALL_STREAMS. Stream -> switch.
OPT_IN_STREAMS = {
    "meeting_recap_transcripts": "include_meeting_recap_transcripts",
    "contact_notes": "sync_contact_notes",
}
ALL_STREAMS = CORE_STREAMS + OPTIONAL_STREAMS
CURSOR_STREAMS = {
    "activity_log_entries": "occurred_at",
    "contacts": "updated_at",
    "outgoing_communications": "created_at",
}
# Per-parent streams read incrementally (source_calendly/streams/tracked.py): parent stream, parent listing size.
TRACKED_STREAMS = (
    "event_type_memberships",
    "user_availability_schedules",
    "event_type_availability_schedules",
    "webhook_subscriptions",
    "locations",
    "meeting_recap_transcripts",
)
# Listings read whole every sync and emitted by difference (source_calendly/streams/diffed.py).
DIFFED_STREAMS = ("meeting_recaps",)
INCREMENTAL = (
    *DIFFED_STREAMS,
    "scheduled_events",
    "event_invitees",
    "routing_form_submissions",
    *CURSOR_STREAMS,
    *TRACKED_STREAMS,
)
CONNECTOR_FIELDS = ("_ab_cdc_updated_at",)  # set by the connector, not served by Calendly


@dataclass
class Run:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    stdout: str = field(repr=False)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"]["data"] for m in self.of("RECORD") if m["record"]["stream"] == stream]

    def uris(self, stream: str) -> list[str]:
        return [r["uri"] for r in self.records(stream)]

    def states(self) -> dict[str, dict[str, Any]]:
        """The last state per stream: what the next sync gets."""
        out: dict[str, dict[str, Any]] = {}
        for message in self.of("STATE"):
            stream = message["state"]["stream"]
            out[stream["stream_descriptor"]["name"]] = stream["stream_state"]
        return out

    def state_messages(self) -> list[dict[str, Any]]:
        """The final per-stream states as a --state file's content."""
        return [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
            for name, state in self.states().items()
        ]

    def logs(self, level: str | None = None) -> list[str]:
        return [m["log"]["message"] for m in self.of("LOG") if level is None or m["log"]["level"] == level]

    def warnings(self) -> list[str]:
        return self.logs("WARN")

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of("TRACE") if m["trace"]["type"] == "ERROR"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for message in self.of("RECORD"):
            out[message["record"]["stream"]] += 1
        return dict(out)


def catalog(
    streams: Sequence[str] = ALL_STREAMS, full_refresh: bool = False, opt_in: Sequence[str] = ()
) -> dict[str, Any]:
    """A configured catalog built from the connector's own discover output, as Airbyte would; `opt_in` names
    the opt-in switches (spec booleans, e.g. include_meeting_recap_transcripts) discover runs with."""
    discovered = {s["name"]: s for s in discover_catalog(opt_in)["streams"]}
    configured = []
    for name in streams:
        stream = discovered[name]
        incremental = name in INCREMENTAL and not full_refresh
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": stream["default_cursor_field"] if incremental else [],
                "primary_key": stream["source_defined_primary_key"],
            }
        )
    return {"streams": configured}


_DISCOVERED: dict[tuple[str, ...], dict[str, Any]] = {}


def discover_catalog(opt_in: Sequence[str] = ()) -> dict[str, Any]:
    switches = tuple(sorted(opt_in))
    if switches not in _DISCOVERED:
        run = run_connector("discover", {"personal_access_token": "unused", **dict.fromkeys(switches, True)})
        _DISCOVERED[switches] = run.of("CATALOG")[0]["catalog"]
    return _DISCOVERED[switches]


def run_connector(
    command: str,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any] | None = None,
    state: Sequence[Mapping[str, Any]] | None = None,
    timeout: float = 300,
    argv: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
) -> Run:
    """`python main.py <command> --config … [--catalog …] [--state …]` in a fresh process, run to its end."""
    with tempfile.TemporaryDirectory() as tmp, _against_sandbox(config):
        args = _connector_args(Path(tmp), command, config, catalog, state, argv, extra_args)
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=_env(), check=False)
    messages = []
    for line in done.stdout.splitlines():
        line = line.strip()
        if line:
            messages.append(json.loads(line))  # every stdout line must be an Airbyte message
    return Run(done.returncode, messages, done.stderr, done.stdout)


@contextmanager
def connector_process(
    command: str,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any] | None = None,
    state: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """The connector started as `run_connector` starts it, for a test that reads its stdout as it comes (and
    may kill it). On leaving, the process is killed if it still runs and waited for, and the sandbox is idle."""
    with tempfile.TemporaryDirectory() as tmp, _against_sandbox(config):
        args = _connector_args(Path(tmp), command, config, catalog, state, None, ())
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, env=_env()
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            assert process.stdout is not None
            process.stdout.close()


@contextmanager
def _against_sandbox(config: Mapping[str, Any]) -> Iterator[None]:
    """Every connector process starts and ends here, so no test can meet these two races:
    - a sync starting in the second of the sandbox's last change: the sync's start is the sandbox's `Date`
      header (whole seconds) and its cursor never passes it, so a record changed in that second would come
      back, harmlessly but unexpectedly, in the next sync. The start waits until that second is over (at
      most a second, and only just after a change).
    - requests counted too early: a connector killed, or giving up, can leave requests the sandbox is still
      answering, and logging. After the process ends, this waits until the sandbox has answered them all."""
    url = config.get("api_url") if isinstance(config, Mapping) else None
    sandbox = Sandbox.serving(url) if isinstance(url, str) else None
    if sandbox is not None:
        sandbox.wait_past_last_change()
    yield
    if sandbox is not None:
        sandbox.wait_idle()


def _connector_args(
    tmp: Path,
    command: str,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any] | None,
    state: Sequence[Mapping[str, Any]] | None,
    argv: Sequence[str] | None,
    extra_args: Sequence[str],
) -> list[str]:
    """The command line, with the config, catalog and state written to files in `tmp`."""
    args = list(argv) if argv is not None else [sys.executable, str(REPO / "main.py")]
    args.append(command)
    if command != "spec":
        (tmp / "config.json").write_text(json.dumps(config))
        args += ["--config", str(tmp / "config.json")]
    if catalog is not None:
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp / "catalog.json")]
    if state is not None:
        (tmp / "state.json").write_text(json.dumps(list(state)))
        args += ["--state", str(tmp / "state.json")]
    return args + list(extra_args)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def without_nulls(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as Calendly serves it: the CDK drops top-level keys whose value is null (airbyte-cdk's record
    transformation), and the fields the connector adds itself are left out."""
    return {k: v for k, v in record.items() if v is not None and k not in CONNECTOR_FIELDS}


def as_emitted(stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record of the sandbox's truth with the top-level fields the connector adds (what it emits, nulls kept):
    an invitee's event_uri, an event type schedule's availability_rule_uri (half of its flat primary key)."""
    out = dict(record)
    if stream == "event_invitees":
        out.setdefault("event_uri", out.get("event"))
    if stream == "event_type_availability_schedules":
        rule = out.get("availability_rule")
        out.setdefault("availability_rule_uri", rule.get("uri") if isinstance(rule, Mapping) else None)
    return out


# The fields an outgoing communication's key is derived from (the schema's description of communication_key).
COMMUNICATION_FIELDS = (
    "type", "to", "from", "subject", "body", "sender_uri", "sender_email", "event_type_uri", "event_uri",
    "scheduling_url", "sent_at", "created_at",
)  # fmt: skip


def as_emitted_all(stream: str, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`as_emitted` for a whole listing: outgoing communications also get the communication_key the schema
    describes (the SHA-256 of the documented fields as compact JSON with sorted keys, `-n` for the n-th identical
    copy), computed here on its own rather than by the connector's code."""
    out = [as_emitted(stream, r) for r in records]
    if stream != "outgoing_communications":
        return out
    copies: Counter[str] = Counter()
    for record in out:
        fields = {name: record.get(name) for name in COMMUNICATION_FIELDS}
        content = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.sha256(content).hexdigest()
        copies[digest] += 1
        record.setdefault("communication_key", digest if copies[digest] == 1 else f"{digest}-{copies[digest]}")
    return out


def pages(n: int, size: int = 100) -> int:
    """Requests to list n records at count=size (an empty list still takes one)."""
    return max(1, -(-n // size))


def minimum_requests(
    sandbox: Any,
    token: str,
    window_start: str | None = None,
    visits: Callable[[dict], bool] | None = None,
    streams: Sequence[str] = ALL_STREAMS,
    states: Mapping[str, Mapping[str, Any]] | None = None,
    sync_started: str | None = None,
    history_requests: int = 200,
) -> int:
    """The fewest requests any client needs for `streams` (every stream unless told): /users/me for the
    organization, each listing read once at count=100 (the event types and memberships once for every stream
    that needs them), one invitee list per event in the window that `visits` accepts (default: all), per form
    its submissions in the window (at least one page per form), one list per event type and per member (and
    per member and per group for webhook subscriptions), and
    one request for a stream Calendly refuses. Full sync: window_start and states None; `states` gives the
    cursors of the optional incremental streams, and for a tracked per-parent stream (one with state) only the
    parents its rotation re-reads with `history_requests`, nothing having changed. The connector's one extra
    request, its own membership for the role, is not counted here. With `sync_started` (when this sync began:
    event_invitees' new last_sync_started_at), an incremental sync that reads event_invitees before contacts also
    looks up, by email, the contacts of the meetings that started since the previous sync (none changed: nothing
    else is looked up; source_calendly/meetings.py)."""
    optional = [name for name in streams if name in OPTIONAL_STREAMS or name in OPT_IN_STREAMS]
    states = states or {}
    return (
        1
        + _core_minimum(sandbox, token, window_start, streams, visits)
        + sum(
            _optional_minimum(sandbox.truth, token, name, states.get(name), history_requests, streams)
            for name in optional
        )
        + _contact_lookups(sandbox.truth, token, streams, states, sync_started)
    )


def _contact_lookups(
    truth: Any, token: str, streams: Sequence[str], states: Mapping[str, Mapping[str, Any]], sync_started: str | None
) -> int:
    """Requests of contacts' lookup by email after a sync in which nothing changed: 50 emails a request."""
    previous = states.get("event_invitees", {}).get("last_sync_started_at")
    if sync_started is None or previous is None or "contacts" not in streams or "event_invitees" not in streams:
        return 0
    if streams.index("event_invitees") > streams.index("contacts") or not states.get("contacts"):
        return 0
    try:
        truth.records("contacts", token)
    except PermissionError:
        return 0
    emails = {
        i["email"].lower()
        for e in truth.scheduled_events(token)
        if _utc(previous) <= _utc(e["start_time"]) <= _utc(sync_started)
        for i in truth.invitees(e["uri"])
    }
    return -(-len(emails) // 50)


def _core_minimum(
    sandbox: Any,
    token: str,
    window_start: str | None,
    streams: Sequence[str],
    visits: Callable[[dict], bool] | None = None,
) -> int:
    truth = sandbox.truth
    selected = set(streams)
    # The window is listed from a margin before its start (source_calendly.bounds), so whichever way Calendly reads
    # min_start_time its first instant is included; the events in the margin cost listing space, no invitee request.
    listed_from = None if window_start is None else _before(window_start)
    events = [e for e in truth.scheduled_events(token) if listed_from is None or _utc(e["start_time"]) >= listed_from]
    in_window = [e for e in events if window_start is None or e["start_time"] >= window_start]
    visited = [e for e in in_window if visits is None or visits(e)]
    forms = truth.routing_forms(token)
    submissions = 0
    for form in forms:
        rows = truth.routing_form_submissions(token, form_uri=form["uri"])
        in_window = [s for s in rows if window_start is None or s["created_at"] >= window_start]
        # Read newest first, a form needs one page past the window's edge only when the edge falls on a page end.
        submissions += pages(len(in_window) + (0 if window_start is None or len(in_window) == len(rows) else 1))
    listed = {
        "scheduled_events": pages(len(events)),
        "event_invitees": sum(pages(len(truth.invitees(e["uri"]))) for e in visited),
        "event_types": pages(len(truth.event_types(token))),
        "organization_memberships": pages(len(truth.organization_memberships(token))),
        "routing_forms": pages(len(forms)),
        "routing_form_submissions": submissions,
    }
    # A listing another selected stream needs is read once: events for invitees, forms for submissions,
    # event types for their hosts and schedules, memberships for users and their schedules (admins).
    needs = {
        "scheduled_events": {"event_invitees"},
        "routing_forms": {"routing_form_submissions"},
        "event_types": {"event_type_memberships", "event_type_availability_schedules"},
        "organization_memberships": {"users", "locations"}
        | ({"user_availability_schedules", "webhook_subscriptions"} if _is_admin(truth, token) else set()),
    }
    total = sum(n for name, n in listed.items() if name in selected and name not in needs)
    for parent, children in needs.items():
        if parent in selected or children & selected:
            total += listed[parent]
    return total


def history_shares(budget: int) -> tuple[int, int, int]:
    """(event pages, invitee requests, submission pages) of a history budget: a tenth each for the cheap
    listings, the rest for invitees (README, "How incremental sync works")."""
    tenth = -(-budget // 10)
    return tenth, max(0, budget - 2 * tenth), tenth


def invitee_walk_step(budget: int) -> int:
    """Events whose invitees one walk step reads (README): n + pages listing n + 1 events fit the share."""
    _, share, _ = history_shares(budget)
    n = share
    while n > 0 and n + -(-(n + 1) // 100) > share:
        n -= 1
    return n


def history_walk_requests(sandbox: Any, token: str, window_start: str, budget: int) -> int:
    """Requests of the history walks' first step (all from the beginning of history) in a sync with `budget`,
    when scheduled_events and event_invitees are both read."""
    truth = sandbox.truth
    event_pages, invitee_requests, submission_pages = history_shares(budget)
    history = [e for e in truth.scheduled_events(token) if e["start_time"] < window_start]
    total = min(pages(len(history)), event_pages) if event_pages else 0
    # Invitees: n events, with the event pages that list n + 1 of them, fit in the share.
    n = invitee_requests
    while n > 0 and n + pages(n + 1) > invitee_requests:
        n -= 1
    if n:
        chosen = history[:n]
        if len(history) > n:  # the step ends between two start times
            chosen = [e for e in chosen if e["start_time"] != history[n]["start_time"]] or chosen
        # Both walks start at the beginning: the invitee walk replays the event walk's listing if it holds enough.
        listed = event_pages * 100
        replayed = event_pages and (len(history) <= listed or n + 1 <= listed)
        total += 0 if replayed else pages(min(len(history), n + 1))
        total += sum(pages(len(truth.invitees(e["uri"]))) for e in chosen)
    if submission_pages:
        form = truth.routing_forms(token)[0]["uri"]  # the walk's first form: the oldest
        rows = truth.routing_form_submissions(token, form_uri=form)
        in_window = sum(1 for r in rows if r["created_at"] >= window_start)
        if in_window < len(rows):
            edge = in_window + 1  # the first submission past the window start, newest first
            limit = (pages(edge) + submission_pages) * 100
            total += pages(min(len(rows), limit)) - pages(edge)
    return total


def _webhooks_minimum(
    truth: Any,
    token: str,
    rows: list[dict],
    groups_selected: bool,
    state: Mapping[str, Any] | None = None,
    history_requests: int = 200,
) -> int:
    """One listing per scope value: the organization, each member (the memberships listing is counted with
    organization_memberships), each group; and the groups listing itself unless the groups stream reads it
    (one request when Calendly refuses it). After an incremental sync that left `state`, nothing having changed
    since: the organization's listing and only the members and groups the rotation re-reads."""
    try:
        groups = [g["uri"] for g in truth.groups(token)]
        groups_listing = pages(len(groups))
    except PermissionError:
        groups, groups_listing = [], 1
    if not _is_admin(truth, token):
        return pages(len(rows))  # its own user's subscriptions: one listing
    members = [m["user"]["uri"] for m in truth.organization_memberships(token)]
    total = pages(sum(1 for r in rows if r["scope"] == "organization"))
    if state and state.get("parents") is not None:
        chosen = _rotation([*members, *groups], state.get("rotation"), history_requests)
        listed = [sum(1 for r in rows if r["scope"] != "organization" and p in (r["user"], r["group"])) for p in chosen]
        return total + sum(pages(n) for n in listed) + (0 if groups_selected else groups_listing)
    total += sum(pages(sum(1 for r in rows if r["scope"] == "user" and r["user"] == m)) for m in members)
    total += sum(pages(sum(1 for r in rows if r["scope"] == "group" and r["group"] == g)) for g in groups)
    return total + (0 if groups_selected else groups_listing)


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _before(value: str) -> datetime:
    """Where the connector lists from to include `value`'s instant under either reading of a min_* filter."""
    return _utc(value) - MARGIN


def _is_admin(truth: Any, token: str) -> bool:
    me = truth.user(token)["uri"]
    return any(
        m["user"]["uri"] == me and m["role"] in ("owner", "admin") for m in truth.organization_memberships(token)
    )


def _optional_minimum(
    truth: Any,
    token: str,
    stream: str,
    state: Mapping[str, Any] | None,
    history_requests: int = 200,
    streams: Sequence[str] = ALL_STREAMS,
) -> int:
    """Requests for one optional stream: one if Calendly refuses it (the sandbox's truth says PermissionError)."""
    try:
        rows = truth.records(stream, token)
    except PermissionError:
        return 1
    if stream == "webhook_subscriptions":
        return _webhooks_minimum(truth, token, rows, "groups" in streams, state, history_requests)
    if stream == "users":
        return 0  # the memberships listing
    if stream == "organization":
        return 1
    if stream == "meeting_recaps":  # every status listed whole every sync, whatever the state (nothing deleted)
        return sum(pages(sum(1 for r in rows if r["status"] == status)) for status in RECAP_STATUSES)
    if stream == "meeting_recap_transcripts":  # the available listing (shared with meeting_recaps when both read)
        listing = 0 if "meeting_recaps" in streams else pages(len(rows))
        return listing + (0 if state and state.get("parents") is not None else len(rows))
    if stream in TRACKED_STREAMS and state and state.get("parents") is not None:
        return _tracked_minimum(truth, token, stream, state, history_requests)
    if stream in ("event_type_memberships", "event_type_availability_schedules"):
        types = truth.event_types(token)
        if stream == "event_type_availability_schedules":
            return len(types)  # one unpaginated list per event type
        hosts: dict[str, int] = defaultdict(int)
        for row in rows:
            hosts[row["event_type"]["uri"]] += 1
        return sum(pages(hosts[t["uri"]]) for t in types)
    if stream == "user_availability_schedules":
        return len(truth.organization_memberships(token)) if _is_admin(truth, token) else 1
    if stream == "locations":  # any member may read every member's (the sandbox; see Truth.locations)
        return len(truth.organization_memberships(token))
    if stream == "contact_custom_field_definitions":
        return 1  # the whole collection, unpaged
    if stream == "contact_lists":
        return 1  # at most 25, unpaged; read once for contact_list_memberships too
    if stream == "contact_list_memberships":
        lists = truth.records("contact_lists", token)
        members: dict[str, int] = defaultdict(int)
        for row in rows:
            members[row["contact_list"]] += 1
        return (0 if "contact_lists" in streams else 1) + sum(pages(members[lst["uri"]]) for lst in lists)
    if stream == "contact_notes":  # every contact listed, then their notes ten contacts a request
        contacts = truth.records("contacts", token)
        notes: dict[str, int] = defaultdict(int)
        for row in rows:
            notes[row["contact"]] += 1
        batches = [contacts[i : i + 10] for i in range(0, len(contacts), 10)]
        return pages(len(contacts)) + sum(pages(sum(notes[c["uri"]] for c in batch)) for batch in batches)
    if stream in CURSOR_STREAMS:
        field_name = CURSOR_STREAMS[stream]
        cursor = (state or {}).get(field_name)
        if stream == "contacts":  # newest first, down to the first record before the cursor
            at_or_after = [r for r in rows if cursor is None or _utc(r[field_name]) >= _utc(cursor)]
            listing = pages(len(at_or_after) + (1 if len(at_or_after) < len(rows) else 0))
            reread_all = (
                streams.index("contacts") < streams.index("event_invitees") if "event_invitees" in streams else True
            )
            return listing + (0 if reread_all else _deletion_sweep(rows, state, history_requests))
        # Listed from a margin before the cursor, so that its instant is included however Calendly reads min_*.
        listed = [r for r in rows if cursor is None or _utc(r[field_name]) >= _before(cursor)]
        return pages(len(listed), 1000 if stream == "activity_log_entries" else 100)
    return pages(len(rows))


def _deletion_sweep(rows: Sequence[Any], state: Mapping[str, Any] | None, history_requests: int) -> int:
    """The contacts' deletion check (source_calendly/sweep.py) when nothing was deleted: a pass starting with
    this sync lists every contact, at most recheck_share(history_requests) pages a sync; none on a first sync.
    (A pass left unfinished by the previous sync, with more pages than a sync's share, costs the pages it has
    left: not modelled here, the tests' contact books fit in one sync's share.)"""
    if not state or "known" not in state:
        return 0
    return min(recheck_share(history_requests), pages(len(rows)))


def recheck_share(history_requests: int) -> int:
    """Parents a tracked per-parent stream re-reads per sync by rotation (README, "Per-parent streams")."""
    return -(-history_requests // 20)


def _rotation(parents: Sequence[str], after: str | None, history_requests: int) -> list[str]:
    """The parents (URIs) the rotation re-reads next: those after `after` (the state's rotation, kept as the URI
    after the common prefix, or as a JSON list of it where the stream's parents are of several kinds) in order."""
    base = "https://api.calendly.com/"
    if after is not None and after.startswith("["):
        after = str(json.loads(after)[0]).removeprefix("~/")
    ids = sorted(p.removeprefix(base) for p in parents)
    start = next((i for i, pid in enumerate(ids) if after is None or pid > after), 0)
    return [base + ids[(start + i) % len(ids)] for i in range(min(recheck_share(history_requests), len(ids)))]


def _tracked_minimum(truth: Any, token: str, stream: str, state: Mapping[str, Any], history_requests: int = 200) -> int:
    """After a sync that left `state`, with nothing changed since: only the rotation's next parents are read."""
    if stream in ("user_availability_schedules", "locations"):
        parents = [m["user"]["uri"] for m in truth.organization_memberships(token)]
    else:
        parents = [t["uri"] for t in truth.event_types(token)]
    ids = sorted(p.removeprefix("https://api.calendly.com/") for p in parents)
    after = state.get("rotation")
    start = next((i for i, pid in enumerate(ids) if after is None or pid > after), 0)
    chosen = [ids[(start + i) % len(ids)] for i in range(min(recheck_share(history_requests), len(ids)))]
    if stream != "event_type_memberships":
        return len(chosen)
    hosts: dict[str, int] = defaultdict(int)
    for row in truth.records(stream, token):
        hosts[row["event_type"]["uri"].removeprefix("https://api.calendly.com/")] += 1
    return sum(pages(hosts[pid]) for pid in chosen)
