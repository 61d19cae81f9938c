#!/usr/bin/env bash
# One command on a fresh machine, no Calendly account: install, start the sandbox, full read, summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
