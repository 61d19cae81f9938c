"""CLI: ``python -m calendly_sandbox serve [options]``.

Prints one JSON line ``{"url": ..., "tokens": {...}}`` on stdout once it accepts connections, then serves until
SIGINT/SIGTERM and exits 0.
"""

from __future__ import annotations

import argparse
import errno
import gc
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import FrameType

import orjson

from .behaviour import Behaviour
from .coredata import PLANS, DatasetSpec
from .faults import Faults
from .sandbox import Sandbox

PROFILES = {"small": DatasetSpec.small, "reference": DatasetSpec.reference, "large": DatasetSpec.large}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m calendly_sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the fake Calendly API until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port (see the printed url)")
    serve.add_argument("--profile", choices=sorted(PROFILES), default="small")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--events", type=int, default=None, help="override the profile's number of Acme events")
    serve.add_argument("--plan", choices=PLANS, default=None, help="Acme's plan (default: enterprise)")
    serve.add_argument("--anchor", default=None, help="ISO time the data is generated around (default: now)")
    serve.add_argument("--rate-limit", type=int, default=500, help="requests per user per window; 0 = unlimited")
    serve.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window in seconds")
    serve.add_argument("--latency-ms-median", type=float, default=0.0)
    serve.add_argument("--latency-sigma", type=float, default=0.5)
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of requests failing with 429/5xx")
    serve.add_argument("--reset-rate", type=float, default=0.0)
    serve.add_argument("--truncated-rate", type=float, default=0.0)
    serve.add_argument("--fault-seed", type=int, default=0)
    serve.add_argument("--page-token-ttl", type=float, default=None, help="seconds before a page token expires")
    serve.add_argument("--send-retry-after", action="store_true", help="add Retry-After to 429 responses")
    serve.add_argument(
        "--group-changes-move-updated-at",
        action="store_true",
        help="a group invitee booking or cancelling also moves the event's updated_at (Calendly: unconfirmed)",
    )
    serve.add_argument(
        "--notes-keep-updated-at",
        action="store_true",
        help="editing an event's meeting notes leaves its updated_at as it was (Calendly: unconfirmed)",
    )
    serve.add_argument(
        "--no-communication-collisions",
        action="store_true",
        help="serve no outgoing communications that share event, type, recipient and created_at with another",
    )
    serve.add_argument(
        "--activity-log-max-count",
        type=int,
        choices=(1000, 100),
        default=1000,
        help="the largest count /activity_log_entries takes (its page says 1000, the Pagination schema 100)",
    )
    serve.add_argument(
        "--exclusive-min-filters",
        action="store_true",
        help="min_start_time, min_occurred_at and min_created_at list only records strictly after the given time "
        '(Calendly: "after this time", strictness unconfirmed)',
    )
    serve.add_argument(
        "--event-type-changes-move-updated-at",
        action="store_true",
        help="a host added or removed, or an availability change, moves the event type's updated_at (unconfirmed)",
    )
    serve.add_argument(
        "--user-availability-moves-updated-at",
        action="store_true",
        help="a change to a user's availability schedule moves the user's updated_at (Calendly: unconfirmed)",
    )
    serve.add_argument(
        "--contact-notes-move-updated-at",
        action="store_true",
        help="writing a note about a contact moves the contact's updated_at (Calendly: unconfirmed)",
    )
    return parser


def _spec(args: argparse.Namespace) -> DatasetSpec:
    spec = PROFILES[args.profile](seed=args.seed)
    if args.events is not None:
        spec = replace(spec, events=args.events)
    if args.plan is not None:
        spec = replace(spec, plan=args.plan)
    if args.anchor:
        spec = replace(spec, anchor=datetime.fromisoformat(args.anchor.replace("Z", "+00:00")))
    return spec


def serve(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    faults = Faults(
        latency_ms_median=args.latency_ms_median,
        latency_sigma=args.latency_sigma,
        error_rate=args.fault_rate,
        reset_rate=args.reset_rate,
        truncated_rate=args.truncated_rate,
        seed=args.fault_seed,
    )
    sandbox = Sandbox(
        dataset=_spec(args),
        rate_limit_per_minute=args.rate_limit or None,
        faults=faults,
        host=args.host,
        port=args.port,
        rate_window_seconds=args.rate_window,
        page_token_ttl_seconds=args.page_token_ttl,
        send_retry_after=args.send_retry_after,
        behaviour=Behaviour(
            group_changes_move_updated_at=args.group_changes_move_updated_at,
            notes_move_updated_at=not args.notes_keep_updated_at,
            communication_collisions=not args.no_communication_collisions,
            activity_log_max_count=args.activity_log_max_count,
            min_filters="exclusive" if args.exclusive_min_filters else "inclusive",
            event_type_changes_move_updated_at=args.event_type_changes_move_updated_at,
            user_availability_moves_updated_at=args.user_availability_moves_updated_at,
            contact_notes_move_updated_at=args.contact_notes_move_updated_at,
        ),
    )
    # A long-lived process: move the (large, immortal) dataset out of the collector's sight so full
    # collections stay cheap while serving. Not done by Sandbox itself, where it would pin freed sandboxes.
    gc.collect()
    gc.freeze()
    try:
        sandbox.start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        sys.stderr.write(
            f"calendly_sandbox: port {args.port} on {args.host} is already in use (another sandbox still running?); "
            "choose another with --port N, or --port 0 for any free port.\n"
        )
        return 1
    try:
        sys.stdout.write(orjson.dumps({"url": sandbox.url, "tokens": sandbox.tokens.by_label()}).decode() + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse enforces the command


if __name__ == "__main__":
    sys.exit(main())
