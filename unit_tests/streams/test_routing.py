"""routing_forms and routing_form_submissions: plan gating, scopes, the created_at window."""

from datetime import datetime, timedelta

from airbyte_cdk.models import FailureType

from source_calendly.streams.routing import PLAN_WARNING
from unit_tests.fake_api import API, NOW, ORG, FakeCalendly, Fault, days, ts
from unit_tests.helpers import config, error_messages, failure_types, final_states, records, run_read, uris, warnings

ROUTING = ["routing_forms", "routing_form_submissions"]


def form(i: int) -> dict:
    return {"uri": f"{API}/routing_forms/f{i}", "name": f"Form {i}", "status": "published",
            "created_at": ts(days(-500 + i)), "updated_at": ts(days(-500 + i)), "questions": []}  # fmt: skip


def submission(form_uri: str, uuid: str, created: float, updated: float | None = None) -> dict:
    return {"uri": f"{API}/routing_form_submissions/{uuid}", "routing_form": form_uri,
            "created_at": ts(days(created)), "updated_at": ts(days(updated if updated is not None else created)),
            "questions_and_answers": [], "submitter": None}  # fmt: skip


def seed(api: FakeCalendly, forms: int = 3, per_form: int = 150) -> None:
    api.routing_forms = [form(i) for i in range(forms)]
    for f in api.routing_forms:
        api.submissions[f["uri"]] = [submission(f["uri"], f"{f['uri'][-2:]}-{j}", -300 + j) for j in range(per_form)]


def test_all_forms_and_submissions_on_a_first_sync(api: FakeCalendly) -> None:
    seed(api)
    out = run_read(ROUTING)
    assert len(uris(out, "routing_forms")) == 3
    assert len(set(uris(out, "routing_form_submissions"))) == 450
    assert all(
        q["count"] == ["100"] and q["sort"] == ["created_at:desc"] for q in api.paths("/routing_form_submissions")
    )


def test_start_date_bounds_the_first_sync_of_submissions_by_creation_time(api: FakeCalendly) -> None:
    seed(api)  # 3 forms, each with submissions created one a day from 300 to 151 days ago
    start = days(-200)
    out = run_read(["routing_form_submissions"], config(start_date=ts(start)[:19] + "Z"))
    expected = {s["uri"] for rows in api.submissions.values() for s in rows if s["created_at"] >= ts(start)}
    assert len(expected) == 3 * 50
    got = uris(out, "routing_form_submissions")
    assert len(got) == len(set(got)) and set(got) == expected
    # Newest first, stopping at start_date: the second page of each form is never requested.
    assert len(api.paths("/routing_form_submissions")) == 3


def test_a_plan_without_routing_forms_skips_both_streams_with_a_warning_and_succeeds(api: FakeCalendly) -> None:
    api.routing_forms = None
    out = run_read([*ROUTING, "organization_memberships"])
    assert not out.errors
    assert records(out, "routing_forms") == [] and records(out, "routing_form_submissions") == []
    assert len(uris(out, "organization_memberships")) == 2
    plan_warnings = [w for w in warnings(out) if "Teams or Enterprise" in w]
    assert len(plan_warnings) == 2  # one per stream


def test_a_refused_sync_leaves_the_submissions_state_where_it_was(api: FakeCalendly) -> None:
    # Plan downgraded (or access lost) for a while: when forms come back, the window must still start at the
    # last sync that really read them, or the submissions made meanwhile would be skipped.
    seed(api, forms=1, per_form=5)
    before = final_states(run_read(["routing_form_submissions"]))["routing_form_submissions"]
    saved = {"routing_form_submissions": before}
    api.routing_forms, api.server_date = None, NOW + timedelta(days=30)
    refused = run_read(["routing_form_submissions"], state=saved)
    assert not refused.errors and any("Teams or Enterprise" in w for w in warnings(refused))
    assert final_states(refused)["routing_form_submissions"] == before
    # Forms are back 30 days on: a submission made while they were refused is caught.
    seed(api, forms=1, per_form=5)
    target = api.routing_forms[0]["uri"]
    api.submissions[target].append(submission(target, "meanwhile", 15))
    back = run_read(
        ["routing_form_submissions"],
        state={"routing_form_submissions": final_states(refused)["routing_form_submissions"]},
    )
    assert f"{API}/routing_form_submissions/meanwhile" in uris(back, "routing_form_submissions")


