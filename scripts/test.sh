#!/usr/bin/env bash
# Every test, as CI runs them: lint, unit tests (requests-mock), the sandbox's own tests, integration tests (the
# connector process against the local sandbox), the CDK's acceptance suite (in-process against the sandbox), and
# the image tests (the connector's Docker image built with podman and run against the sandbox). Extra arguments
# go to pytest.
# SKIP_IMAGE_TESTS=1 leaves out the image build and its tests (they need root for apt and podman). With arguments
# that select no image test (e.g. `unit_tests -q`), the image is not built either (scripts/selects_image_tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
if [ "${SKIP_IMAGE_TESTS:-0}" = "1" ]; then
  exec .venv/bin/pytest -m "not image and not image_tests" "$@"
fi
if bash scripts/selects_image_tests.sh "$@"; then
  bash scripts/build_image.sh
else
  echo "==> the selected tests include no image test: the image is not built"
fi
exec .venv/bin/pytest "$@"
