"""Every benchmark command README.md and CONTRIBUTING.md show parses as written (issue 19). The benchmarks
themselves take minutes to hours (mutation score about 50 minutes, soak about 25, sync_benchmark about 12), so
they are not run here: each command runs with `--help` after its arguments, which argparse reads first (an unknown
choice fails), and each flag it uses must be one the script documents."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (REPO / "README.md").read_text() + (REPO / "CONTRIBUTING.md").read_text()
# `benchmarks/<script>.py --flag value --flag …`, in a code block or in backticks; cdk_ceiling.py is named only
# (sync_benchmark.py runs it).
COMMAND = re.compile(r"benchmarks/(mutation_score|sync_benchmark|soak)\.py((?: --[\w-]+(?: [^\s`#-][^\s`#]*)?)*)")


def readme_commands() -> list[tuple[str, ...]]:
    commands = {(f"benchmarks/{script}.py", *args.split()) for script, args in COMMAND.findall(DOCUMENTS)}
    # "`--only rate|throughput|memory`" beside the sync benchmark's command: each of them.
    for choices in re.findall(r"`--only ([\w|]+)`", DOCUMENTS):
        commands |= {("benchmarks/sync_benchmark.py", "--only", choice) for choice in choices.split("|")}
    # The mutation score's options CONTRIBUTING.md names in its prose.
    if "`--timeout-minutes` (default 60)" in DOCUMENTS:
        commands.add(("benchmarks/mutation_score.py", "--timeout-minutes", "60"))
    if "`--resume` carries on" in DOCUMENTS:
        commands.add(("benchmarks/mutation_score.py", "--resume"))
    return sorted(commands)


def test_the_documents_show_each_benchmark() -> None:
    assert {command[0] for command in readme_commands()} == {
        "benchmarks/mutation_score.py",
        "benchmarks/sync_benchmark.py",
        "benchmarks/soak.py",
    }


@pytest.mark.parametrize("command", readme_commands(), ids=" ".join)
def test_the_documented_benchmark_command_parses(command: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, *command, "--help"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ")
    for flag in (arg for arg in command[1:] if arg.startswith("--")):
        assert re.search(rf"\[{flag}\b", done.stdout), f"{flag} is not an option of {command[0]}"


def test_the_cost_table_puts_each_request_under_the_stream_that_made_it() -> None:
    """The contact book's requests all go to /contacts…: each must land under its own stream, or the benchmark's
    per-stream table hides one (the definitions) and inflates another (contacts)."""
    spec = importlib.util.spec_from_file_location("sync_benchmark", REPO / "benchmarks" / "sync_benchmark.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    entry = namedtuple("entry", "endpoint query")
    log = [
        entry("/contacts", {"sort": "updated_at:desc"}),
        entry("/contacts", {"contact_list": "https://api.calendly.com/contact_lists/x"}),
        entry("/contacts/custom_field_definitions", {}),
        entry("/contacts/{uuid}", {}),
        entry("/organization_memberships", {"user": "u"}),
        entry("/meeting_recaps/{uuid}/transcript", {}),
    ]
    assert benchmark.requests_by_stream(log) == {
        "contacts": 2,
        "contact_list_memberships": 1,
        "contact_custom_field_definitions": 1,
        "(account)": 1,
        "meeting_recap_transcripts": 1,
    }
