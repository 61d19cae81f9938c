"""Deterministic dataset: two organizations and everything they own, as the API would return it.

Everything is drawn from one seeded RNG (``records.FastRandom``) and placed relative to ``anchor``
(default: now floored to the minute, UTC), so the same (seed, anchor) always yields identical records.
Timestamps keep Calendly's invariants: ``created_at <= updated_at <= anchor``, a canceled event's
``updated_at`` equals its ``cancellation.created_at``, invitees are created a few milliseconds after their
event, and some events lie in the future (``start_time > anchor``) while having been booked in the past.
"""

from __future__ import annotations

import bisect
import gc
from dataclasses import dataclass, field

from . import vocab
from .coredata import PLANS, CoreDataset, DatasetSpec
from .orgdata import OrgDataset, build_org_data
from .records import (
    LOCATION_KINDS,
    MEMBERSHIP_USER_KEYS,
    FastRandom,
    Record,
    between,
    cancel,
    location_config,
    new_event,
    new_invitee,
    phone,
    slugify,
    tracking,
    uuid4,
    who_of,
)
from .timeutil import DAY, HOUR, MICROS, MINUTE, fmt
from .tokens import API_BASE

QUARTER = 15 * MINUTE


@dataclass
class Dataset(CoreDataset):
    """The core records plus the newer resources drawn from them."""

    org: OrgDataset = field(default_factory=OrgDataset)  # groups, contacts, activity log... (orgdata.py)


