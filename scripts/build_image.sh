#!/usr/bin/env bash
# Build the connector image `source-calendly:dev` on a machine with no Docker engine and no registry (README:
# "Run it"). Idempotent; each step runs only if it is still needed:
#   1. apt-get install podman buildah debootstrap runc        (only if one of them is missing)
#   2. podman reads the project's own scripts/containers.conf (CONTAINERS_CONF; the host's /etc is not touched)
#   3. local base image `localbase:bookworm` via debootstrap   (only if absent; LOCALBASE_REBUILD=1 forces it)
#   4. podman build --build-arg BASE_IMAGE=localbase:bookworm -t source-calendly:dev .
# Prints the time of each step, then runs `spec` in the image as a smoke test. Env: IMAGE (default source-calendly:dev), BASE (default localbase:bookworm),
# DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${IMAGE:-source-calendly:dev}"
BASE="${BASE:-localbase:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
T_ALL=$(now_ms)
step_start() { T_STEP=$(now_ms); echo "==> $*"; }
step_end() { echo "    $1: $(secs_since "$T_STEP") s"; }

# 1. Tools -------------------------------------------------------------------------------------------
step_start "tools: podman buildah debootstrap runc"
missing=()
for tool in podman buildah debootstrap runc; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "    installing: ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        podman buildah debootstrap runc >/dev/null
else
    echo "    already installed"
fi
step_end "tools"

# 2. containers.conf ----------------------------------------------------------------------------------
# The project's own podman settings (runc, ulimits: see the file), given to every podman call below through
# CONTAINERS_CONF; nothing under /etc/containers is written. A CONTAINERS_CONF already set is respected.
export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/scripts/containers.conf}"
echo "==> podman settings: CONTAINERS_CONF=$CONTAINERS_CONF"
if [ -n "$SUDO" ]; then SUDO="sudo --preserve-env=CONTAINERS_CONF"; fi

# 3. Local base image -----------------------------------------------------------------------------------
# Stands in for airbyte/python-connector-base (unreachable here): minimal Debian bookworm with python3 + pip,
# user airbyte (uid 1000) and /airbyte, as the real base has.
step_start "base image $BASE"
if [ "${LOCALBASE_REBUILD:-0}" = "1" ] || ! $SUDO podman image exists "$BASE"; then
    WORK="$(mktemp -d)"
    trap '$SUDO rm -rf "$WORK"' EXIT
    R="$WORK/rootfs"
    $SUDO debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; exit 1; }
    $SUDO ln -sf python3 "$R/usr/bin/python"
    $SUDO rm -f "$R"/usr/lib/python3*/EXTERNALLY-MANAGED
    $SUDO chroot "$R" adduser --uid 1000 --system --group --no-create-home airbyte >/dev/null 2>&1
    $SUDO mkdir -p -m 755 "$R/airbyte"
    $SUDO chroot "$R" chown airbyte:airbyte /airbyte
    $SUDO rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*
    $SUDO tar --numeric-owner -C "$R" -c . | $SUDO podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' - "$BASE" >/dev/null 2>&1
    echo "    built"
else
    echo "    present"
fi
step_end "base image"

# 4. Connector image ----------------------------------------------------------------------------------
# The host's CA bundle is mounted into the build only (HTTPS to PyPI goes through a proxy whose CA a fresh
# container does not trust); it is never copied into the image.
step_start "connector image $IMAGE"
CA_MOUNT=()
if [ -f "$CA_BUNDLE" ]; then CA_MOUNT=(-v "$CA_BUNDLE:$CA_BUNDLE:ro"); fi
OLD_ID="$($SUDO podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
$SUDO podman build --build-arg BASE_IMAGE="$BASE" "${CA_MOUNT[@]}" -t "$IMAGE" "$ROOT"
NEW_ID="$($SUDO podman image inspect --format '{{.Id}}' "$IMAGE")"
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
    $SUDO podman rmi "$OLD_ID" >/dev/null 2>&1 || true   # the previous build, now untagged
fi
step_end "connector image"

# Smoke test: the image answers `spec` (no network needed).
step_start "smoke test: podman run --rm $IMAGE spec"
T_SPEC=$(now_ms)
$SUDO podman run --rm "$IMAGE" spec | grep -q '"type":"SPEC"' || { echo "    spec failed" >&2; exit 1; }
echo "    spec answered in $(secs_since "$T_SPEC") s"

printf '==> done in %s s: %s (%s)\n' "$(secs_since "$T_ALL")" "$IMAGE" \
    "$($SUDO podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
