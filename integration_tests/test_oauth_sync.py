"""OAuth with Calendly's single-use refresh tokens, end to end: the real connector process against the sandbox's
`/oauth/token`, which rotates and revokes refresh tokens, expires access tokens and limits tokens per minute."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.faults import Faults
from calendly_sandbox.oauth import CLIENT_ID, CLIENT_SECRET
from integration_tests.conftest import sandbox_config
from integration_tests.harness import ALL_STREAMS, CONNECTOR_FIELDS, CORE_STREAMS, REPO, Run, catalog, run_connector
from source_calendly.oauth import REAUTHENTICATE

LIFETIME = 2.0  # seconds an access token lives in these tests (Calendly: 7200)


def oauth_config(sandbox: Sandbox, refresh_token: str, **credentials: Any) -> dict[str, Any]:
    return {
        "credentials": {
            "auth_type": "oauth2.0",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": refresh_token,
            **credentials,
        },
        "api_url": sandbox.url,
        "token_url": f"{sandbox.url}/oauth/token",
        "num_workers": 4,
    }


def data(run: Run, stream: str) -> list[str]:
    """The stream's records as sorted JSON, without the fields the connector sets from the sync's own time
    (`_ab_cdc_updated_at` on the per-parent streams): what Calendly served, comparable across two syncs."""
    return sorted(json.dumps({k: v for k, v in r.items() if k not in CONNECTOR_FIELDS}) for r in run.records(stream))


def controls(run: Run) -> list[dict[str, Any]]:
    """The configs of the run's CONTROL (CONNECTOR_CONFIG) messages, in order."""
    return [m["control"]["connectorConfig"]["config"] for m in run.of("CONTROL")]


def token_requests(sandbox: Sandbox) -> list[Any]:
    return [e for e in sandbox.request_log if e.path == "/oauth/token"]


def api_requests(sandbox: Sandbox, status: int | None = None) -> list[Any]:
    return [e for e in sandbox.request_log if e.path.startswith("/") and not e.path.startswith("/oauth/")
            and (status is None or e.status == status)]  # fmt: skip


@pytest.fixture
def oauth_sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(access_token_lifetime_seconds=LIFETIME)


def test_a_sync_that_outlives_several_access_tokens_refreshes_once_per_expiry_and_loses_nothing(
    oauth_sandbox: Sandbox,
) -> None:
    sandbox = oauth_sandbox
    pat_run = run_connector("read", sandbox_config(sandbox, num_workers=4), catalog(ALL_STREAMS))
    assert pat_run.returncode == 0, pat_run.stderr[-2000:]
    assert pat_run.of("CONTROL") == []  # a personal access token never changes the config
    # 80 ms per API request: the sync takes several access-token lifetimes whatever the machine's speed.
    sandbox.set_faults(Faults(latency_ms_median=80, latency_sigma=0.0))
    sandbox.clear_request_log()
    first_refresh_token = sandbox.oauth.grant("admin")["refresh_token"]

    run = run_connector("read", oauth_config(sandbox, first_refresh_token), catalog(ALL_STREAMS))

    assert run.returncode == 0, run.stderr[-2000:]
    configs = controls(run)
    refreshes = token_requests(sandbox)
    assert len(configs) >= 3, "the sync outlived several access tokens"
    assert len(refreshes) == len(configs) and all(e.status == 200 for e in refreshes)
    # Each refresh used the refresh token of the one before (the first, the grant's), and only the last lives.
    issued = sandbox.oauth.issued_refresh_tokens[1:]
    assert [c["credentials"]["refresh_token"] for c in configs] == issued
    assert sandbox.oauth.live_refresh_tokens() == [configs[-1]["credentials"]["refresh_token"]]
    assert configs[-1]["credentials"]["access_token"] == sandbox.oauth.issued_access_tokens[-1]
    # The rest of the config goes back as it came.
    assert {k: v for k, v in configs[-1].items() if k != "credentials"} == {
        k: v for k, v in oauth_config(sandbox, "").items() if k != "credentials"
    }
    # Refreshed ahead of expiry, once per expiry: never a 401, and never two refreshes within one lifetime's
    # first three quarters (the margin is a quarter of the lifetime).
    assert api_requests(sandbox, 401) == []
    gaps = [later.time - earlier.time for earlier, later in pairwise(refreshes)]
    assert all(gap >= 0.75 * LIFETIME - 0.05 for gap in gaps), gaps
    # Nothing lost: the same records and final states as with a personal access token.
    for stream in ALL_STREAMS:
        assert data(run, stream) == data(pat_run, stream), stream
    assert run.states().keys() == pat_run.states().keys()


