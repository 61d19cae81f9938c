"""The README's by-hand commands, taken from the README itself so that they cannot drift from what is tested
(issue 19): the ```bash block that starts the sandbox (`python -m calendly_sandbox serve …`), then the block that
writes secrets/config.json and runs spec, check, discover, a read, `scripts/last_state.py` and the incremental
read from its state; then the container block and the OAuth block (save the last CONTROL message's config), with
the connector's console script in place of `docker run … source-calendly:dev` (the image itself is tested in
test_image.py, which runs the same commands in the container and compares them with the console script's).

The blocks run as written, but for the port: `--port 0` instead of 8765 (a free one), and the printed `url` in
place of http://127.0.0.1:8765 in the config. They run in a temporary directory where `.venv`, `scripts` and
`integration_tests` link to the repository's, so `secrets/` and `messages*.jsonl` land there, not in the repository.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from calendly_sandbox.oauth import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
from integration_tests.harness import REPO

README = REPO / "README.md"
README_PORT = "8765"


def readme_block(containing: str) -> str:
    """The one ```bash block of the README that contains `containing`."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"README: expected one bash block with {containing!r}, found {len(found)}"
    return found[0]


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def like_the_repository(directory: Path) -> Path:
    """A directory like the repository's root for the commands to run in, with nothing of its own."""
    for name in (".venv", "scripts", "integration_tests"):
        (directory / name).symlink_to(REPO / name)
    return directory


def run_block(block: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block], cwd=cwd, capture_output=True, text=True, timeout=280, check=False
    )


def without_docker(block: str) -> str:
    """The block with the console script for each `docker run … source-calendly:dev` and secrets/ for /secrets/."""
    for run in ("docker run --rm --network host -v $PWD/secrets:/secrets source-calendly:dev",
                "docker run --rm -v $PWD/secrets:/secrets source-calendly:dev",
                "docker run --rm source-calendly:dev"):  # fmt: skip
        block = block.replace(run, ".venv/bin/source-calendly")
    block = block.replace(" /secrets/", " secrets/")
    assert "docker" not in block and "/secrets" not in block, f"a docker command this test does not know:\n{block}"
    return block


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return like_the_repository(tmp_path_factory.mktemp("readme"))


@pytest.fixture(scope="module")
def served(workdir: Path) -> Iterator[dict[str, Any]]:
    """The README's `serve` command, on a free port; yields the JSON line it printed."""
    block = readme_block("-m calendly_sandbox serve")
    [command] = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    [printed] = [line.removeprefix("# prints ") for line in block.splitlines() if line.startswith("# prints ")]
    argv = shlex.split(command)
    assert argv[argv.index("--port") + 1] == README_PORT
    argv[argv.index("--port") + 1] = "0"
    process = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()  # one line, once it accepts connections
        assert line, process.stderr.read()
        ready = json.loads(line)
        # What the README says it prints: {"url": "http://127.0.0.1:8765", "tokens": {"admin": "sandbox-admin-token-…"
        assert printed.startswith('{"url": "http://127.0.0.1:8765", "tokens": {"admin": "sandbox-admin-token-')
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", ready["url"])
        assert ready["tokens"]["admin"].startswith("sandbox-admin-token-")
        yield ready
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture(scope="module")
def by_hand(workdir: Path, served: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """The by-hand block, run once; it writes the secrets/config.json the container block uses too."""
    block = readme_block(".venv/bin/source-calendly read")
    readme_url = f"http://127.0.0.1:{README_PORT}"
    assert readme_url in block, "the config must point at the port the README's `serve` command uses"
    return run_block(block.replace(readme_url, served["url"]), workdir)


def assert_spec_check_discover(stdout: str, names: set[str]) -> None:
    answers = [m for m in json_lines(stdout) if m["type"] != "LOG"]
    assert [m["type"] for m in answers] == ["SPEC", "CONNECTION_STATUS", "CATALOG"], stdout[-3000:]
    assert answers[1]["connectionStatus"]["status"] == "SUCCEEDED"
    assert {s["name"] for s in answers[2]["catalog"]["streams"]} == names


def assert_read_then_incremental_read(first_file: Path, second_file: Path, state_file: Path) -> None:
    catalog = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    names = {s["stream"]["name"] for s in catalog["streams"]}
    first, second = json_lines(first_file.read_text()), json_lines(second_file.read_text())
    state = json.loads(state_file.read_text())
    incremental = {s["stream"]["name"] for s in catalog["streams"] if s["sync_mode"] == "incremental"}
    assert incremental <= {s["stream"]["stream_descriptor"]["name"] for s in state}
    assert all(set(s) == {"type", "stream"} for s in state)  # last_state.py drops the CDK's sourceStats

    def incremental_records(messages: list[dict[str, Any]]) -> int:
        return sum(1 for m in messages if m["type"] == "RECORD" and m["record"]["stream"] in incremental)

    assert {m["record"]["stream"] for m in first if m["type"] == "RECORD"} == names  # every stream, reference org
    # Nothing changed in between: from the state, the incremental streams re-emit next to nothing.
    assert incremental_records(first) > 1000 and incremental_records(second) < incremental_records(first) / 10
    assert not [m for m in first + second if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]


def test_the_by_hand_commands_run_as_written(
    workdir: Path, served: dict[str, Any], by_hand: subprocess.CompletedProcess[str]
) -> None:
    done = by_hand
    assert done.returncode == 0, done.stderr[-3000:]
    # The README's config, as written, holds the token the sandbox printed for `admin`.
    config = json.loads((workdir / "secrets" / "config.json").read_text())
    assert config == {"personal_access_token": served["tokens"]["admin"], "api_url": served["url"]}

    # spec, check and discover answered on the terminal (the block's stdout).
    catalog = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    assert_spec_check_discover(done.stdout, {s["stream"]["name"] for s in catalog["streams"]})
    assert_read_then_incremental_read(
        workdir / "messages.jsonl", workdir / "messages-incremental.jsonl", workdir / "secrets" / "state.json"
    )


def test_the_container_commands_run_as_written_with_the_console_script_for_docker_run(
    workdir: Path, by_hand: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    block = readme_block("docker run --rm --network host")
    lines = block.splitlines()
    assert lines[0] == "docker build -t source-calendly:dev ."  # the image: test_image.py builds and runs it
    for command in " ".join(lines).split("docker run")[1:]:
        if "-v $PWD/secrets:/secrets" in command:  # reads the sandbox on the host's 127.0.0.1
            assert command.startswith(" --rm --network host "), command
    # In a directory of its own, with only the secrets/config.json the by-hand block wrote.
    assert by_hand.returncode == 0, by_hand.stderr[-3000:]
    workdir, config = like_the_repository(tmp_path), (workdir / "secrets" / "config.json").read_text()
    (workdir / "secrets").mkdir()
    (workdir / "secrets" / "config.json").write_text(config)
    done = run_block(without_docker("\n".join(lines[1:])), workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    catalog = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    assert json.loads((workdir / "secrets" / "catalog.json").read_text()) == catalog
    assert_spec_check_discover(done.stdout, {s["stream"]["name"] for s in catalog["streams"]})
    assert_read_then_incremental_read(
        workdir / "messages.jsonl", workdir / "messages-incremental.jsonl", workdir / "secrets" / "state.json"
    )


def authenticate(url: str) -> str:
    """Airbyte's "Authenticate your account" against the sandbox, as its admin: a refresh token."""
    consent = requests.get(
        f"{url}/oauth/authorize",
        params={"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "readme",
                "sandbox_user": "admin"},
        allow_redirects=False,
        timeout=10,
    )  # fmt: skip
    code = re.search(r"[?&]code=([^&]+)", consent.headers["Location"])
    assert code, consent.headers["Location"]
    tokens = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "authorization_code", "code": code[1], "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    tokens.raise_for_status()
    return tokens.json()["refresh_token"]


def test_the_oauth_block_saves_the_last_control_messages_config_and_the_next_run_works_with_it(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    workdir = like_the_repository(tmp_path)
    (workdir / "secrets").mkdir()
    catalog = json.loads((REPO / "integration_tests" / "configured_catalog.json").read_text())
    catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] == "event_types"]  # one is enough
    (workdir / "secrets" / "catalog.json").write_text(json.dumps(catalog))
    # The README's OAuth config, with its refresh token and the sandbox as Calendly (and its token URL).
    given = {
        "credentials": {"auth_type": "oauth2.0", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                        "refresh_token": authenticate(served["url"])},
        "start_date": "2024-01-01T00:00:00Z",
        "api_url": served["url"],
        "token_url": f"{served['url']}/oauth/token",
    }  # fmt: skip
    (workdir / "secrets" / "config.json").write_text(json.dumps(given))
    block = without_docker(readme_block('jq -c \'select(.type == "CONTROL")'))

    done = run_block(block, workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    messages = json_lines((workdir / "messages.jsonl").read_text())
    controls = [m["control"]["connectorConfig"]["config"] for m in messages if m["type"] == "CONTROL"]
    saved = json.loads((workdir / "secrets" / "config.json").read_text())
    assert controls and saved == controls[-1]
    assert saved["credentials"]["refresh_token"] != given["credentials"]["refresh_token"]
    assert not (workdir / "new-config.json").exists()
    assert sum(1 for m in messages if m["type"] == "RECORD") > 0

    # The next run, from the saved config: its access token is still good, so no CONTROL message; the block
    # keeps the saved config and removes the empty new-config.json.
    again = run_block(block, workdir)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not (workdir / "new-config.json").exists()
    messages = json_lines((workdir / "messages.jsonl").read_text())
    assert sum(1 for m in messages if m["type"] == "RECORD") > 0
    assert not [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert json.loads((workdir / "secrets" / "config.json").read_text()) == saved
