#!/usr/bin/env bash
# Proves the repository stands alone: clones the committed HEAD into an empty temporary directory (nothing beside
# it) and runs the README's test command there, `bash scripts/test.sh`, which sets everything up from scratch.
# Arguments go to it (e.g. `unit_tests -q`); SKIP_IMAGE_TESTS=1 passes through.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git clone --quiet --no-hardlinks "$ROOT" "$WORK/source-calendly"
echo "==> clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in $WORK/source-calendly, alone in $WORK"
cd "$WORK/source-calendly"
bash scripts/test.sh "$@"
