"""organization, users, groups, group_relationships, organization_invitations, teams, webhook_subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_calendly import SourceCalendly
from unit_tests.fake_api import ADMIN_USER, API, MEMBER_TOKEN, MEMBER_USER, ORG, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, records, run_read, uris, warnings


def test_organization_is_one_record_from_its_own_path(api: FakeCalendly) -> None:
    out = run_read(["organization"])
    [organization] = records(out, "organization")
    assert organization["uri"] == ORG and organization["plan"] == "enterprise"
    assert [p for p, _ in api.requests if p.startswith("/organizations/")] == ["/organizations/org-1"]


def test_users_cost_no_request_of_their_own(api: FakeCalendly) -> None:
    out = run_read(["users", "organization_memberships"])
    assert uris(out, "users") == [ADMIN_USER, MEMBER_USER]
    assert records(out, "users")[0] == api.memberships[0]["user"]
    listing = [q for q in api.paths("/organization_memberships") if "user" not in q]
    assert len(listing) == 1  # one page, read once for both streams
    assert not [p for p, _ in api.requests if p.startswith("/users/") and p != "/users/me"]


def test_a_member_token_gets_every_user_as_it_gets_every_membership(api: FakeCalendly) -> None:
    out = run_read(["users"], config(personal_access_token=MEMBER_TOKEN))
    assert uris(out, "users") == [ADMIN_USER, MEMBER_USER]


def test_groups_and_relationships_every_page_with_the_organization(api: FakeCalendly) -> None:
    api.groups = [{"uri": f"{API}/groups/g{i}", "name": f"G{i}", "organization": ORG} for i in range(130)]
    api.group_relationships = [
        {"uri": f"{API}/group_relationships/r{i}", "role": "member", "group": f"{API}/groups/g{i}",
         "owner": {"type": "OrganizationInvitation", "uri": f"{ORG}/invitations/i{i}", "email": "x@example.com"}}
        for i in range(30)
    ]  # fmt: skip
    out = run_read(["groups", "group_relationships"])
    assert len(set(uris(out, "groups"))) == 130 and len(uris(out, "group_relationships")) == 30
    assert [(q["organization"], q["count"]) for q in api.paths("/groups")] == [([ORG], ["100"])] * 2
    assert api.paths("/group_relationships") == [{"organization": [ORG], "count": ["100"]}]


def test_invitations_of_the_organization(api: FakeCalendly) -> None:
    api.invitations = [
        {"uri": f"{ORG}/invitations/i{i}", "email": f"p{i}@example.com", "status": "pending",
         "created_at": ts(days(-i)), "updated_at": ts(days(-i)), "last_sent_at": None}
        for i in range(3)
    ]  # fmt: skip
    out = run_read(["organization_invitations"])
    assert uris(out, "organization_invitations") == [i["uri"] for i in api.invitations]
    assert api.paths("/organizations/org-1/invitations") == [{"count": ["100"]}]


def test_teams_as_calendly_lists_them_without_a_user_filter(api: FakeCalendly) -> None:
    api.teams = [{"uri": f"{API}/teams/t{i}", "name": f"Team {i}"} for i in range(120)]
    assert len(uris(run_read(["teams"]), "teams")) == 120
    member = run_read(["teams"], config(personal_access_token=MEMBER_TOKEN))
    assert len(uris(member, "teams")) == 120
    assert api.paths("/teams") == [{"count": ["100"]}, {"count": ["100"], "page_token": ["MTAw"]}] * 2
    assert not [w for w in warnings(member) if w.startswith("Skipping")]


def hook(uuid: str, scope: str, user: str | None = None, group: str | None = None) -> dict:
    return {"uri": f"{API}/webhook_subscriptions/{uuid}", "callback_url": f"https://hooks.example/{uuid}",
            "events": ["invitee.created"], "scope": scope, "state": "active", "user": user, "group": group}  # fmt: skip


def test_webhook_subscriptions_of_all_three_scopes_per_member_and_per_group(api: FakeCalendly) -> None:
    groups = [f"{API}/groups/g{i}" for i in range(2)]
    api.groups = [{"uri": uri, "name": uri[-2:], "organization": ORG} for uri in groups]
    api.webhooks = [hook("w-org", "organization"), hook("w-max", "user", user=MEMBER_USER),
                    hook("w-ada", "user", user=ADMIN_USER), hook("w-g1", "group", group=groups[1])]  # fmt: skip
    out = run_read(["webhook_subscriptions", "organization_memberships", "groups"])
    assert uris(out, "webhook_subscriptions") == [f"{API}/webhook_subscriptions/{u}" for u in
                                                   ("w-org", "w-ada", "w-max", "w-g1")]  # fmt: skip
    common = {"organization": [ORG], "count": ["100"]}
    assert api.paths("/webhook_subscriptions") == [
        {**common, "scope": ["organization"]},
        {**common, "scope": ["user"], "user": [ADMIN_USER]},
        {**common, "scope": ["user"], "user": [MEMBER_USER]},
        {**common, "scope": ["group"], "group": [groups[0]]},
        {**common, "scope": ["group"], "group": [groups[1]]},
    ]
    # The members and the groups are listed once, for their own streams and for the subscriptions.
    assert len([q for q in api.paths("/organization_memberships") if "user" not in q]) == 1
    assert len(api.paths("/groups")) == 1


def test_webhook_subscriptions_alone_list_the_members_and_groups_themselves(api: FakeCalendly) -> None:
    api.groups = [{"uri": f"{API}/groups/g0", "name": "G", "organization": ORG}]
    api.webhooks = [hook("w-g0", "group", group=f"{API}/groups/g0")]
    out = run_read(["webhook_subscriptions"])
    assert uris(out, "webhook_subscriptions") == [f"{API}/webhook_subscriptions/w-g0"]
    assert len(api.paths("/webhook_subscriptions")) == 4 and len(api.paths("/groups")) == 1


def test_webhook_subscriptions_without_groups_on_the_plan_read_the_other_scopes_without_a_warning(
    api: FakeCalendly,
) -> None:
    api.plan = "standard"  # no groups: nothing can be subscribed per group
    api.webhooks = [hook("w-org", "organization"), hook("w-ada", "user", user=ADMIN_USER)]
    out = run_read(["webhook_subscriptions"])
    assert uris(out, "webhook_subscriptions") == [f"{API}/webhook_subscriptions/{u}" for u in ("w-org", "w-ada")]
    assert not [w for w in warnings(out) if "webhook_subscriptions" in w]


def test_webhook_subscriptions_without_groups_read_warn_that_group_scoped_ones_were_not_read(
    api: FakeCalendly,
) -> None:
    api.missing_scopes = {"groups:read"}
    api.webhooks = [hook("w-org", "organization")]
    out = run_read(["webhook_subscriptions"])
    assert not out.errors and uris(out, "webhook_subscriptions") == [f"{API}/webhook_subscriptions/w-org"]
    [warning] = [w for w in warnings(out) if "webhook_subscriptions" in w]
    assert "group-scoped subscriptions were not read" in warning and "groups:read" in warning


def test_webhook_subscriptions_do_not_ask_again_for_groups_the_groups_stream_was_refused(api: FakeCalendly) -> None:
    api.plan = "professional"
    out = run_read(["groups", "webhook_subscriptions"])
    assert not out.errors and len(api.paths("/groups")) == 1  # the groups stream's refusal, not asked again
    assert len(api.paths("/webhook_subscriptions")) == 3  # the organization, then each of the two members


def test_a_member_token_reads_its_own_user_scoped_subscriptions_in_one_request(api: FakeCalendly) -> None:
    api.webhooks = [hook("w-org", "organization"), hook("w-max", "user", user=MEMBER_USER),
                    hook("w-ada", "user", user=ADMIN_USER)]  # fmt: skip
    out = run_read(["webhook_subscriptions"], config(personal_access_token=MEMBER_TOKEN))
    assert not out.errors and uris(out, "webhook_subscriptions") == [f"{API}/webhook_subscriptions/w-max"]
    assert api.paths("/webhook_subscriptions") == [
        {"organization": [ORG], "scope": ["user"], "user": [MEMBER_USER], "count": ["100"]}
    ]
    assert not api.paths("/groups") and not warnings(out)
    [said] = [m.log.message for m in out.logs if "only their own user-scoped" in m.log.message]
    assert "Max Member" in said


# webhook_subscriptions incrementally (source_calendly/streams/tracked.py) ----------------------------------------
HOOKS = "webhook_subscriptions"
GROUP = f"{API}/groups/g0"


def hooks_sync(state: Mapping[str, Any] | None = None, **overrides: Any) -> tuple[EntrypointOutput, dict[str, Any]]:
    """One incremental sync of webhook_subscriptions alone; no rotation unless history_requests is given."""
    catalog = CatalogBuilder().with_stream(HOOKS, SyncMode.incremental).build()
    messages = StateBuilder().with_stream_state(HOOKS, dict(state)).build() if state else None
    out = read(SourceCalendly(), config(**{"history_requests": 0, **overrides}), catalog, messages)
    assert not out.errors
    states = [m.state.stream.stream_state for m in out.state_messages]
    return out, states[-1].__dict__


def hook_listings(api: FakeCalendly) -> list[str]:
    """Which scope value each subscription listing asked for: the organization, a user or a group."""
    return [(q.get("user") or q.get("group") or q["organization"])[0] for q in api.paths("/webhook_subscriptions")]


def gone(out: EntrypointOutput) -> list[str]:
    return sorted(r["uri"] for r in records(out, HOOKS) if r.get("_ab_cdc_deleted_at"))


@pytest.fixture
def subscribed(api: FakeCalendly) -> FakeCalendly:
    api.groups = [{"uri": GROUP, "name": "G", "organization": ORG}]
    api.webhooks = [hook("w-org", "organization"), hook("w-ada", "user", user=ADMIN_USER),
                    hook("w-max", "user", user=MEMBER_USER), hook("w-g0", "group", group=GROUP)]  # fmt: skip
    return api


def test_incremental_webhook_subscriptions_first_read_every_scope_then_only_the_organization(
    subscribed: FakeCalendly,
) -> None:
    out, state = hooks_sync()
    emitted = records(out, HOOKS)
    assert [r["uri"].rsplit("/", 1)[-1] for r in emitted] == ["w-org", "w-ada", "w-max", "w-g0"]
    assert all(r["_ab_cdc_updated_at"] and "_ab_cdc_deleted_at" not in r for r in emitted)
    assert hook_listings(subscribed) == [ORG, ADMIN_USER, MEMBER_USER, GROUP]
    assert state["codecs"]["parent"] == [f"{API}/users/"]  # the many parents' prefix, kept once
    assert {"admin-1", "member-1"} <= set(state["parents"])
    subscribed.requests.clear()
    out, after = hooks_sync(state)
    assert records(out, HOOKS) == []  # nothing changed: nothing emitted
    assert hook_listings(subscribed) == [ORG]  # unchanged members and groups cost nothing
    assert after["parents"] == state["parents"]


def test_incremental_webhook_subscriptions_tombstone_an_organization_subscription_gone_at_once(
    subscribed: FakeCalendly,
) -> None:
    _, state = hooks_sync()
    subscribed.webhooks = [w for w in subscribed.webhooks if w["uri"] != f"{API}/webhook_subscriptions/w-org"]
    subscribed.webhooks.append(hook("w-org2", "organization"))
    out, _ = hooks_sync(state)
    assert gone(out) == [f"{API}/webhook_subscriptions/w-org"]
    assert [r["uri"] for r in records(out, HOOKS) if not r.get("_ab_cdc_deleted_at")] == [
        f"{API}/webhook_subscriptions/w-org2"
    ]


def test_incremental_webhook_subscriptions_tombstone_a_removed_member_and_a_deleted_group(
    subscribed: FakeCalendly,
) -> None:
    _, state = hooks_sync()
    subscribed.memberships = subscribed.memberships[:1]  # Max leaves; his subscription goes with him
    subscribed.groups = []
    subscribed.requests.clear()
    out, after = hooks_sync(state)
    assert gone(out) == [f"{API}/webhook_subscriptions/w-g0", f"{API}/webhook_subscriptions/w-max"]
    assert hook_listings(subscribed) == [ORG]  # concluded from the listings alone
    assert len(after["parents"]) == 2  # the organization and Ada


def test_incremental_webhook_subscriptions_keep_the_groups_theirs_when_the_groups_listing_is_refused(
    subscribed: FakeCalendly,
) -> None:
    _, state = hooks_sync()
    subscribed.missing_scopes = {"groups:read"}
    out, after = hooks_sync(state)
    assert gone(out) == [] and after["parents"] == state["parents"]
    assert any("group-scoped subscriptions were not read" in w for w in warnings(out))


def test_incremental_webhook_subscriptions_a_refused_member_gets_no_tombstone(subscribed: FakeCalendly) -> None:
    _, state = hooks_sync()
    subscribed.webhooks = [w for w in subscribed.webhooks if w["scope"] != "user"]
    subscribed.faults.append(Fault("/webhook_subscriptions", 403, {"title": "Permission Denied", "message": "x"},
                                   query_has=f"user={MEMBER_USER}"))  # fmt: skip
    subscribed.requests.clear()
    out, after = hooks_sync(state, history_requests=60)  # a share of three: every member and group re-read
    assert sorted(hook_listings(subscribed)) == sorted([ORG, ADMIN_USER, MEMBER_USER, GROUP])
    assert gone(out) == [f"{API}/webhook_subscriptions/w-ada"]  # read completely: gone; Max's: refused, kept
    assert any(MEMBER_USER in w for w in warnings(out))
    max_id = next(pid for pid in state["parents"] if MEMBER_USER.rsplit("/", 1)[-1] in pid)
    assert after["parents"][max_id] == state["parents"][max_id]


def test_incremental_webhook_subscriptions_rotation_finds_a_new_member_subscription_within_its_bound(
    subscribed: FakeCalendly,
) -> None:
    _, state = hooks_sync()
    subscribed.webhooks.append(hook("w-max2", "user", user=MEMBER_USER))
    bound = 3  # members and groups, one re-read per sync (history_requests 20: a share of one)
    arrived_at = None
    for n in range(1, bound + 1):
        subscribed.requests.clear()
        out, state = hooks_sync(state, history_requests=20)
        assert len(hook_listings(subscribed)) == 2  # the organization and one parent of the rotation
        if uris(out, HOOKS):
            assert uris(out, HOOKS) == [f"{API}/webhook_subscriptions/w-max2"] and arrived_at is None
            arrived_at = n
    assert arrived_at is not None


def test_incremental_webhook_subscriptions_of_a_member_token_read_its_own_user_every_sync(
    subscribed: FakeCalendly,
) -> None:
    _, state = hooks_sync(personal_access_token=MEMBER_TOKEN)
    subscribed.webhooks = [w for w in subscribed.webhooks if w["uri"] != f"{API}/webhook_subscriptions/w-max"]
    subscribed.requests.clear()
    out, _ = hooks_sync(state, personal_access_token=MEMBER_TOKEN)
    assert hook_listings(subscribed) == [MEMBER_USER]
    assert not [q for q in subscribed.paths("/organization_memberships") if "user" not in q]  # no members listed
    assert gone(out) == [f"{API}/webhook_subscriptions/w-max"]