def test_four_workers_finding_the_access_token_expired_together_refresh_it_once(oauth_sandbox: Sandbox) -> None:
    sandbox = oauth_sandbox
    sandbox.set_oauth(access_token_lifetime_seconds=7200)
    grant = sandbox.oauth.grant("admin")
    # The platform believes the token is good for an hour; Calendly expires it as the invitee fan-out starts,
    # while the four workers' requests are in flight (300 ms each).
    sandbox.oauth.expire_access_tokens_at("/scheduled_events/")
    sandbox.set_faults(Faults(latency_ms_median=300, latency_sigma=0.0, paths=("/scheduled_events/",)))
    config = oauth_config(
        sandbox, grant["refresh_token"], access_token=grant["access_token"], token_expiry_date="2999-01-01T00:00:00Z"
    )

    run = run_connector("read", config, catalog(["scheduled_events", "event_invitees"]))

    assert run.returncode == 0, run.stderr[-2000:]
    rejected = api_requests(sandbox, 401)
    assert len(rejected) >= 2, "several workers found the token expired together"
    assert all(e.endpoint == "/scheduled_events/{uuid}/invitees" for e in rejected)
    assert len(token_requests(sandbox)) == 1 and len(controls(run)) == 1
    # Every rejected request was sent again and answered: nothing lost.
    truth = sandbox.truth.records("scheduled_events", "admin")
    assert len(run.records("scheduled_events")) == len(truth)
    assert len(run.records("event_invitees")) == sum(len(sandbox.truth.invitees(e["uri"])) for e in truth)


def test_an_access_token_refused_again_after_a_refresh_ends_the_sync_instead_of_looping(
    oauth_sandbox: Sandbox,
) -> None:
    sandbox = oauth_sandbox
    grant = sandbox.oauth.grant("admin")
    sandbox.oauth.api_accepts_tokens = False  # the user revoked the app's access in Calendly
    sandbox.clear_request_log()

    run = run_connector("read", oauth_config(sandbox, grant["refresh_token"]), catalog(CORE_STREAMS))

    assert run.returncode != 0
    errors = run.errors()
    assert errors and all(e["failure_type"] == "config_error" for e in errors)
    assert all("Re-authenticate the source" in e["message"] for e in errors)
    # The first token for the sync, one more after the first 401, that one refused too; then every other stream
    # fails at its first 401 without asking for another token: no loop, no storm.
    assert len(token_requests(sandbox)) == 2
    assert len(api_requests(sandbox, 401)) == 2 + len(CORE_STREAMS) - 1


def test_an_already_used_refresh_token_is_a_config_error_with_one_request(oauth_sandbox: Sandbox) -> None:
    sandbox = oauth_sandbox
    used = sandbox.oauth.grant("admin")["refresh_token"]
    answer = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": used},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 200  # someone else (another copy of the config) used it first
    sandbox.clear_request_log()

    for command, extra in (("read", catalog(CORE_STREAMS)), ("check", None)):
        run = run_connector(command, oauth_config(sandbox, used), extra)
        if command == "read":
            assert run.returncode != 0
            errors = run.errors()  # one per stream (the CDK goes on to the next), then the sync's summary
            assert len(errors) == len(CORE_STREAMS) + 1
            assert all(e["failure_type"] == "config_error" for e in errors)
            assert [e["message"] for e in errors[:-1]] == [REAUTHENTICATE] * len(CORE_STREAMS)
            assert "refused the OAuth refresh token (invalid_grant)" in errors[-1]["message"]
        else:
            [status] = [m["connectionStatus"] for m in run.of("CONNECTION_STATUS")]
            assert status["status"] == "FAILED" and "Re-authenticate" in status["message"]
        assert run.of("CONTROL") == [] and run.of("RECORD") == []
    # One token request per run, and not one API request: no retry storm.
    assert [e.status for e in sandbox.request_log] == [400, 400]


def test_a_sync_killed_right_after_a_refresh_resumes_with_the_config_of_its_last_control_message(
    oauth_sandbox: Sandbox,
) -> None:
    sandbox = oauth_sandbox
    sandbox.set_oauth(access_token_lifetime_seconds=7200)
    first_refresh_token = sandbox.oauth.grant("admin")["refresh_token"]
    granted = set(sandbox.oauth.issued_access_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        config_path, catalog_path = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config_path.write_text(json.dumps(oauth_config(sandbox, first_refresh_token)))
        catalog_path.write_text(json.dumps(catalog(CORE_STREAMS)))
        args = [
            sys.executable,
            str(REPO / "main.py"),
            "read",
            "--config",
            str(config_path),
            "--catalog",
            str(catalog_path),
        ]
        with subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        ) as process:
            killed: list[str] = []

            def kill_at_first_use(token: str) -> None:
                # The moment Calendly sees the refreshed access token, before it answers: the harshest kill.
                if token not in granted and not killed:
                    killed.append(token)
                    os.kill(process.pid, signal.SIGKILL)

            sandbox.oauth.on_first_use = kill_at_first_use
            stdout, _ = process.communicate(timeout=120)
        sandbox.oauth.on_first_use = None
    assert killed and process.returncode == -signal.SIGKILL
    messages = [json.loads(line) for line in stdout.decode().splitlines() if line.strip().startswith("{")]
    [control] = [m["control"]["connectorConfig"]["config"] for m in messages if m["type"] == "CONTROL"]
    # What the platform saved holds the token that was in use, and the refresh token Calendly now expects.
    assert control["credentials"]["access_token"] == killed[0]
    assert sandbox.oauth.live_refresh_tokens() == [control["credentials"]["refresh_token"]]

    resumed = run_connector("read", control, catalog(CORE_STREAMS))

    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.of("CONTROL") == []  # the saved access token is still good: no refresh needed
    truth = sandbox.truth.records("scheduled_events", "admin")
    assert len(resumed.records("scheduled_events")) == len(truth)


