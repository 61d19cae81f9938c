"""Envelopes, pagination mechanics, full listings against truth, resource shapes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sandbox_helpers import Client

from calendly_sandbox import API_BASE, Sandbox

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
PAGINATION_KEYS = {"count", "next_page", "previous_page", "next_page_token", "previous_page_token"}


def test_users_me_resource_envelope(admin: Client, ro: Sandbox) -> None:
    body = admin.ok("/users/me")
    assert set(body) == {"resource"}
    user = body["resource"]
    assert user == ro.truth.user("admin")
    assert user["resource_type"] == "User"
    assert UUID_RE.match(user["uri"].rsplit("/", 1)[1])
    assert user["uri"].startswith(f"{API_BASE}/users/")
    assert user["current_organization"].startswith(f"{API_BASE}/organizations/")


def test_users_by_uuid(admin: Client, member: Client, ro: Sandbox) -> None:
    me = member.ok("/users/me")["resource"]
    assert admin.ok(f"/users/{me['uri'].rsplit('/', 1)[1]}")["resource"] == me
    solo_owner = ro.truth.user("no_teams")["uri"].rsplit("/", 1)[1]
    assert admin.get(f"/users/{solo_owner}").status_code == 403
    assert admin.get("/users/00000000-0000-4000-8000-000000000000").status_code == 404


def test_organization_resource(admin: Client, client, ro: Sandbox, acme: str, solo: str) -> None:
    org = admin.ok(f"/organizations/{acme.rsplit('/', 1)[1]}")["resource"]
    assert set(org) == {"uri", "kind", "name", "plan", "stage", "created_at", "updated_at"}
    assert (org["name"], org["plan"]) == ("Acme", "enterprise")
    no_teams = client(ro, "no_teams")
    assert no_teams.ok(f"/organizations/{solo.rsplit('/', 1)[1]}")["resource"]["plan"] == "standard"
    assert no_teams.get(f"/organizations/{acme.rsplit('/', 1)[1]}").status_code == 403


def test_default_count_is_20_and_all_keys_present(admin: Client, acme: str) -> None:
    body = admin.ok("/scheduled_events", organization=acme)
    assert set(body) == {"collection", "pagination"}
    assert set(body["pagination"]) == PAGINATION_KEYS
    assert body["pagination"]["count"] == len(body["collection"]) == 20
    assert body["pagination"]["previous_page"] is None and body["pagination"]["previous_page_token"] is None


@pytest.mark.parametrize("count", [1, 7, 100])
def test_count_is_respected_on_every_page(admin: Client, acme: str, ro: Sandbox, count: int) -> None:
    pages = admin.pages("/scheduled_events", organization=acme, count=count)
    total = len(ro.truth.scheduled_events("admin"))
    assert sum(p["pagination"]["count"] for p in pages) == total
    for page in pages:
        assert page["pagination"]["count"] == len(page["collection"])
    assert all(len(p["collection"]) == count for p in pages[:-1])
    assert pages[-1]["pagination"]["next_page"] is None and pages[-1]["pagination"]["next_page_token"] is None


def test_tokens_are_opaque_and_next_page_is_on_api_calendly_com(admin: Client, acme: str) -> None:
    pages = admin.pages("/scheduled_events", organization=acme, count=25, status="active")
    tokens = [p["pagination"]["next_page_token"] for p in pages[:-1]]
    assert len(set(tokens)) == len(tokens)
    for page, token in zip(pages, tokens, strict=False):
        assert re.fullmatch(r"[A-Za-z0-9]{32}", token)
        assert not token.isdigit()
        url = urlsplit(page["pagination"]["next_page"])
        assert (url.scheme, url.netloc, url.path) == ("https", "api.calendly.com", "/scheduled_events")
        query = parse_qs(url.query)
        assert query["page_token"] == [token]
        assert query["count"] == ["25"]
        assert query["organization"] == [acme] and query["status"] == ["active"]
    for page in pages[1:]:
        prev = urlsplit(page["pagination"]["previous_page"])
        assert prev.netloc == "api.calendly.com"


def test_previous_page_returns_the_page_before(admin: Client, acme: str) -> None:
    first = admin.ok("/scheduled_events", organization=acme, count=10)
    second = admin.ok(
        "/scheduled_events", organization=acme, count=10, page_token=first["pagination"]["next_page_token"]
    )
    third = admin.ok(
        "/scheduled_events", organization=acme, count=10, page_token=second["pagination"]["next_page_token"]
    )
    back = admin.ok(
        "/scheduled_events", organization=acme, count=10, page_token=third["pagination"]["previous_page_token"]
    )
    assert back["collection"] == second["collection"]
    again = admin.ok(
        "/scheduled_events", organization=acme, count=10, page_token=back["pagination"]["previous_page_token"]
    )
    assert again["collection"] == first["collection"]
    assert again["pagination"]["previous_page_token"] is None


def test_page_token_can_be_retried(admin: Client, acme: str) -> None:
    token = admin.ok("/scheduled_events", organization=acme)["pagination"]["next_page_token"]
    a = admin.ok("/scheduled_events", organization=acme, page_token=token)
    b = admin.ok("/scheduled_events", organization=acme, page_token=token)
    assert a["collection"] == b["collection"]


@pytest.mark.parametrize("label", ["admin", "member", "no_teams", "no_routing_scope"])
def test_full_listings_equal_truth(ro: Sandbox, client, label: str) -> None:
    c = client(ro, label)
    me = c.ok("/users/me")["resource"]
    org, user = me["current_organization"], me["uri"]
    admin_like = label != "member"
    scope = {"organization": org} if admin_like else {"user": user}
    assert c.all("/scheduled_events", count=100, **scope) == ro.truth.scheduled_events(label)
    assert c.all("/event_types", count=13, **scope) == ro.truth.event_types(label)
    assert c.all("/organization_memberships", organization=org, count=3) == ro.truth.organization_memberships(label)
    events = ro.truth.scheduled_events(label)
    for event in events[:10]:
        uuid = event["uri"].rsplit("/", 1)[1]
        assert c.all(f"/scheduled_events/{uuid}/invitees", count=2) == ro.truth.invitees(event["uri"])


def test_routing_listings_equal_truth(admin: Client, ro: Sandbox, acme: str) -> None:
    forms = admin.all("/routing_forms", organization=acme, count=1)
    assert forms == ro.truth.routing_forms("admin")
    submissions = [s for f in forms for s in admin.all("/routing_form_submissions", form=f["uri"], count=7)]
    assert submissions == ro.truth.routing_form_submissions("admin")


def test_single_resources_match_listings(admin: Client, ro: Sandbox) -> None:
    event = ro.truth.scheduled_events("admin")[3]
    event_uuid = event["uri"].rsplit("/", 1)[1]
    assert admin.ok(f"/scheduled_events/{event_uuid}")["resource"] == event
    invitee = ro.truth.invitees(event["uri"])[0]
    path = f"/scheduled_events/{event_uuid}/invitees/{invitee['uri'].rsplit('/', 1)[1]}"
    assert admin.ok(path)["resource"] == invitee
    event_type = ro.truth.event_types("admin")[0]
    assert admin.ok(f"/event_types/{event_type['uri'].rsplit('/', 1)[1]}")["resource"] == event_type
    form = ro.truth.routing_forms("admin")[0]
    assert admin.ok(f"/routing_forms/{form['uri'].rsplit('/', 1)[1]}")["resource"] == form
    submission = ro.truth.routing_form_submissions("admin")[0]
    assert admin.ok(f"/routing_form_submissions/{submission['uri'].rsplit('/', 1)[1]}")["resource"] == submission
    membership = ro.truth.organization_memberships("admin")[0]
    assert admin.ok(f"/organization_memberships/{membership['uri'].rsplit('/', 1)[1]}")["resource"] == membership


@pytest.mark.parametrize(
    ("count", "message"), [("0", "between"), ("101", "between"), ("abc", "integer"), ("-1", "integer"), ("", "integer")]
)
def test_bad_count_is_400(admin: Client, acme: str, count: str, message: str) -> None:
    response = admin.get("/scheduled_events", organization=acme, count=count)
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Argument"
    assert body["message"] == "The supplied parameters are invalid."
    assert body["details"][0]["parameter"] == "count" and message in body["details"][0]["message"]


@pytest.mark.parametrize("token", ["nonsense", "1", "A" * 32])
def test_unknown_page_token_is_400(admin: Client, acme: str, token: str) -> None:
    response = admin.get("/scheduled_events", organization=acme, page_token=token)
    assert response.status_code == 400
    assert response.json()["details"] == [{"parameter": "page_token", "message": "is invalid"}]


def test_page_token_is_bound_to_user_and_endpoint(admin: Client, ro: Sandbox, client, acme: str) -> None:
    token = admin.ok("/scheduled_events", organization=acme)["pagination"]["next_page_token"]
    other = client(ro, "no_routing_scope")  # an admin of the same org, but another user
    assert other.get("/scheduled_events", organization=acme, page_token=token).status_code == 400
    assert admin.get("/event_types", organization=acme, page_token=token).status_code == 400


def test_all_timestamps_and_ids_have_calendly_format(ro: Sandbox) -> None:
    def walk(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str):
            if key.endswith(("_at", "_time")):
                assert TIME_RE.match(value), (key, value)
            if key in ("uri", "user", "event", "event_type", "organization", "routing_form", "current_organization"):
                assert value.startswith(f"{API_BASE}/"), (key, value)
                assert UUID_RE.match(value.rsplit("/", 1)[1]), (key, value)

    truth = ro.truth
    walk(truth.scheduled_events("admin"))
    walk(truth.event_invitees("admin"))
    walk(truth.event_types("admin"))
    walk(truth.organization_memberships("admin"))
    walk(truth.routing_forms("admin"))
    walk(truth.routing_form_submissions("admin"))


@pytest.mark.parametrize(
    "path", ["/nope", "/scheduled_events/", "/users", "/scheduled_events/abc/nope", "/scheduled_events/a/invitees/b/c"]
)
def test_unknown_paths_are_404(admin: Client, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 404
    assert response.json() == {
        "title": "Resource Not Found",
        "message": "The server could not find the requested resource.",
    }


def test_non_get_is_404(admin: Client) -> None:
    response = admin.session.post(f"{admin.sandbox.url}/scheduled_events", json={}, timeout=10)
    assert response.status_code == 404
