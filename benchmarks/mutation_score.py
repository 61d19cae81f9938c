"""Mutation score: how many deliberate bugs planted in source_calendly/ the fast tests catch.

mutmut (pinned in the dev dependencies, configured in pyproject.toml's [tool.mutmut]) plants one small bug at
a time — a flipped comparison, a dropped argument, a changed constant — and runs the unit tests that cover the
mutated function. A mutant is killed when a test fails (or hangs past mutmut's timeout); it survives when every
test still passes. Prints the score and every survivor with its diff, grouped by module, and exits 0.

Not part of CI: it takes tens of minutes (see CONTRIBUTING.md for the figure). It starts from a
clean `mutants/` directory, runs at lowered priority (the machine is shared), and stops after
`--timeout-minutes`, reporting what it checked so far; `--resume` then carries on where it stopped (mutmut
keeps every result in `mutants/`), so long as neither the code nor the tests changed in between.

    .venv/bin/python benchmarks/mutation_score.py [--max-children 2] [--timeout-minutes 60] [--resume] [--no-diffs]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
RESULTS = REPO / "benchmarks" / "results"
DETECTED = ("killed", "timeout")  # a test failed, or the tests hung: either way the bug was caught
RESULT_LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")


def run_mutmut(max_children: int, timeout_s: float, log: Path, resume: bool) -> bool:
    """`mutmut run` (from a clean slate unless resuming); False if it was stopped at the timeout."""
    if not resume:
        shutil.rmtree(REPO / "mutants", ignore_errors=True)
    with log.open("a" if resume else "w") as out:
        process = subprocess.Popen(
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its forked workers form one group, stopped together at the timeout
        )
        try:
            process.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return False


def results() -> dict[str, str]:
    done = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=REPO, capture_output=True, text=True, check=False
    )
    out = {}
    for line in done.stdout.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            out[match["name"]] = match["status"]
    return out


def diff_of(name: str) -> list[str]:
    shown = subprocess.run([str(MUTMUT), "show", name], cwd=REPO, capture_output=True, text=True, check=False)
    return [
        line
        for line in shown.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]


def module_of(name: str) -> str:
    """`source_calendly.streams.base.xǁCalendlyStreamǁ_list__mutmut_3` -> `source_calendly/streams/base.py`."""
    dotted = name.split(".x", 1)[0] if ".x" in name else name.rsplit(".", 1)[0]
    return dotted.replace(".", "/") + ".py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--timeout-minutes", type=float, default=60.0, help="stop and report after this long")
    parser.add_argument("--resume", action="store_true", help="carry on with the mutants a stopped run left")
    parser.add_argument("--no-diffs", action="store_true", help="list surviving mutants without their diffs")
    parser.add_argument("--no-nice", action="store_true", help="keep normal priority (default: nice 10)")
    args = parser.parse_args()
    if not MUTMUT.exists():
        print(f"mutmut is not installed at {MUTMUT}: run `bash scripts/setup.sh` (it is a dev dependency)")
        return 1
    if not args.no_nice:
        os.nice(10)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "mutation-run.log"
    started = time.monotonic()
    finished = run_mutmut(args.max_children, args.timeout_minutes * 60, log, args.resume)
    elapsed = time.monotonic() - started
    statuses = results()
    if not statuses:
        print(f"mutmut produced no results; its output is in {log.relative_to(REPO)}:")
        print(log.read_text()[-3000:])
        return 1

    counts = Counter(statuses.values())
    checked = {name: s for name, s in statuses.items() if s != "not checked"}
    detected = sum(1 for s in checked.values() if s in DETECTED)
    survivors = sorted(name for name, s in checked.items() if s not in DETECTED)
    print(f"mutmut over source_calendly/, {args.max_children} at a time: {elapsed / 60:.1f} min this run")
    if counts["not checked"]:
        why = f"stopped at the {args.timeout_minutes:g}-minute timeout" if not finished else "stopped before the end"
        print(f"INCOMPLETE ({why}): {counts['not checked']} mutants not checked; --resume checks them")
    print("  " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    score = detected / len(checked) if checked else 0.0
    print(f"mutation score: {detected} of {len(checked)} mutants killed = {score:.1%}")
    print(f"surviving mutants ({len(survivors)}; 'no tests' means no fast test runs that code at all):")
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in survivors:
        by_module[module_of(name)].append(name)
    for module, names in sorted(by_module.items()):
        print(f"\n{module}: {len(names)}")
        for name in names:
            print(f"  {name.rsplit('.', 1)[-1]}  [{checked[name]}]")
            if not args.no_diffs:
                for line in diff_of(name):
                    print(f"      {line.strip()[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
