"""metadata.yaml, the Dockerfile, .dockerignore and requirements.lock agree with each other and with Airbyte's rules.

- metadata.yaml validates against Airbyte's metadata schema (ConnectorMetadataDefinitionV0 and the files it
  references). The schema's required fields and enums are also checked here without the schema files, so the
  essentials hold even against another copy of the schema; the full validation reads the schema folder the repo
  carries (unit_tests/resources/airbyte-metadata-schema-v0, see its README; AIRBYTE_METADATA_SCHEMA_DIR overrides).
- dockerImageTag = pyproject version = the image's io.airbyte.version label; baseImage = the Dockerfile's default.
- requirements.lock (what the image installs) is exactly `uv export` of uv.lock's runtime dependencies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile

from source_calendly import SourceCalendly
from source_calendly.streams import OPTIONAL_STREAMS

ROOT = Path(__file__).resolve().parent.parent
METADATA_PATH = ROOT / "metadata.yaml"
# Airbyte's metadata schema, carried in the repository (source, version and licence in its README).
SCHEMA_DIR = Path(
    os.environ.get(
        "AIRBYTE_METADATA_SCHEMA_DIR", Path(__file__).resolve().parent / "resources/airbyte-metadata-schema-v0"
    )
)
BASE_IMAGE_RE = re.compile(r"^docker\.io/airbyte/python-connector-base:4\.\d+\.\d+@sha256:[0-9a-f]{64}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# ConnectorMetadataDefinitionV0.yaml: `required` of the root and of `data`, and the enums used here.
SCHEMA_ROOT_REQUIRED = ("metadataSpecVersion", "data")
SCHEMA_DATA_REQUIRED = (
    "name",
    "definitionId",
    "connectorType",
    "dockerRepository",
    "dockerImageTag",
    "license",
    "documentationUrl",
    "githubIssueLabel",
    "connectorSubtype",
    "releaseStage",
)
RELEASE_STAGES = ("alpha", "beta", "generally_available", "custom")
SUPPORT_LEVELS = ("community", "certified", "archived")


@pytest.fixture(scope="module")
def metadata() -> dict[str, Any]:
    return yaml.safe_load(METADATA_PATH.read_text())


@pytest.fixture(scope="module")
def data(metadata: dict[str, Any]) -> dict[str, Any]:
    return metadata["data"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def pyproject_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def dockerfile_base_image_default(dockerfile: str) -> str:
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert match, "The Dockerfile must declare `ARG BASE_IMAGE=<pinned default>`"
    return match.group(1)


# --- metadata.yaml -----------------------------------------------------------------------------------------------


def test_metadata_has_the_schema_required_fields(metadata: dict[str, Any], data: dict[str, Any]) -> None:
    assert [key for key in SCHEMA_ROOT_REQUIRED if key not in metadata] == []
    assert [key for key in SCHEMA_DATA_REQUIRED if key not in data] == []
    assert isinstance(metadata["metadataSpecVersion"], str)
    for key in SCHEMA_DATA_REQUIRED:
        assert isinstance(data[key], str) and data[key], f"data.{key} must be a non-empty string"
    assert data["releaseStage"] in RELEASE_STAGES
    assert data["supportLevel"] in SUPPORT_LEVELS


def test_metadata_values(data: dict[str, Any]) -> None:
    assert data["name"] == "Calendly"
    assert UUID_RE.match(data["definitionId"])
    assert data["connectorType"] == "source"
    assert data["connectorSubtype"] == "api"
    assert data["dockerRepository"] == "source-calendly"
    # The API, and Calendly's OAuth token endpoint (the refresh token is sent only there).
    assert data["allowedHosts"] == {"hosts": ["api.calendly.com", "auth.calendly.com"]}
    assert {"language:python", "cdk:python"} <= set(data["tags"])
    assert data["license"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]


def test_suggested_streams_are_the_core_six(data: dict[str, Any]) -> None:
    every = [stream.name for stream in SourceCalendly().streams({"personal_access_token": "unused"})]
    optional = {stream.name for stream in OPTIONAL_STREAMS}
    assert data["suggestedStreams"]["streams"] == [name for name in every if name not in optional]
    assert len(data["suggestedStreams"]["streams"]) == 6


def test_definition_id_is_fixed(data: dict[str, Any]) -> None:
    # Airbyte identifies the connector by this id: changing it makes existing connections point at nothing.
    assert data["definitionId"] == "c8d91032-11d8-435d-a7be-2309c54a4473"


def test_docker_image_tag_matches_the_package_version(data: dict[str, Any], dockerfile: str) -> None:
    assert data["dockerImageTag"] == pyproject_version()
    label = re.search(r"io\.airbyte\.version=(\S+)", dockerfile)
    assert label and label.group(1) == pyproject_version()
    name = re.search(r"io\.airbyte\.name=(\S+)", dockerfile)
    assert name and name.group(1) == data["dockerRepository"]


def test_base_image_is_pinned_and_matches_the_dockerfile(data: dict[str, Any], dockerfile: str) -> None:
    base_image = data["connectorBuildOptions"]["baseImage"]
    assert BASE_IMAGE_RE.match(base_image), base_image
    assert dockerfile_base_image_default(dockerfile) == base_image


def test_documentation_url_matches_the_spec(data: dict[str, Any]) -> None:
    spec = yaml.safe_load((ROOT / "source_calendly" / "spec.yaml").read_text())
    assert data["documentationUrl"] == spec["documentationUrl"]


def test_the_cdk_reads_the_metadata() -> None:
    parsed = MetadataFile.from_file(METADATA_PATH)
    assert parsed.data.language is ConnectorLanguage.PYTHON
    assert parsed.data.connectorBuildOptions is not None
    assert (
        parsed.data.connectorBuildOptions.baseImage
        == yaml.safe_load(METADATA_PATH.read_text())["data"]["connectorBuildOptions"]["baseImage"]
    )


def test_metadata_validates_against_airbytes_schema(metadata: dict[str, Any]) -> None:
    if not (SCHEMA_DIR / "ConnectorMetadataDefinitionV0.yaml").is_file():
        pytest.fail(f"Airbyte's metadata schema is not at {SCHEMA_DIR} (set AIRBYTE_METADATA_SCHEMA_DIR)")
    from jsonschema import Draft7Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schemas = {path.name: yaml.safe_load(path.read_text()) for path in SCHEMA_DIR.glob("*.yaml")}

    def retrieve(uri: str) -> Resource:
        # `$ref`s resolve against each file's `$id` (a URL); its last segment is the file name (.yml -> .yaml).
        return DRAFT7.create_resource(schemas[uri.rsplit("/", 1)[-1].replace(".yml", ".yaml")])

    root = schemas["ConnectorMetadataDefinitionV0.yaml"]
    # The schema's own required lists are the ones checked above without it.
    assert tuple(root["required"]) == SCHEMA_ROOT_REQUIRED
    assert tuple(root["properties"]["data"]["required"]) == SCHEMA_DATA_REQUIRED
    validator = Draft7Validator(root, registry=Registry(retrieve=retrieve), format_checker=FormatChecker())
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(metadata)]
    assert errors == []


# --- Dockerfile and .dockerignore ----------------------------------------------------------------------------------


def test_dockerfile_follows_airbytes_convention(dockerfile: str) -> None:
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("ARG BASE_IMAGE=")
    assert lines[1] == "FROM ${BASE_IMAGE}"
    assert "WORKDIR /airbyte/integration_code" in lines
    entrypoint = re.search(r'^ENV AIRBYTE_ENTRYPOINT="([^"]+)"$', dockerfile, re.MULTILINE)
    assert entrypoint, "ENV AIRBYTE_ENTRYPOINT must be set"
    exec_form = [json.loads(line.removeprefix("ENTRYPOINT ")) for line in lines if line.startswith("ENTRYPOINT ")]
    assert exec_form == [entrypoint.group(1).split()], "ENTRYPOINT (exec form) must run AIRBYTE_ENTRYPOINT"
    assert lines[-1] == "USER airbyte", "the image must end running as the unprivileged airbyte user"
    assert "--require-hashes -r requirements.lock" in dockerfile
    # Never bake the build machine's CA bundle or secrets into the image.
    assert "ca-certificates.crt" not in dockerfile and "secrets" not in dockerfile


def test_dockerignore_is_an_allow_list() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert allowed == {"requirements.lock", "pyproject.toml", "README.md", "main.py", "source_calendly"}


def test_dockerfile_copies_only_allowed_paths(dockerfile: str) -> None:
    copied = {
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
        if not source.startswith("--")
    }
    assert copied == {"requirements.lock", "pyproject.toml", "README.md", "main.py", "source_calendly"}


# --- requirements.lock ---------------------------------------------------------------------------------------------


def parse_requirements_lock() -> dict[tuple[str, str], set[str]]:
    """(name, version) -> hashes of requirements.lock (a package can appear once per marker, e.g. numpy)."""
    text = (ROOT / "requirements.lock").read_text()
    requirements: dict[tuple[str, str], set[str]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", re.sub(r"^#.*$", "", text, flags=re.MULTILINE).strip()):
        head = entry.split("\\", 1)[0].split(";", 1)[0].strip()
        name, version = head.split("==")
        requirements[(normalize(name), version)] = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return requirements


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_lock_pins_uv_lock_runtime_dependencies() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(normalize(package["name"]), []).append(package)
    (project,) = packages["airbyte-source-calendly"]

    # The runtime closure of the project in uv.lock (dev dependencies excluded, extras followed, markers ignored).
    # A dependency on a package locked at several versions (one per marker) names the version it means.
    seen: set[tuple[str, str, str | None]] = set()  # (package, version, extra or None for its base dependencies)
    pending: list[dict[str, Any]] = list(project.get("dependencies", []))
    while pending:
        dependency = pending.pop()
        name = normalize(dependency["name"])
        for package in packages[name]:
            if dependency.get("version", package["version"]) != package["version"]:
                continue
            for extra in [None, *dependency.get("extra", [])]:
                if (name, package["version"], extra) in seen:
                    continue
                seen.add((name, package["version"], extra))
                if extra is None:
                    pending.extend(package.get("dependencies", []))
                else:
                    pending.extend(package.get("optional-dependencies", {}).get(extra, []))
    closure = {(name, version) for name, version, _ in seen}

    requirements = parse_requirements_lock()
    assert set(requirements) == closure
    for (name, version), hashes in requirements.items():
        (package,) = [package for package in packages[name] if package["version"] == version]
        artifacts = [*package.get("wheels", []), package.get("sdist")]
        locked_hashes = {artifact["hash"].removeprefix("sha256:") for artifact in artifacts if artifact}
        assert hashes and hashes <= locked_hashes, name


def test_requirements_lock_is_exactly_uv_export() -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH; the check against uv.lock above still ran")
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "UV_OFFLINE": "1"},
    ).stdout

    def strip_comments(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]

    assert strip_comments((ROOT / "requirements.lock").read_text()) == strip_comments(exported), (
        "requirements.lock is out of date: run `uv export --frozen --no-dev --no-emit-project -o requirements.lock`"
    )
