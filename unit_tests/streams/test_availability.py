"""event_type_memberships, user_availability_schedules, event_type_availability_schedules: one list per parent."""

from __future__ import annotations

from unit_tests.fake_api import ADMIN_USER, API, MEMBER_TOKEN, MEMBER_USER, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, records, run_read, uris, warnings


def event_type(i: int) -> dict:
    return {"uri": f"{API}/event_types/et{i}", "name": f"Type {i}", "created_at": ts(days(-i)),
            "updated_at": ts(days(-i))}  # fmt: skip


def schedule(user: str, name: str) -> dict:
    return {"uri": f"{API}/user_availability_schedules/{name}", "name": name, "default": True, "user": user,
            "timezone": "UTC", "rules": [{"type": "wday", "wday": "monday",
                                          "intervals": [{"from": "09:00", "to": "17:00"}]}]}  # fmt: skip


def test_hosts_of_every_event_type_every_page(api: FakeCalendly) -> None:
    api.event_types = [event_type(1), event_type(2)]
    api.hosts[api.event_types[0]["uri"]] = [
        {"uri": f"{API}/event_type_memberships/h{i}", "event_type": api.event_types[0],
         "member": {"uri": f"{API}/users/u{i}"}} for i in range(120)
    ]  # fmt: skip
    out = run_read(["event_type_memberships"], config(num_workers=3))
    assert len(set(uris(out, "event_type_memberships"))) == 120
    queries = api.paths("/event_type_memberships")
    assert sorted((q["event_type"][0][-3:], q["count"][0], "page_token" in q) for q in queries) == [
        ("et1", "100", False), ("et1", "100", True), ("et2", "100", False)
    ]  # fmt: skip