def test_a_token_without_the_routing_scope_fails_naming_it(api: FakeCalendly) -> None:
    body = {"title": "Insufficient scope", "message": "…", "required_scopes": ["routing_forms:read"]}
    api.faults.append(Fault("/routing_forms", 403, body))
    out = run_read(["routing_forms"], expect_error=True)
    assert "routing_forms:read" in error_messages(out)[0]
    assert failure_types(out)[0] == FailureType.config_error


def test_next_sync_reads_only_the_window_and_catches_new_and_updated_submissions(api: FakeCalendly) -> None:
    seed(api)
    state = final_states(run_read(["routing_form_submissions"]))
    api.server_date = NOW + timedelta(hours=5)
    target = api.routing_forms[1]["uri"]
    api.submissions[target].append(submission(target, "new-one", 0.1))
    recent = api.submissions[target][-2]  # made recent (inside the lookback) and updated after sync 1
    recent.update(created_at=ts(days(-2)), updated_at=ts(days(0.15)))
    api.requests.clear()
    second = run_read(["routing_form_submissions"], config(history_requests=0), state=state)
    assert sorted(uris(second, "routing_form_submissions")) == sorted(
        [recent["uri"], f"{API}/routing_form_submissions/new-one"]
    )
    # Newest first and stopping at the window start: one page per form, not all of them.
    assert len(api.paths("/routing_form_submissions")) == 3


def test_unchanged_submissions_are_not_emitted_again(api: FakeCalendly) -> None:
    seed(api, forms=1, per_form=5)
    for s in api.submissions[api.routing_forms[0]["uri"]]:
        s["created_at"] = s["updated_at"] = ts(days(-1))
    state = final_states(run_read(["routing_form_submissions"]))
    api.server_date = NOW + timedelta(hours=1)
    assert records(run_read(["routing_form_submissions"], state=state), "routing_form_submissions") == []


def test_forms_are_listed_for_the_organization_oldest_first(api: FakeCalendly) -> None:
    seed(api, forms=2, per_form=1)
    run_read(ROUTING)
    [query] = api.paths("/routing_forms")  # once for both streams
    assert query["organization"] == [ORG] and query["sort"] == ["created_at:asc"] and query["count"] == ["100"]


def test_the_plan_warning_says_what_calendly_answered(api: FakeCalendly) -> None:
    api.routing_forms = None
    out = run_read(["routing_forms"])
    assert warnings(out) == [
        PLAN_WARNING.format(detail="HTTP 403: Permission Denied: You do not have permission to access this resource.")
    ]


def test_a_killed_sync_of_submissions_resumes_at_the_form_it_stopped_at(api: FakeCalendly) -> None:
    seed(api, forms=3, per_form=2)
    undated = {**form(3), "created_at": None}  # a form whose creation time cannot be read is never skipped
    api.routing_forms.append(undated)
    api.submissions[undated["uri"]] = [submission(undated["uri"], "undated-0", -300)]
    second_form = api.routing_forms[1]
    checkpoint = {
        "last_sync_started_at": ts(days(-30)),
        "pass": {"started_at": ts(NOW), "window_start": ts(days(-400)), "resume_from": second_form["created_at"]},
    }
    out = run_read(["routing_form_submissions"], state={"routing_form_submissions": checkpoint})
    asked = [q["form"][0] for q in api.paths("/routing_form_submissions")]
    assert asked == [second_form["uri"], api.routing_forms[2]["uri"], undated["uri"]]  # the first form is done
    assert len(uris(out, "routing_form_submissions")) == 5
    assert "pass" not in final_states(out)["routing_form_submissions"]


# The history walk --------------------------------------------------------------------------------------------
# A saved state of a sync that began a day ago: the window starts lookback_days (7) before it, the cursor is
# that sync's newest change and the walk emits what changed after `since` (the start of its previous cycle).
LAST_SYNC = days(-1)
WINDOW_START = LAST_SYNC - timedelta(days=7)
SINCE = days(-20)


def saved_state(position: datetime | None = None) -> dict:
    history = {"since": ts(SINCE)} | ({"position": ts(position)} if position is not None else {})
    return {"updated_at": ts(LAST_SYNC), "last_sync_started_at": ts(LAST_SYNC), "scope": ORG, "history": history}


def walk_seed(api: FakeCalendly, forms: int, recent: int, old: int) -> None:
    """Each form: `recent` submissions created in the window (days -5 to -4) and `old` created before it
    (old k created 100 + k days ago), none changed since it was created."""
    api.routing_forms = [form(i) for i in range(forms)]
    for f in api.routing_forms:
        tag = f["uri"][-2:]
        api.submissions[f["uri"]] = [submission(f["uri"], f"{tag}-new{j}", -5 + j / 100) for j in range(recent)] + [
            submission(f["uri"], f"{tag}-old{k}", -100 - k) for k in range(old)
        ]


