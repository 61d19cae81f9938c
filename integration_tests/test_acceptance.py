"""Acceptance tests: the CDK's standard suite driven by acceptance-test-config.yml, against the sandbox.

The suite's `incremental` section is not collected by airbyte-cdk 7.x, so the abnormal-state read is
tested here directly with the same files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from calendly_sandbox import DatasetSpec, Sandbox
from integration_tests.conftest import sandbox_config
from integration_tests.harness import (
    ALL_STREAMS,
    CURSOR_STREAMS,
    DIFFED_STREAMS,
    INCREMENTAL,
    REPO,
    TRACKED_STREAMS,
    catalog,
    run_connector,
)
from integration_tests.image_support import IMAGE, build_image, podman_or_fail, write_docker_shim
from source_calendly import SourceCalendly

SECRETS = REPO / "secrets"


@pytest.fixture(scope="module", autouse=True)
def acceptance_sandbox() -> Iterator[Sandbox]:
    """Start the sandbox and write the configs acceptance-test-config.yml points at."""
    with Sandbox(dataset=DatasetSpec.small(seed=31), rate_limit_per_minute=None) as sandbox:
        SECRETS.mkdir(exist_ok=True)
        # Today's shape (the credentials choice); configs from before it are tested in test_oauth_sync.py.
        config = sandbox_config(sandbox)
        config["credentials"] = {
            "auth_type": "personal_access_token",
            "personal_access_token": config.pop("personal_access_token"),
        }
        (SECRETS / "config.json").write_text(json.dumps(config))
        (SECRETS / "invalid_config.json").write_text(json.dumps(sandbox_config(sandbox, "wrong-token")))
        yield sandbox


class TestSourceCalendlyStandard(SourceTestSuiteBase):
    connector = SourceCalendly

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return REPO  # whatever the clone's directory is called (the suite otherwise wants source-*)

    # The suite's image tests call `docker run`; with no Docker engine here, a `docker` stand-in runs podman
    # with the host's network, so the container reaches the sandbox on 127.0.0.1 (image_support.py).
    @pytest.fixture(scope="class")
    def _docker_shim_dir(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        podman = podman_or_fail()
        build_image(podman, IMAGE)
        return write_docker_shim(tmp_path_factory.mktemp("docker-shim"), podman).parent

    @pytest.fixture
    def connector_image_override(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
        if "image_tests" not in request.keywords:
            return None
        if os.environ.get("SKIP_IMAGE_TESTS") == "1":
            pytest.skip("SKIP_IMAGE_TESTS=1")
        monkeypatch.setenv("PATH", f"{request.getfixturevalue('_docker_shim_dir')}:{os.environ['PATH']}")
        return IMAGE

    @pytest.fixture
    def read_from_streams(self) -> str:
        return "all"  # else the suite's docker read test is skipped


def test_incremental_from_a_state_in_the_future_warns_and_reads_from_start_date(acceptance_sandbox: Sandbox) -> None:
    """Airbyte's suite expects a state from the future to emit nothing. Here its times are later than
    Calendly's clock (the Date header), so they came from another clock: trusting them would hide every change
    until 2121. The connector warns and reads from start_date instead (README, "How incremental sync works")."""
    config = yaml.safe_load((REPO / "acceptance-test-config.yml").read_text())
    [entry] = config["acceptance_tests"]["incremental"]["tests"]
    catalog = json.loads((REPO / entry["configured_catalog_path"]).read_text())
    state = json.loads((REPO / entry["future_state"]["future_state_path"]).read_text())
    run = run_connector("read", json.loads((REPO / entry["config_path"]).read_text()), catalog, state)
    assert run.returncode == 0 and run.errors() == []
    admin = acceptance_sandbox.tokens.admin
    assert len(run.records("scheduled_events")) == len(acceptance_sandbox.truth.scheduled_events(admin))
    timeless = (*TRACKED_STREAMS, *DIFFED_STREAMS)  # those keep no time in their state
    for stream in [s for s in INCREMENTAL if s not in timeless]:
        assert [w for w in run.warnings() if f"Stream {stream}: the saved state holds 2121" in w], stream
        cursor = run.states()[stream].get(CURSOR_STREAMS.get(stream, "updated_at"), "")
        assert not cursor.startswith("2121"), stream


def test_the_configured_catalog_is_discovers_output_with_every_stream() -> None:
    # integration_tests/configured_catalog.json is harness.catalog(ALL_STREAMS) written down; regenerate it with
    # `json.dumps(catalog(ALL_STREAMS), indent=2)` when a stream or schema changes.
    written = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    assert written == catalog(ALL_STREAMS)
