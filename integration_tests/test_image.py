"""The connector's image, built and run for real: podman, a local Debian base, the sandbox on the host.

The image (`source-calendly:dev`) is built from the Dockerfile on `localbase:bookworm` (see scripts/build_image.sh,
which CI runs first), then `spec`, `check`, `discover` and `read` run inside the container against the sandbox,
and their output must equal the connector's output outside the container for the same config and catalog.

Skips only with SKIP_IMAGE_TESTS=1; without podman or the local base it fails, pointing at scripts/build_image.sh.
SOURCE_CALENDLY_IMAGE=<image> tests that image as it is instead of building `source-calendly:dev`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.harness import ALL_STREAMS
from integration_tests.image_support import (
    IMAGE,
    ROOT,
    Output,
    build_image,
    canonical,
    locked_requirements,
    normalise_state,
    podman_or_fail,
    run_container,
    run_entrypoint,
    run_host,
    secrets_dir,
    sync_start_values,
    write_secret,
)

pytestmark = pytest.mark.image

CONFIG = "/secrets/config.json"
CATALOG = "/secrets/catalog.json"
STATE = "/secrets/state.json"
CONFIGURED_CATALOG = ROOT / "integration_tests" / "configured_catalog.json"
STREAMS = set(ALL_STREAMS)


@pytest.fixture(scope="module")
def podman() -> str:
    return podman_or_fail()


@pytest.fixture(scope="module")
def image(podman: str) -> str:
    given = os.environ.get("SOURCE_CALENDLY_IMAGE")
    if given:
        return given
    build_image(podman, IMAGE)  # a few seconds when only the code changed: the dependency layer is cached
    return IMAGE


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(dataset=DatasetSpec.small(seed=7), rate_limit_per_minute=None, host="127.0.0.1", port=0) as sb:
        yield sb


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Path:
    """config.json (+ catalog.json once discovered) in a directory mounted read-only at /secrets."""
    directory = secrets_dir(tmp_path_factory.mktemp("secrets"))
    write_secret(directory, "config.json", {"personal_access_token": sandbox.tokens.admin, "api_url": sandbox.url})
    return directory


def both(podman: str, image: str, args: list[str], mount: Path | None) -> tuple[Output, Output]:
    """(inside the container, outside it) for the same command and files."""
    inside = Output.of(run_container(podman, image, args, mount))
    outside = Output.of(run_host(args, mount))
    return inside, outside


def configured_catalog(discovered: dict[str, Any]) -> dict[str, Any]:
    """Every discovered stream, incremental where it can be (used when integration_tests/configured_catalog.json
    does not exist)."""
    streams = []
    for stream in discovered["streams"]:
        incremental = "incremental" in stream["supported_sync_modes"]
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": stream.get("default_cursor_field", []) if incremental else [],
                "primary_key": stream.get("source_defined_primary_key", []),
            }
        )
    return {"streams": streams}


# --- the image itself --------------------------------------------------------------------------------------------


def test_image_follows_airbytes_convention(podman: str, image: str) -> None:
    inspected = json.loads(
        subprocess.run([podman, "image", "inspect", image], capture_output=True, text=True, check=True).stdout
    )[0]["Config"]
    env = dict(item.split("=", 1) for item in inspected.get("Env", []))
    assert inspected["User"] == "airbyte"
    assert inspected["WorkingDir"] == "/airbyte/integration_code"
    assert env["AIRBYTE_ENTRYPOINT"] == "python /airbyte/integration_code/main.py"
    assert inspected["Entrypoint"] == env["AIRBYTE_ENTRYPOINT"].split()
    assert inspected["Labels"]["io.airbyte.version"] == "0.1.0"
    assert inspected["Labels"]["io.airbyte.name"] == "source-calendly"

    shell = run_entrypoint(
        podman, image, "sh", ["-c", "id -un; id -u; ls -A /airbyte/integration_code; command -v source-calendly"]
    ).split()
    assert shell[:2] == ["airbyte", "1000"], "the connector must run as the unprivileged airbyte user"
    # Only what the Dockerfile copies: no tests, sandbox, secrets, venv or caches (.dockerignore is an allow-list).
    copied = {"main.py", "pyproject.toml", "README.md", "requirements.lock", "source_calendly", "__pycache__"}
    assert set(shell[2:-1]) == copied
    assert shell[-1] == "/usr/local/bin/source-calendly"


def test_image_has_exactly_the_locked_versions(podman: str, image: str) -> None:
    listed = run_entrypoint(
        podman, image, "python", ["-m", "pip", "list", "--format=json", "--disable-pip-version-check"]
    )
    installed = {canonical(package["name"]): package["version"] for package in json.loads(listed)}
    # Markers (numpy differs below/above 3.12, colorama is Windows-only) are evaluated as in the container.
    environment = json.loads(
        run_entrypoint(
            podman,
            image,
            "python",
            [
                "-c",
                "import json, pip._vendor.packaging.markers as m; print(json.dumps(m.default_environment()))",
            ],
        )
    )
    wanted = {
        canonical(name): version
        for name, version, marker in locked_requirements(ROOT / "requirements.lock")
        if marker is None or Marker(marker).evaluate(environment)
    }
    assert len(wanted) > 50
    mismatched = {
        name: (version, installed.get(name)) for name, version in wanted.items() if installed.get(name) != version
    }
    assert mismatched == {}, "package: (locked, installed)"
    assert installed["airbyte-source-calendly"] == "0.1.0"


def test_console_script_runs_the_same_connector(podman: str, image: str) -> None:
    via_script = Output.of(
        subprocess.run(
            [podman, "run", "--rm", "--entrypoint", "source-calendly", image, "spec"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    )
    via_entrypoint = Output.of(run_container(podman, image, ["spec"]))
    assert via_script.returncode == via_entrypoint.returncode == 0
    assert via_script.of_type("SPEC") == via_entrypoint.of_type("SPEC") != []


# --- spec, check, discover, read: inside the container = outside -----------------------------------------------


def test_spec_is_identical(podman: str, image: str) -> None:
    inside, outside = both(podman, image, ["spec"], mount=None)
    assert inside.returncode == outside.returncode == 0, inside.describe()
    assert len(inside.of_type("SPEC")) == 1
    assert inside.without_logs() == outside.without_logs()
    assert inside.other_lines == outside.other_lines == []


def test_spec_needs_no_network(podman: str, image: str) -> None:
    inside = Output.of(run_container(podman, image, ["spec"], network="none"))
    assert inside.returncode == 0 and len(inside.of_type("SPEC")) == 1, inside.describe()


def test_check_succeeds_in_both(podman: str, image: str, secrets: Path) -> None:
    inside, outside = both(podman, image, ["check", "--config", CONFIG], secrets)
    for output in (inside, outside):
        assert output.returncode == 0, output.describe()
        assert [m["connectionStatus"]["status"] for m in output.of_type("CONNECTION_STATUS")] == ["SUCCEEDED"]
        assert output.error_traces() == []
    assert inside.without_logs() == outside.without_logs()


def test_check_with_a_wrong_token_fails_the_same_way(
    podman: str, image: str, tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox
) -> None:
    directory = secrets_dir(tmp_path_factory.mktemp("bad-secrets"))
    write_secret(directory, "config.json", {"personal_access_token": "not-a-token", "api_url": sandbox.url})
    inside, outside = both(podman, image, ["check", "--config", CONFIG], directory)
    for output in (inside, outside):
        statuses = [m["connectionStatus"]["status"] for m in output.of_type("CONNECTION_STATUS")]
        assert statuses == ["FAILED"] or output.error_traces(), output.describe()
    assert inside.without_logs() == outside.without_logs()


def test_discover_is_identical(podman: str, image: str, secrets: Path) -> None:
    inside, outside = both(podman, image, ["discover", "--config", CONFIG], secrets)
    assert inside.returncode == outside.returncode == 0, inside.describe()
    catalogs = inside.of_type("CATALOG")
    assert len(catalogs) == 1
    assert {stream["name"] for stream in catalogs[0]["catalog"]["streams"]} == STREAMS
    assert inside.without_logs() == outside.without_logs()


def assert_same_read(inside: Output, outside: Output) -> None:
    for output in (inside, outside):
        assert output.returncode == 0, output.describe()
        assert output.error_traces() == [], output.describe()
    assert inside.records_by_stream() == outside.records_by_stream()

    starts = sync_start_values(inside.stream_states()) | sync_start_values(outside.stream_states())
    now = datetime.now(UTC)
    assert starts and all(abs(datetime.fromisoformat(start) - now) < timedelta(minutes=10) for start in starts), starts
    assert normalise_state(inside.final_states(), starts) == normalise_state(outside.final_states(), starts)
    # Every checkpoint the container emits is one the host run emits too (their order may differ across streams).
    inside_states = sorted(json.dumps(s, sort_keys=True) for s in normalise_state(inside.stream_states(), starts))
    outside_states = sorted(json.dumps(s, sort_keys=True) for s in normalise_state(outside.stream_states(), starts))
    assert inside_states == outside_states


def test_read_is_identical_then_incremental_read_from_its_state_too(podman: str, image: str, secrets: Path) -> None:
    if CONFIGURED_CATALOG.is_file():
        catalog = json.loads(CONFIGURED_CATALOG.read_text())
    else:
        discovered = Output.of(run_host(["discover", "--config", CONFIG], secrets)).of_type("CATALOG")
        catalog = configured_catalog(discovered[0]["catalog"])
    assert {configured["stream"]["name"] for configured in catalog["streams"]} == STREAMS
    write_secret(secrets, "catalog.json", catalog)
    args = ["read", "--config", CONFIG, "--catalog", CATALOG]
    inside, outside = both(podman, image, args, secrets)
    assert_same_read(inside, outside)
    records = inside.records_by_stream()
    assert set(records) == STREAMS and all(records.values()), {name: sum(c.values()) for name, c in records.items()}
    assert set(inside.final_states()) == STREAMS

    # The next sync, from the container's final state: the --state file is read the same way inside and out.
    write_secret(secrets, "state.json", inside.state_blob())
    inside_next, outside_next = both(podman, image, [*args, "--state", STATE], secrets)
    assert_same_read(inside_next, outside_next)