def test_user_schedules_of_every_member_for_an_admin_without_pagination(api: FakeCalendly) -> None:
    api.user_schedules = {ADMIN_USER: [schedule(ADMIN_USER, "a")], MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"])
    assert uris(out, "user_availability_schedules") == [f"{API}/user_availability_schedules/{n}" for n in "am"]
    assert api.paths("/user_availability_schedules") == [{"user": [ADMIN_USER]}, {"user": [MEMBER_USER]}]


def test_a_member_token_reads_its_own_schedules_and_asks_once_for_anyone_elses(api: FakeCalendly) -> None:
    api.memberships += [{**api.memberships[1], "uri": f"{API}/organization_memberships/m{i}",
                         "user": {"uri": f"{API}/users/u{i}"}} for i in range(5)]  # fmt: skip
    api.user_schedules = {ADMIN_USER: [schedule(ADMIN_USER, "a")], MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"], config(personal_access_token=MEMBER_TOKEN))
    assert uris(out, "user_availability_schedules") == [f"{API}/user_availability_schedules/m"]
    # Its own, then one other user's, refused: nothing more is asked, and it is no reason to warn.
    assert api.paths("/user_availability_schedules") == [{"user": [MEMBER_USER]}, {"user": [ADMIN_USER]}]
    assert not [w for w in warnings(out) if w.startswith("Skipping")]


def test_a_member_token_reads_everyones_schedules_where_calendly_shows_them(api: FakeCalendly) -> None:
    api.availability_of_others = True
    api.user_schedules = {ADMIN_USER: [schedule(ADMIN_USER, "a")], MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"], config(personal_access_token=MEMBER_TOKEN))
    assert sorted(uris(out, "user_availability_schedules")) == [f"{API}/user_availability_schedules/{n}" for n in "am"]


def test_event_type_schedules_carry_their_event_type_and_rule_uri_top_level(api: FakeCalendly) -> None:
    api.event_types = [event_type(1), event_type(2)]
    rule = {"uri": f"{API}/user_availability_schedules/a", "user": ADMIN_USER, "timezone": "UTC", "rules": []}
    api.event_type_schedules = {
        api.event_types[0]["uri"]: [{"event_type": api.event_types[0]["uri"], "availability_setting": "host",
                                     "availability_rule": rule}],
        api.event_types[1]["uri"]: [{"availability_setting": "host", "availability_rule": rule}],
    }  # fmt: skip
    api.event_type_schedules[api.event_types[1]["uri"]].append({"availability_setting": "host"})  # no rule
    out = run_read(["event_type_availability_schedules"])
    emitted = records(out, "event_type_availability_schedules")
    assert [r["event_type"] for r in emitted] == [t["uri"] for t in api.event_types] + [api.event_types[1]["uri"]]
    # The flat primary key's second half: the rule's URI, top-level; absent (a null the CDK drops) without a rule.
    assert [r.get("availability_rule_uri") for r in emitted] == [rule["uri"], rule["uri"], None]
    assert emitted[0]["availability_rule"] == rule
    assert all(set(q) == {"event_type"} for q in api.paths("/event_type_availability_schedules"))


def member(i: int) -> dict:
    return {"uri": f"{API}/organization_memberships/m{i}", "role": "user", "organization": f"{API}/organizations/org-1",
            "user": {"uri": f"{API}/users/u{i}", "name": f"User {i}"}}  # fmt: skip


def test_a_member_token_that_may_see_others_reads_every_users_schedules(api: FakeCalendly) -> None:
    api.availability_of_others = True
    api.memberships += [member(i) for i in range(3)]
    users = [MEMBER_USER, ADMIN_USER] + [f"{API}/users/u{i}" for i in range(3)]
    api.user_schedules = {user: [schedule(user, f"s{n}")] for n, user in enumerate(users)}
    out = run_read(["user_availability_schedules"], config(personal_access_token=MEMBER_TOKEN, num_workers=2))
    # Its own first, then the first other user's alone, then the rest: each user asked once.
    assert uris(out, "user_availability_schedules") == [f"{API}/user_availability_schedules/s{n}" for n in range(5)]
    assert api.paths("/user_availability_schedules") == [{"user": [user]} for user in users]


def test_a_member_refused_other_users_schedules_is_told_so_once_in_the_log(api: FakeCalendly) -> None:
    api.user_schedules = {MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"], config(personal_access_token=MEMBER_TOKEN))
    notes = [m.log.message for m in out.logs if "only its own user's schedules" in m.log.message]
    assert notes == [
        "Stream user_availability_schedules: Calendly shows this token only its own user's schedules (Max Member); "
        "other users' need a token of an admin or owner."
    ]


def test_a_member_alone_in_the_organization_reads_its_own_schedules(api: FakeCalendly) -> None:
    api.memberships = [m for m in api.memberships if m["user"]["uri"] == MEMBER_USER]
    api.user_schedules = {MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"], config(personal_access_token=MEMBER_TOKEN))
    assert not out.errors
    assert uris(out, "user_availability_schedules") == [f"{API}/user_availability_schedules/m"]
    assert api.paths("/user_availability_schedules") == [{"user": [MEMBER_USER]}]


def test_a_membership_without_a_user_uri_asks_for_no_schedules(api: FakeCalendly) -> None:
    # Served as is (the fake looks memberships up by their user's uri): the role lookup, then the listing.
    own = {"collection": [api.memberships[0]], "pagination": {"next_page_token": None}}
    odd = [{**member(8), "user": {"name": "Pending"}}, {**member(9), "user": None}]
    listing = {"collection": [*api.memberships, *odd], "pagination": {"next_page_token": None}}
    api.faults += [Fault("^/organization_memberships$", 200, own, query_has="user"),
                   Fault("^/organization_memberships$", 200, listing)]  # fmt: skip
    api.user_schedules = {ADMIN_USER: [schedule(ADMIN_USER, "a")], MEMBER_USER: [schedule(MEMBER_USER, "m")]}
    out = run_read(["user_availability_schedules"])
    assert not out.errors and len(uris(out, "user_availability_schedules")) == 2
    assert api.paths("/user_availability_schedules") == [{"user": [ADMIN_USER]}, {"user": [MEMBER_USER]}]
