#!/usr/bin/env bash
# Exits 0 if pytest, given these arguments, would run an image test (marked `image` or `image_tests`), else 1.
# scripts/test.sh builds the image only then: `bash scripts/test.sh unit_tests -q` needs no image, no apt, no root.
# It asks pytest itself (a collection, a few seconds), so paths, -k and -m select exactly as in the run.
cd "$(dirname "$0")/.."
[ $# -eq 0 ] && exit 0  # everything: the image tests are in it
.venv/bin/pytest --collect-only -q -p no:randomly -m "image or image_tests" "$@" >/dev/null 2>&1
