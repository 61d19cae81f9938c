"""The state each stream ended a read with, as the next read's `--state` file (what Airbyte would store).

    .venv/bin/python scripts/last_state.py messages.jsonl > state.json

`messages.jsonl` is a read's standard output: Airbyte messages, one a line. Only per-stream STATE messages are
kept, the last of each stream, without the counts the CDK adds to them (`sourceStats`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any


def last_states(lines: Iterable[str]) -> list[dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for line in lines:
        if not line.strip():
            continue
        message = json.loads(line)
        state = message.get("state") if message.get("type") == "STATE" else None
        if state and state.get("type") == "STREAM":
            stream = state["stream"]
            states[stream["stream_descriptor"]["name"]] = {"type": "STREAM", "stream": stream}
    return list(states.values())


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: last_state.py MESSAGES.jsonl > state.json\n")
        return 2
    with open(argv[0], encoding="utf-8") as messages:
        sys.stdout.write(json.dumps(last_states(messages), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
