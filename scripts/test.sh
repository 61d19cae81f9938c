#!/usr/bin/env bash
# Every test, as CI runs them: lint, unit tests (requests-mock), the sandbox's own tests, integration tests (the
# connector process against the local sandbox), the CDK's acceptance suite (in-process against the sandbox), and
# the image tests (the connector's Docker image built with podman and run against the sandbox). Extra arguments
# go to pytest.
# SKIP_IMAGE_TESTS=1 leaves out the image build and its tests (they need root for apt and podman).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
if [ "${SKIP_IMAGE_TESTS:-0}" = "1" ]; then
  exec .venv/bin/pytest -m "not image and not image_tests" "$@"
fi
bash scripts/build_image.sh
exec .venv/bin/pytest "$@"