def test_no_token_secret_or_refresh_token_appears_in_any_output_even_with_debug(oauth_sandbox: Sandbox) -> None:
    sandbox = oauth_sandbox
    sandbox.set_faults(Faults(latency_ms_median=40, latency_sigma=0.0))
    first = sandbox.oauth.grant("admin")["refresh_token"]
    run = run_connector("read", oauth_config(sandbox, first), catalog(CORE_STREAMS), extra_args=["--debug"])
    assert run.returncode == 0, run.stderr[-2000:]
    failed = run_connector("read", oauth_config(sandbox, first), catalog(CORE_STREAMS), extra_args=["--debug"])
    assert failed.returncode != 0 and failed.errors()  # the spent refresh token: the error path too
    bad_client = oauth_config(sandbox, sandbox.oauth.live_refresh_tokens()[0], client_secret="wrong-secret-3f9a1c")
    refused = run_connector("check", bad_client, extra_args=["--debug"])
    assert "invalid_client" in refused.of("CONNECTION_STATUS")[0]["connectionStatus"]["message"]

    secrets = {CLIENT_SECRET, "wrong-secret-3f9a1c", *sandbox.oauth.issued_access_tokens}
    secrets |= set(sandbox.oauth.issued_refresh_tokens)
    assert len(controls(run)) >= 2 and run.of("LOG"), "the scan needs refreshes and logs to look at"
    for each in (run, failed, refused):
        # Everything but the CONTROL messages, which carry the config to the platform by design.
        shown = [line for line in each.stdout.splitlines() if '"type":"CONTROL"' not in line.replace(" ", "")]
        assert len(shown) < len(each.stdout.splitlines()) or each is not run
        text = "\n".join(shown) + each.stderr
        leaked = [s[:16] for s in secrets if s in text]
        assert leaked == [], leaked
    # The CONTROL messages do carry the rotated tokens (so the scan above was not looking at nothing).
    assert controls(run)[-1]["credentials"]["refresh_token"] in sandbox.oauth.issued_refresh_tokens


def test_check_reports_the_same_capabilities_with_oauth_as_with_a_personal_access_token(
    oauth_sandbox: Sandbox,
) -> None:
    sandbox = oauth_sandbox
    for label in ("admin", "member"):
        pat = run_connector("check", sandbox_config(sandbox, getattr(sandbox.tokens, label)))
        oauth = run_connector("check", oauth_config(sandbox, sandbox.oauth.grant(label)["refresh_token"]))
        for run in (pat, oauth):
            assert run.of("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
        refreshed = [line for line in oauth.logs() if line.startswith("Got a new Calendly access token")]
        assert len(refreshed) == 1
        assert [line for line in oauth.logs() if line not in refreshed] == pat.logs(), label
        assert len(controls(oauth)) == 1 and pat.of("CONTROL") == []


def test_a_personal_access_token_config_from_before_credentials_syncs_unchanged(
    oauth_sandbox: Sandbox,
) -> None:
    sandbox = oauth_sandbox
    legacy = sandbox_config(sandbox)  # {"personal_access_token": ..., "api_url": ...}
    assert "credentials" not in legacy
    current = {
        "credentials": {"auth_type": "personal_access_token", "personal_access_token": sandbox.tokens.admin},
        "api_url": sandbox.url,
    }
    old, new = (run_connector("read", cfg, catalog(CORE_STREAMS)) for cfg in (legacy, current))
    for run in (old, new):
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.of("CONTROL") == []  # migrated in memory only: nothing for the platform to save
    assert {s: sorted(map(json.dumps, old.records(s))) for s in CORE_STREAMS} == {
        s: sorted(map(json.dumps, new.records(s))) for s in CORE_STREAMS
    }
    assert old.states().keys() == new.states().keys()