def sub(form_index: int, name: str) -> str:
    return f"{API}/routing_form_submissions/f{form_index}-{name}"


def pages_per_form(api: FakeCalendly) -> dict[str, int]:
    asked: dict[str, int] = {}
    for q in api.paths("/routing_form_submissions"):
        asked[q["form"][0]] = asked.get(q["form"][0], 0) + 1
    return asked


def touch(api: FakeCalendly, uri: str, updated: float) -> None:
    [record] = [s for rows in api.submissions.values() for s in rows if s["uri"] == uri]
    record["updated_at"] = ts(days(updated))


def test_the_walk_reads_one_form_past_the_window_start_for_its_share_of_the_history_budget(
    api: FakeCalendly,
) -> None:
    walk_seed(api, forms=3, recent=30, old=250)
    touch(api, sub(0, "new0"), -0.5)  # in the window, changed after the cursor: emitted
    touch(api, sub(0, "new1"), -3)  # in the window, changed before the cursor (already synced): not emitted
    touch(api, sub(0, "old0"), -0.5)  # before the window, changed since the walk last passed: emitted
    touch(api, sub(0, "old5"), -30)  # changed before the walk last passed it: not emitted
    touch(api, sub(0, "old169"), -3)  # the last one the walk's share reaches: emitted though older than the cursor
    touch(api, sub(0, "old170"), -3)  # one past the share: not read
    touch(api, sub(1, "old0"), -3)  # another form's history waits for its turn
    touch(api, sub(1, "new2"), -0.5)
    # history_requests=10: the submissions' share is 1 page past the page where the window start is crossed.
    out = run_read(
        ["routing_form_submissions"], config(history_requests=10), {"routing_form_submissions": saved_state()}
    )
    assert sorted(uris(out, "routing_form_submissions")) == sorted(
        [sub(0, "new0"), sub(0, "old0"), sub(0, "old169"), sub(1, "new2")]
    )
    f0, f1, f2 = (f["uri"] for f in api.routing_forms)
    # The first form (a new cycle): its first page crosses the window start at the 31st submission, then one
    # more page (200 read in all) and no third page; the other forms stop at the window start.
    assert [(q["form"][0], "page_token" in q) for q in api.paths("/routing_form_submissions")] == [
        (f0, False), (f0, True), (f1, False), (f2, False)
    ]  # fmt: skip
    state = final_states(out)["routing_form_submissions"]
    assert state["history"] == {
        "position": api.routing_forms[0]["created_at"],
        "since": ts(SINCE),
        "cycle_began": ts(NOW),
    }
    assert state["updated_at"] == ts(days(-0.5)) and state["last_sync_started_at"] == ts(NOW) and "pass" not in state


def test_the_walk_visits_one_form_per_sync_in_turn_and_starts_over_after_the_last(api: FakeCalendly) -> None:
    walk_seed(api, forms=3, recent=5, old=150)  # the walked form needs a second page; the others do not
    forms = [f["uri"] for f in api.routing_forms]
    created = [f["created_at"] for f in api.routing_forms]
    touch(api, sub(0, "old0"), -3)
    state = {"routing_form_submissions": saved_state()}
    walked, histories, emitted = [], [], []
    for hour in range(4):
        api.server_date = NOW + timedelta(hours=hour)
        if hour == 1:
            touch(api, sub(0, "old1"), 0.5 / 24)  # changed during the first cycle, after the walk passed it
        api.requests.clear()
        out = run_read(["routing_form_submissions"], config(history_requests=10), state)
        state = final_states(out)
        walked.append([uri for uri, pages in pages_per_form(api).items() if pages > 1])
        histories.append(state["routing_form_submissions"]["history"])
        emitted.append(uris(out, "routing_form_submissions"))
    assert walked == [[forms[0]], [forms[1]], [forms[2]], [forms[0]]]
    assert histories == [
        {"position": created[0], "since": ts(SINCE), "cycle_began": ts(NOW)},
        {"position": created[1], "since": ts(SINCE), "cycle_began": ts(NOW)},
        {"since": ts(NOW)},  # the cycle is over: the next emits what changed after it began
        {"position": created[0], "since": ts(NOW), "cycle_began": ts(NOW + timedelta(hours=3))},
    ]
    # The second cycle does not emit old0 again (changed before the first began), but does emit old1.
    assert emitted == [[sub(0, "old0")], [], [], [sub(0, "old1")]]


