"""The sandbox's OAuth server over real HTTP: consent redirect, both grants, rotation, revocation, limits, errors."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.oauth import CLIENT_ID, CLIENT_SECRET, INVALID_CLIENT, INVALID_GRANT, REDIRECT_URI


def token(
    sandbox: Sandbox, auth: tuple[str, str] | None = (CLIENT_ID, CLIENT_SECRET), **form: str
) -> requests.Response:
    return requests.post(f"{sandbox.url}/oauth/token", data=form, auth=auth, timeout=10)


def consent(sandbox: Sandbox, **query: str) -> requests.Response:
    params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, **query}
    return requests.get(f"{sandbox.url}/oauth/authorize", params=params, allow_redirects=False, timeout=10)


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox(rate_limit_per_minute=None)


def test_consent_redirects_with_a_code_and_the_state_and_the_code_gets_tokens_once(sandbox: Sandbox) -> None:
    answer = consent(sandbox, state="xyz")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    code = params["code"][0]

    granted = token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert granted.status_code == 200
    body = granted.json()
    assert set(body) == {
        "token_type", "access_token", "refresh_token", "scope", "created_at", "expires_in", "owner", "organization"
    }  # fmt: skip
    assert body["token_type"] == "Bearer" and body["expires_in"] == 7200
    assert body["owner"] == sandbox.store.token_users["admin"]
    me = requests.get(
        f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["resource"]["uri"] == body["owner"]

    again = token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant", "error_description": INVALID_GRANT}


def test_consent_refuses_an_unregistered_redirect_uri_without_redirecting(sandbox: Sandbox) -> None:
    answer = consent(sandbox, redirect_uri="https://evil.example/cb")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_refresh_rotates_both_tokens_and_revokes_the_refresh_token_it_used(sandbox: Sandbox) -> None:
    first = sandbox.oauth.grant("member")
    second = token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"] and new["access_token"] != first["access_token"]
    assert new["owner"] == sandbox.store.token_users["member"]
    reused = token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert sandbox.oauth.live_refresh_tokens() == [new["refresh_token"]]


def test_client_credentials_are_checked_in_the_basic_header_or_the_body(sandbox: Sandbox) -> None:
    refresh = sandbox.oauth.grant()["refresh_token"]
    wrong = token(sandbox, auth=(CLIENT_ID, "nope"), grant_type="refresh_token", refresh_token=refresh)
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client", "error_description": INVALID_CLIENT}
    missing = token(sandbox, auth=None, grant_type="refresh_token", refresh_token=refresh)
    assert missing.status_code == 401
    in_body = token(
        sandbox, auth=None, grant_type="refresh_token", refresh_token=refresh, client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )  # fmt: skip
    assert in_body.status_code == 200  # a refused client did not spend the refresh token


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "x"}, "invalid_grant"),
    ],
)
def test_bad_token_requests_get_rfc_6749_error_bodies(sandbox: Sandbox, form: dict[str, str], error: str) -> None:
    answer = token(sandbox, **form)
    assert answer.status_code == 400 and answer.json()["error"] == error and answer.json()["error_description"]


def test_only_8_tokens_per_user_per_minute_and_a_refused_refresh_token_stays_valid(sandbox: Sandbox) -> None:
    refresh = sandbox.oauth.grant("admin")["refresh_token"]  # the first of the minute
    for _ in range(7):
        answer = token(sandbox, grant_type="refresh_token", refresh_token=refresh)
        assert answer.status_code == 200
        refresh = answer.json()["refresh_token"]
    limited = token(sandbox, grant_type="refresh_token", refresh_token=refresh)
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Limit"] == "8" and 1 <= int(limited.headers["X-RateLimit-Reset"]) <= 60
    assert sandbox.oauth.live_refresh_tokens() == [refresh]
    # Another user has their own 8.
    other = token(sandbox, grant_type="refresh_token", refresh_token=sandbox.oauth.grant("member")["refresh_token"])
    assert other.status_code == 200


def test_the_api_refuses_an_expired_access_token_with_its_own_message(sandbox: Sandbox) -> None:
    sandbox.set_oauth(access_token_lifetime_seconds=3600)
    access = sandbox.oauth.grant()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert requests.get(f"{sandbox.url}/users/me", headers=headers, timeout=10).status_code == 200
    sandbox.oauth.expire_access_tokens()
    expired = requests.get(f"{sandbox.url}/users/me", headers=headers, timeout=10)
    assert expired.status_code == 401 and expired.json()["message"] == "The access token expired"
    unknown = requests.get(f"{sandbox.url}/users/me", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert unknown.json()["message"] == "The access token is invalid"


def test_token_requests_are_logged_but_not_charged_to_the_api_rate_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(rate_limit_per_minute=1)
    refresh = sandbox.oauth.grant()["refresh_token"]
    assert token(sandbox, grant_type="refresh_token", refresh_token=refresh).status_code == 200
    access = sandbox.oauth.issued_access_tokens[-1]
    me = requests.get(f"{sandbox.url}/users/me", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert me.status_code == 200  # the one request of the minute was still there
    assert [(e.endpoint, e.status) for e in sandbox.request_log] == [("/oauth/token", 200), ("/users/me", 200)]


def test_the_control_api_sets_the_lifetime_and_grants(sandbox: Sandbox) -> None:
    answer = requests.post(f"{sandbox.url}/_sandbox/oauth", json={"access_token_lifetime_seconds": 5}, timeout=10)
    assert answer.json()["access_token_lifetime_seconds"] == 5
    granted = requests.post(f"{sandbox.url}/_sandbox/oauth/grant", json={"label": "member"}, timeout=10).json()
    assert granted["expires_in"] == 5 and granted["owner"] == sandbox.store.token_users["member"]