class _Generator:
    """One generation run; methods share the RNG and the growing record lists."""

    def __init__(self, spec: DatasetSpec) -> None:
        if spec.members < 3:
            raise ValueError("members must be >= 3 (owner, member-token user, scoped-token admin)")
        if spec.event_types < 2:
            raise ValueError("event_types must be >= 2 (at least one solo and one group type)")
        if spec.plan not in PLANS:
            raise ValueError(f"plan must be one of {PLANS}")
        self.spec = spec
        self.rng = FastRandom(spec.seed)
        self.anchor = spec.anchor_us()
        self.window_lo = self.anchor - spec.past_days * DAY
        self.window_hi = self.anchor + spec.future_days * DAY
        self.org_created = self.window_lo - 400 * DAY + self.rng.randrange(DAY)
        self.users: list[Record] = []
        self.memberships: list[Record] = []
        self.event_types: list[Record] = []
        self.events: list[Record] = []
        self.invitees: list[list[Record]] = []
        self.capacity: dict[str, int] = {}
        self.pool: dict[str, list[Record]] = {}
        self.users_by_uri: dict[str, Record] = {}
        self.user_created: dict[str, int] = {}
        # (invitee, booked_at_us, event_type_uri) for every invitee, so routing can link submissions to bookings.
        self.invitee_times: list[tuple[Record, int, str]] = []
        n_customers = max(20, spec.events // 3)
        self.customers = [self._customer(i) for i in range(n_customers)]

    # -- people -------------------------------------------------------------------------------------------
    def _customer(self, i: int) -> tuple[str, str, str]:
        rng = self.rng
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        local = slugify(f"{first}.{last}").replace("-", ".")
        return first, last, f"{local}{i}@{rng.choice(vocab.EMAIL_DOMAINS)}"

    def organization(self, name: str, plan: str, kind: str, created: int) -> Record:
        return {
            "uri": f"{API_BASE}/organizations/{uuid4(self.rng)}",
            "kind": kind,
            "name": name,
            "plan": plan,
            "stage": "paid",
            "created_at": fmt(created),
            "updated_at": fmt(between(self.rng, created + DAY, self.window_lo)),
        }

    def user(self, org: Record, domain: str, created: int, index: int) -> Record:
        rng = self.rng
        first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
        slug = f"{slugify(first)}-{slugify(last)}-{index}"
        uid = uuid4(rng)
        user = {
            "uri": f"{API_BASE}/users/{uid}",
            "name": f"{first} {last}",
            "slug": slug,
            "email": f"{slug}@{domain}",
            "scheduling_url": f"https://calendly.com/{slug}",
            "timezone": rng.choice(vocab.TIMEZONES),
            "time_notation": rng.choice(("12h", "24h")),
            "avatar_url": rng.choice((None, f"https://d3v0px0pttie1i.cloudfront.net/uploads/user/avatar/{uid}.png")),
            "locale": rng.choice(vocab.USER_LOCALES),
            "created_at": fmt(created),
            "updated_at": fmt(between(rng, created, self.window_lo)),
            "current_organization": org["uri"],
            "resource_type": "User",
        }
        self.users.append(user)
        self.users_by_uri[user["uri"]] = user
        self.user_created[user["uri"]] = created
        return user

    def membership(self, org: Record, user: Record, role: str, joined: int) -> None:
        embedded = {k: user[k] for k in MEMBERSHIP_USER_KEYS}
        self.memberships.append(
            {
                "uri": f"{API_BASE}/organization_memberships/{uuid4(self.rng)}",
                "role": role,
                "organization": org["uri"],
                "created_at": fmt(joined),
                "updated_at": fmt(between(self.rng, joined, self.window_lo)),
                "user": embedded,
            }
        )

    # -- event types --------------------------------------------------------------------------------------
    def event_type(self, owner: Record, kind: str, pooling: str | None, position: int, pool: list[Record]) -> Record:
        rng = self.rng
        names = vocab.GROUP_TYPE_NAMES if kind == "group" else vocab.SOLO_TYPE_NAMES
        name = rng.choice(names)
        slug = f"{slugify(name)}-{position}"
        created = between(rng, self.user_created[owner["uri"]] + DAY, self.window_lo - 90 * DAY)
        desc = rng.choice((None, f"{name} with {owner['name']}.", "Let's talk about your goals."))
        questions = []
        for pos, q in enumerate(rng.sample(vocab.CUSTOM_QUESTIONS, rng.randint(0, 3))):
            questions.append(
                {
                    "name": q["name"],
                    "type": q["type"],
                    "position": pos,
                    "enabled": rng.random() < 0.9,
                    "required": rng.random() < 0.4,
                    "answer_choices": list(q["choices"]),
                    "include_other": bool(q["choices"]) and rng.random() < 0.3,
                }
            )
        location_kinds = rng.sample(LOCATION_KINDS, rng.choice((1, 1, 1, 2))) if rng.random() < 0.9 else None
        locations = None
        if location_kinds:
            locations = [location_config(rng, k) for k in location_kinds]
        uri = f"{API_BASE}/event_types/{uuid4(rng)}"
        record = {
            "uri": uri,
            "name": name,
            "slug": slug,
            "active": rng.random() < 0.85,
            "secret": rng.random() < 0.1,
            "admin_managed": rng.random() < 0.15,
            "is_paid": kind == "solo" and pooling is None and rng.random() < 0.15,
            "booking_method": "instant",
            "color": rng.choice(vocab.COLORS),
            "created_at": fmt(created),
            "updated_at": fmt(between(rng, created, self.anchor - HOUR)),
            "deleted_at": None,
            "description_plain": desc,
            "description_html": f"<p>{desc}</p>" if desc else None,
            "internal_note": rng.choice((None, None, "Prep the demo account first.")),
            "duration": rng.choice((15, 30, 30, 45, 60, 90)),
            "duration_options": rng.choice((None, [])),
            "kind": kind,
            "pooling_type": pooling,
            "type": "StandardEventType",
            "locale": rng.choice(vocab.EVENT_TYPE_LOCALES),
            "locations": locations,
            "position": position,
            "profile": {"type": "User", "name": owner["name"], "owner": owner["uri"]},
            "scheduling_url": f"https://calendly.com/{owner['slug']}/{slug}",
            "custom_questions": questions,
        }
        self.event_types.append(record)
        self.capacity[uri] = rng.choice((5, 8, 10, 20)) if kind == "group" else 1
        self.pool[uri] = pool
        return record

    def book(self, et: Record, start: int, group_mean: float) -> tuple[Record, list[Record], list[list[int]]]:
        """One booked event with its invitees, before any cancellation.

        Returns (event, invitees, times) where times[i] = [created_us, updated_us] of invitee i; integers are
        tracked beside the records so nothing is ever re-parsed.
        """
        rng = self.rng
        pool = self.pool[et["uri"]]
        if et["pooling_type"] == "collective":
            hosts = pool[:2]
        elif et["pooling_type"] == "round_robin":
            hosts = [rng.choice(pool)]
        else:
            hosts = pool[:1]
        lead = rng.randrange(HOUR, 30 * DAY)
        created = min(start - lead, self.anchor - 2 * MINUTE - rng.randrange(3 * HOUR))
        created = max(created, self.window_lo - 60 * DAY)
        created = created - created % MICROS + rng.randrange(MICROS)
        event = new_event(rng, et, hosts, start, created, self.capacity[et["uri"]], self.anchor)
        n = 1
        if et["kind"] == "group" and group_mean > 0:
            n = min(self.capacity[et["uri"]], 1 + round(rng.expovariate(1.0 / group_mean)))
        booked = [created + rng.randrange(3_000, 20_000)]
        latest = min(start, self.anchor - 2 * MINUTE)
        booked += sorted(between(rng, created + MINUTE, latest) for _ in range(n - 1))
        invitees = []
        times = []
        for t in booked:
            inv = new_invitee(rng, event, et, t, rng.choice(self.customers), hosts[0])
            invitees.append(inv)
            times.append([t, t + rng.randrange(1_000, 50_000)])
        if rng.random() < 0.08:
            event["event_guests"] = [
                {"email": rng.choice(self.customers)[2], "created_at": fmt(booked[0]), "updated_at": fmt(booked[0])}
                for _ in range(rng.randint(1, 2))
            ]
        return event, invitees, times

    def finish(self, event: Record, invitees: list[Record], times: list[list[int]], start: int, end: int) -> None:
        """Apply after-the-fact changes (no-shows, reconfirmations), write updated_at, fix the counter."""
        rng = self.rng
        for inv, (created, updated) in zip(invitees, times, strict=True):
            if inv["status"] == "active":
                if start - created > 2 * DAY and start - DAY < self.anchor - MINUTE and rng.random() < 0.08:
                    sent = start - DAY + rng.randrange(MICROS)
                    confirmed = sent + rng.randrange(10 * MINUTE, 6 * HOUR)
                    ok = rng.random() < 0.7 and confirmed < self.anchor - MINUTE
                    inv["reconfirmation"] = {"created_at": fmt(sent), "confirmed_at": fmt(confirmed) if ok else None}
                    updated = max(updated, confirmed if ok else sent)
                if end < self.anchor - 5 * MINUTE and rng.random() < self.spec.no_show_rate:
                    marked = between(rng, end + MINUTE, min(end + 3 * HOUR, self.anchor - MINUTE))
                    inv["no_show"] = {"uri": f"{API_BASE}/invitee_no_shows/{uuid4(rng)}", "created_at": fmt(marked)}
                    updated = max(updated, marked)
            inv["updated_at"] = fmt(updated)
        counter = event["invitees_counter"]
        counter["total"] = len(invitees)
        counter["active"] = sum(1 for i in invitees if i["status"] == "active")
        self.events.append(event)
        self.invitees.append(invitees)
        self.invitee_times.extend((inv, t[0], event["event_type"]) for inv, t in zip(invitees, times, strict=True))

    def generate_events(self, types: list[Record], weights: list[float], n_events: int) -> None:
        rng = self.rng
        spec = self.spec
        group_share = sum(w for t, w in zip(types, weights, strict=True) if t["kind"] == "group") / sum(weights)
        # Solo events hold exactly one invitee, so group events carry the whole excess over 1.
        group_mean = (max(spec.mean_invitees, 1.0) - 1.0) / group_share if group_share else 0.0
        cum: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        first_slot = -(-self.window_lo // QUARTER)
        last_slot = self.window_hi // QUARTER - 1
        produced = 0
        while produced < n_events:
            et = types[bisect.bisect(cum, rng.random() * acc)]
            start = rng.randint(first_slot, last_slot) * QUARTER
            end = start + int(et["duration"]) * MINUTE
            event, invitees, times = self.book(et, start, group_mean)
            host_name = event["event_memberships"][0]["user_name"]
            cancel_hi = min(start, self.anchor - MINUTE)
            roll = rng.random()
            if roll < spec.cancel_rate:
                at = between(rng, times[-1][0] + MINUTE, cancel_hi)
                by_host = rng.random() < 0.5
                reason = rng.choice((None, *vocab.CANCEL_REASONS))
                who = host_name if by_host else invitees[0]["name"]
                kind = "host" if by_host else "invitee"
                cancel(event, who, reason, kind, at)
                event["updated_at"] = fmt(at)
                for inv, t in zip(invitees, times, strict=True):
                    cancel(inv, who, reason, kind, at)
                    t[1] = at + rng.randrange(1_000, 20_000)
            elif et["kind"] == "solo" and roll < spec.cancel_rate + spec.reschedule_rate and produced + 1 < n_events:
                produced += self._reschedule(et, event, invitees, times, start)
                continue
            elif et["kind"] == "group":
                for inv, t in zip(invitees[1:], times[1:], strict=True):
                    if rng.random() < spec.cancel_rate / 2:
                        at = between(rng, t[0] + MINUTE, cancel_hi)
                        # The group event stays active and keeps its updated_at (only its counter moves).
                        cancel(inv, inv["name"], rng.choice((None, *vocab.CANCEL_REASONS)), "invitee", at)
                        t[1] = at + rng.randrange(1_000, 20_000)
            self.finish(event, invitees, times, start, end)
            produced += 1

    def _reschedule(self, et: Record, event: Record, invitees: list[Record], times: list[list[int]], start: int) -> int:
        """The invitee of one-on-one ``event`` moved to a new event; adds both events and returns 2."""
        rng = self.rng
        old = invitees[0]
        hosts = self.hosts_of(event)
        at = between(rng, times[0][0] + MINUTE, min(start, self.anchor - 2 * MINUTE))
        new_start = start + rng.randint(1, 10) * DAY + rng.choice((-2, -1, 0, 1, 2)) * HOUR
        if new_start <= at + HOUR:
            new_start = (at + 2 * HOUR) // QUARTER * QUARTER
        new_created = at + rng.randrange(2_000, 9_000)
        moved = new_event(rng, et, hosts, new_start, new_created, self.capacity[et["uri"]], self.anchor)
        booked = new_created + rng.randrange(3_000, 20_000)
        new_inv = new_invitee(rng, moved, et, booked, who_of(old), hosts[0])
        new_inv["questions_and_answers"] = old["questions_and_answers"]
        new_inv["old_invitee"] = old["uri"]
        reason = rng.choice((None, "Need to reschedule"))
        cancel(event, old["name"], reason, "invitee", at)
        event["updated_at"] = fmt(at)
        cancel(old, old["name"], reason, "invitee", at)
        times[0][1] = at + rng.randrange(1_000, 20_000)
        old["rescheduled"] = True
        old["new_invitee"] = new_inv["uri"]
        self.finish(event, invitees, times, start, start + int(et["duration"]) * MINUTE)
        new_end = new_start + int(et["duration"]) * MINUTE
        self.finish(moved, [new_inv], [[booked, booked + rng.randrange(1_000, 50_000)]], new_start, new_end)
        return 2

    def hosts_of(self, event: Record) -> list[Record]:
        return [self.users_by_uri[m["user"]] for m in event["event_memberships"]]

    # -- routing forms ------------------------------------------------------------------------------------
    def routing(
        self, org: Record, acme_types: list[Record], acme_invitees: list[tuple[Record, int, str]]
    ) -> tuple[list[Record], list[Record]]:
        rng = self.rng
        spec = self.spec
        forms: list[Record] = []
        submissions: list[Record] = []
        linked: set[int] = set()
        for f in range(spec.routing_forms):
            created = self.window_lo - rng.randrange(10 * DAY, 100 * DAY) + rng.randrange(MICROS)
            questions = [
                {"uuid": uuid4(rng), "name": "Name", "type": "name", "required": True, "answer_choices": None},
                {"uuid": uuid4(rng), "name": "Email", "type": "email", "required": True, "answer_choices": None},
                {"uuid": uuid4(rng), "name": "What is your industry?", "type": "select", "required": True,
                 "answer_choices": list(vocab.INDUSTRIES)},
                {"uuid": uuid4(rng), "name": "Company size", "type": "radios", "required": False,
                 "answer_choices": list(vocab.COMPANY_SIZES)},
                {"uuid": uuid4(rng), "name": "Anything else?", "type": "textarea", "required": False,
                 "answer_choices": None},
            ]  # fmt: skip
            if rng.random() < 0.5:
                questions.insert(2, {"uuid": uuid4(rng), "name": "Phone", "type": "phone", "required": False,
                                     "answer_choices": None})  # fmt: skip
            form_uri = f"{API_BASE}/routing_forms/{uuid4(rng)}"
            # The last form was unpublished after collecting answers, so drafts with submissions exist too.
            status = "draft" if spec.routing_forms >= 2 and f == spec.routing_forms - 1 else "published"
            forms.append(
                {
                    "uri": form_uri,
                    "organization": org["uri"],
                    "name": vocab.ROUTING_FORM_NAMES[f % len(vocab.ROUTING_FORM_NAMES)]
                    + (f" {f // len(vocab.ROUTING_FORM_NAMES) + 1}" if f >= len(vocab.ROUTING_FORM_NAMES) else ""),
                    "status": status,
                    "questions": questions,
                    "created_at": fmt(created),
                    "updated_at": fmt(between(rng, created, self.window_lo)),
                }
            )
            subs: list[Record] = []
            for _ in range(spec.submissions_per_form):
                subs.append(self._submission(form_uri, questions, created, acme_types, acme_invitees, linked))
            subs.sort(key=lambda s: s["created_at"])
            submissions.extend(subs)
        return forms, submissions

    def _submission(
        self,
        form_uri: str,
        questions: list[Record],
        form_created: int,
        types: list[Record],
        invitees: list[tuple[Record, int, str]],
        linked: set[int],
    ) -> Record:
        rng = self.rng
        submitter: Record | None = None
        submitter_type_uri = ""
        result: Record | None
        kind = rng.choices(("event_type", "external_url", "custom_message", "none"), (6, 2, 2, 1))[0]
        created = between(rng, form_created + HOUR, self.anchor - MINUTE)
        first, last, email = rng.choice(self.customers)
        if kind == "event_type" and invitees and rng.random() < 0.5:
            idx = rng.randrange(len(invitees))
            inv, booked, et_uri = invitees[idx]
            if idx not in linked and booked - 10 * MINUTE > form_created + HOUR:
                # The submission routed this invitee to the booking page a few minutes before they booked.
                linked.add(idx)
                submitter = inv
                submitter_type_uri = et_uri
                created = booked - rng.randrange(MINUTE, 10 * MINUTE)
                first, last, email = who_of(inv)
        if kind == "event_type":
            value = submitter_type_uri if submitter else rng.choice(types)["uri"]
            result = {"type": "event_type", "value": value}
        elif kind == "external_url":
            result = {"type": "external_url", "value": rng.choice(vocab.EXTERNAL_URLS)}
        elif kind == "custom_message":
            headline, body = rng.choice(vocab.CUSTOM_MESSAGES)
            result = {"type": "custom_message", "value": {"headline": headline, "body": body}}
        else:
            result = None
        answers = []
        for q in questions:
            if q["type"] == "name":
                ans: str | None = f"{first} {last}"
            elif q["type"] == "email":
                ans = email
            elif q["answer_choices"]:
                ans = rng.choice(q["answer_choices"]) if q["required"] or rng.random() < 0.7 else None
            elif q["type"] == "phone":
                ans = phone(rng) if rng.random() < 0.5 else None
            else:
                ans = rng.choice(vocab.TEXT_ANSWERS) if rng.random() < 0.4 else None
            answers.append({"question_uuid": q["uuid"], "question": q["name"], "answer": ans})
        uri = f"{API_BASE}/routing_form_submissions/{uuid4(rng)}"
        if submitter is not None:
            submitter["routing_form_submission"] = uri
        record: Record = {
            "uri": uri,
            "routing_form": form_uri,
            "questions_and_answers": answers,
            "tracking": tracking(rng, rng.random() < 0.3),
            "result": result,
            "submitter": submitter["uri"] if submitter else None,
            "submitter_type": "Invitee" if submitter else None,
            "created_at": fmt(created),
            "updated_at": fmt(created + rng.randrange(0, 2_000)),
        }
        if result is None:
            del record["result"]  # `result` is the one optional submission field
        return record


def build(spec: DatasetSpec) -> Dataset:
    """Generate the whole dataset for ``spec``."""
    # The generator allocates millions of small containers and frees none of them; automatic cycle collection
    # would rescan the growing heap over and over (about a third of the run time at 100k events).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(spec)
    finally:
        if was_enabled:
            gc.enable()


def _build(spec: DatasetSpec) -> Dataset:
    g = _Generator(spec)
    rng = g.rng
    acme = g.organization("Acme", spec.plan, "multiple", g.org_created)
    if spec.plan == "basic":
        acme["stage"] = "free"
    solo = g.organization("Solo Co", "standard", "single", g.org_created + 30 * DAY)

    # Acme people: [0] owner (admin token), [1] plain user (member token), [2] admin (scoped token), then a mix.
    acme_users: list[Record] = []
    for i in range(spec.members):
        joined = g.org_created + (0 if i == 0 else rng.randrange(HOUR, 300 * DAY))
        user = g.user(acme, "acme.example", joined, i)
        role = "owner" if i == 0 else "user" if i == 1 else "admin" if i == 2 or rng.random() < 0.15 else "user"
        g.membership(acme, user, role, joined + rng.randrange(MICROS, 5 * MICROS))
        acme_users.append(user)
    solo_owner = g.user(solo, "solo.example", g.org_created + 30 * DAY, 0)
    g.membership(solo, solo_owner, "owner", g.org_created + 30 * DAY + rng.randrange(MICROS, 5 * MICROS))

    # Acme event types: owners rotate over the members (so the member-token user owns type #1); every third type
    # is a group type; some solo types pool hosts (round robin / collective).
    acme_types: list[Record] = []
    weights: list[float] = []
    positions: dict[str, int] = {}
    for i in range(spec.event_types):
        owner = acme_users[i % len(acme_users)]
        kind = "group" if i % 3 == 2 else "solo"
        pooling = None
        if kind == "solo" and i >= 3:
            pooling = {3: "round_robin", 4: "collective"}.get(i % 7)
        pool = [owner]
        if pooling:
            others = [u for u in acme_users if u is not owner]
            pool += rng.sample(others, min(len(others), 2))
        pos = positions.get(owner["uri"], 0)
        positions[owner["uri"]] = pos + 1
        acme_types.append(g.event_type(owner, kind, pooling, pos, pool))
        weights.append(1.0 if kind == "group" else 3.0)
    g.generate_events(acme_types, weights, spec.events)
    acme_invitees = list(g.invitee_times)

    solo_types = [g.event_type(solo_owner, "solo", None, p, [solo_owner]) for p in range(2)]
    if spec.solo_co_events:
        g.generate_events(solo_types, [1.0, 1.0], spec.solo_co_events)

    forms, submissions = g.routing(acme, acme_types, acme_invitees)
    ds = Dataset(
        spec=spec,
        anchor_us=g.anchor,
        organizations=[acme, solo],
        users=g.users,
        memberships=g.memberships,
        event_types=g.event_types,
        events=g.events,
        invitees=g.invitees,
        routing_forms=forms,
        submissions=submissions,
        token_users={
            "admin": acme_users[0]["uri"],
            "member": acme_users[1]["uri"],
            "no_teams": solo_owner["uri"],
            "no_routing_scope": acme_users[2]["uri"],
            "no_availability_scope": acme_users[2]["uri"],
            "no_contacts_scope": acme_users[2]["uri"],
            "no_notetaker_scope": acme_users[2]["uri"],
        },
        event_type_capacity=g.capacity,
        event_type_pool={uri: [u["uri"] for u in pool] for uri, pool in g.pool.items()},
    )
    ds.org = build_org_data(ds)
    return ds