def test_an_organization_without_forms_yet_syncs_with_the_walk_on(api: FakeCalendly) -> None:
    api.routing_forms = []
    out = run_read(["routing_form_submissions"], state={"routing_form_submissions": saved_state()})
    assert not out.errors and records(out, "routing_form_submissions") == []
    assert api.paths("/routing_form_submissions") == []
    state = final_states(out)["routing_form_submissions"]
    assert state["history"] == {"since": ts(SINCE)} and state["last_sync_started_at"] == ts(NOW)


def test_no_walk_when_the_window_starts_at_start_date(api: FakeCalendly) -> None:
    walk_seed(api, forms=2, recent=5, old=150)
    touch(api, sub(0, "old0"), -3)
    cfg = config(history_requests=10, start_date=ts(WINDOW_START + timedelta(days=1))[:19] + "Z")
    out = run_read(["routing_form_submissions"], cfg, {"routing_form_submissions": saved_state()})
    assert records(out, "routing_form_submissions") == []
    assert pages_per_form(api) == {f["uri"]: 1 for f in api.routing_forms}
    assert final_states(out)["routing_form_submissions"]["history"] == {"since": ts(SINCE)}


def test_the_walk_stops_at_start_date(api: FakeCalendly) -> None:
    # start_date bounds what is synced by creation time: the walk does not read on past it, though the
    # listing (newest first, no time filter) and its share would.
    walk_seed(api, forms=1, recent=5, old=250)
    touch(api, sub(0, "old50"), -3)  # created exactly at start_date: synced
    touch(api, sub(0, "old51"), -3)  # created a day before it: not
    cfg = config(history_requests=10, start_date=ts(days(-150))[:19] + "Z")
    out = run_read(["routing_form_submissions"], cfg, {"routing_form_submissions": saved_state()})
    assert uris(out, "routing_form_submissions") == [sub(0, "old50")]
    assert len(api.paths("/routing_form_submissions")) == 1  # old51 is on the first page: no second one
    # The only form was walked: the next cycle emits what changes after this one began.
    assert final_states(out)["routing_form_submissions"]["history"] == {"since": ts(NOW)}


def test_the_cycle_ends_when_every_form_after_the_last_walked_was_deleted(api: FakeCalendly) -> None:
    # The walk goes on from the first form created after its position; if those forms are gone, the cycle is
    # over (else the walk would stop for good and old submissions would never be re-checked again).
    walk_seed(api, forms=2, recent=5, old=150)
    after_every_form = datetime.fromisoformat(api.routing_forms[-1]["created_at"]) + timedelta(days=1)
    state = {"routing_form_submissions": saved_state(position=after_every_form)}
    out = run_read(["routing_form_submissions"], config(history_requests=10), state)
    assert pages_per_form(api) == {f["uri"]: 1 for f in api.routing_forms}  # nothing left to walk this cycle
    # The cycle began with this sync (the state said none had), so the next emits what changed since then.
    assert final_states(out)["routing_form_submissions"]["history"] == {"since": ts(NOW)}
    api.requests.clear()
    out = run_read(["routing_form_submissions"], config(history_requests=10), final_states(out))
    assert [uri for uri, pages in pages_per_form(api).items() if pages > 1] == [api.routing_forms[0]["uri"]]


def test_a_resumed_sync_leaves_a_form_it_does_not_read_for_the_next_walk(api: FakeCalendly) -> None:
    # A killed sync read the first form, which is also the walk's form (a new cycle), then died. The resumed
    # sync starts at the second form: it walks none rather than the second, which would skip the first's old
    # submissions for the whole cycle.
    walk_seed(api, forms=3, recent=5, old=150)
    checkpoint = saved_state() | {
        "pass": {
            "started_at": ts(NOW),
            "window_start": ts(WINDOW_START),
            "resume_from": api.routing_forms[1]["created_at"],
        }
    }
    out = run_read(["routing_form_submissions"], config(history_requests=10), {"routing_form_submissions": checkpoint})
    assert pages_per_form(api) == {f["uri"]: 1 for f in api.routing_forms[1:]}
    state = final_states(out)["routing_form_submissions"]
    assert "pass" not in state and state["history"] == {"since": ts(SINCE)}
    api.requests.clear()
    run_read(["routing_form_submissions"], config(history_requests=10), {"routing_form_submissions": state})
    assert [uri for uri, pages in pages_per_form(api).items() if pages > 1] == [api.routing_forms[0]["uri"]]
