#!/usr/bin/env bash
# .venv-pyairbyte/: PyAirbyte (`airbyte`, pinned in integration_tests/pyairbyte/requirements.lock, with hashes) in a
# venv of its own, for the pyairbyte tests (integration_tests/test_pyairbyte.py). PyAirbyte's ~150 dependencies
# (pyarrow, pandas, duckdb, cloud SDKs) never enter the connector's .venv, uv.lock or image. PyAirbyte needs
# Python 3.10-3.12 (on 3.13 pip quietly picks a years-old release); the lock is compiled for Linux x86_64 and
# Python 3.11, which uv finds or fetches.
# Idempotent: a second run only checks the venv (about a second); uv's cache makes a rebuild fast.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  export PATH="$HOME/.local/bin:$PATH"
  command -v uv >/dev/null 2>&1 || source scripts/setup.sh
fi
export UV_SYSTEM_CERTS=1
LOCK=integration_tests/pyairbyte/requirements.lock
VENV=.venv-pyairbyte
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  rm -rf "$VENV"
  uv venv --quiet --python 3.11 "$VENV"
fi
uv pip sync --quiet --require-hashes --python "$VENV/bin/python" "$LOCK"
