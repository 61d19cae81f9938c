"""organization, users, groups, group_relationships, organization_invitations, teams, webhook_subscriptions."""

from __future__ import annotations

from unit_tests.fake_api import ADMIN_USER, API, MEMBER_TOKEN, MEMBER_USER, ORG, FakeCalendly, days, ts
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
