#!/usr/bin/env bash
# Proves the repository stands alone: clones the committed HEAD into an empty temporary directory (nothing beside
# it), sets it up from scratch there and runs the unit tests, which read every third-party file they need from
# the repository itself. Extra arguments go to pytest (default: unit_tests -q).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git clone --quiet --no-hardlinks "$ROOT" "$WORK/source-calendly"
echo "==> clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in $WORK/source-calendly (alone in $WORK)"
cd "$WORK/source-calendly"
if [ "$#" -eq 0 ]; then set -- unit_tests -q -p no:randomly; fi
SKIP_IMAGE_TESTS=1 bash scripts/test.sh "$@"
