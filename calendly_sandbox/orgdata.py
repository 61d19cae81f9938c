"""Organization resources added to the API since 2023: groups, teams, invitations, hosts, availability,
activity log, contacts, outgoing communications, webhook subscriptions.

Drawn from their own RNG after the core dataset is built, so adding them changes none of the core records.
Everything is derived from the core data where Calendly links the two: event type hosts are the hosts its
events were booked with, contacts are the people the organization met, communications belong to real bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import vocab
from .coredata import CoreDataset
from .records import FastRandom, Record, between, phone, uuid4
from .timeutil import DAY, HOUR, MINUTE, fmt, fmt_ms, parse_own
from .tokens import API_BASE, APP_BASE

GROUP_OWNER_USER_KEYS = (
    "uri", "name", "slug", "email", "scheduling_url", "timezone", "avatar_url", "locale", "created_at", "updated_at",
)  # fmt: skip
USER_KEYS = (
    "uri", "name", "slug", "email", "scheduling_url", "timezone", "avatar_url", "created_at", "updated_at",
    "current_organization", "resource_type", "locale", "time_notation",
)  # fmt: skip
WDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@dataclass
class OrgDataset:
    """The records of the newer endpoints, plus the internal links the API filters on."""

    groups: list[Record] = field(default_factory=list)
    group_relationships: list[Record] = field(default_factory=list)
    invitations: list[Record] = field(default_factory=list)
    teams: list[Record] = field(default_factory=list)
    team_members: dict[str, list[str]] = field(default_factory=dict)  # team URI -> user URIs
    event_type_memberships: list[Record] = field(default_factory=list)
    user_schedules: list[Record] = field(default_factory=list)
    event_type_schedules: list[Record] = field(default_factory=list)
    activity_log: list[Record] = field(default_factory=list)
    contacts: list[Record] = field(default_factory=list)
    contact_owner: dict[str, str] = field(default_factory=dict)  # contact URI -> owning user URI
    communications: list[tuple[str, Record]] = field(default_factory=list)  # (organization URI, record)
    # Messages that share event, type, recipient and created_at with one above (Behaviour.communication_collisions).
    colliding_communications: list[tuple[str, Record]] = field(default_factory=list)
    webhooks: list[Record] = field(default_factory=list)


def event_type_hosts(et: Record, pool: list[str]) -> list[str]:
    """Who can host ``et``'s events: what the booking code picks from (dataset.book, store._hosts_for)."""
    if et["pooling_type"] == "round_robin":
        return list(pool)
    if et["pooling_type"] == "collective":
        return pool[:2]
    return pool[:1]


class _OrgGenerator:
    def __init__(self, ds: CoreDataset) -> None:
        self.ds = ds
        self.spec = ds.spec
        self.rng = FastRandom(ds.spec.seed ^ 0x0C0FFEE)
        self.anchor = ds.anchor_us
        self.anchor_s = fmt(ds.anchor_us)
        self.out = OrgDataset()
        self.users = {u["uri"]: u for u in ds.users}
        self.by_org: dict[str, list[Record]] = {}
        for m in sorted(ds.memberships, key=lambda m: (m["created_at"], m["uri"])):
            self.by_org.setdefault(m["organization"], []).append(m)

    def ts(self, value: str) -> int:
        return parse_own(value)

    # -- invitations, groups, teams -----------------------------------------------------------------------
    def invitations(self, org: Record, pending: int) -> list[Record]:
        rng = self.rng
        out: list[Record] = []
        members = self.by_org[org["uri"]]
        org_created = self.ts(org["created_at"])

        def invitation(email: str, status: str, created: int, updated: int, user: str | None) -> Record:
            rec: Record = {
                "uri": f"{org['uri']}/invitations/{uuid4(rng)}",
                "organization": org["uri"],
                "email": email,
                "status": status,
                "created_at": fmt(created),
                "updated_at": fmt(updated),
                "last_sent_at": fmt(between(rng, created, updated)) if status != "pending" else None,
            }
            if user is not None:
                rec["user"] = user
            return rec

        # Members who joined after the organization's first day came in through an accepted invitation.
        for m in members:
            joined = self.ts(m["created_at"])
            if m["role"] == "owner" or joined - org_created < DAY or rng.random() < 0.4:
                continue
            sent = joined - rng.randrange(HOUR, 5 * DAY)
            out.append(invitation(m["user"]["email"], "accepted", sent, joined, m["user"]["uri"]))
        window_lo = self.anchor - 60 * DAY
        for i in range(max(1, pending // 3)):
            created = between(rng, org_created + DAY, window_lo)
            out.append(
                invitation(f"declined{i}@partner.example", "declined", created, created + rng.randrange(DAY), None)
            )
        for i in range(pending):
            created = between(rng, window_lo, self.anchor - HOUR)
            rec = invitation(f"invitee{i}.{rng.choice(vocab.FIRST_NAMES).lower()}@acme.example", "pending", created,
                             created, None)  # fmt: skip
            resent = between(rng, created, self.anchor - MINUTE)
            if i % 3 != 2:  # one in three was created but not sent yet
                rec["last_sent_at"] = fmt(resent)
                rec["updated_at"] = fmt(resent)
            out.append(rec)
        out.sort(key=lambda r: (r["created_at"], r["uri"]))
        return out

    def groups(self, org: Record, n: int, invitations: list[Record]) -> None:
        rng = self.rng
        members = self.by_org[org["uri"]]
        org_created = self.ts(org["created_at"])
        groups: list[Record] = []
        for i in range(n):
            created = between(rng, org_created + DAY, self.anchor - 120 * DAY)
            name = vocab.GROUP_NAMES[i % len(vocab.GROUP_NAMES)]
            if i >= len(vocab.GROUP_NAMES):
                name += f" {i // len(vocab.GROUP_NAMES) + 1}"
            groups.append(
                {
                    "uri": f"{API_BASE}/groups/{uuid4(rng)}",
                    "name": name,
                    "organization": org["uri"],
                    "created_at": fmt(created),
                    "updated_at": fmt(between(rng, created, self.anchor - DAY)),
                }
            )
        if not groups:
            return
        rels: list[Record] = []
        counts = dict.fromkeys((g["uri"] for g in groups), 0)

        def relation(group: Record, role: str, owner: Record, after: int) -> None:
            created = max(after, self.ts(group["created_at"])) + rng.randrange(MINUTE, 30 * DAY)
            created = min(created, self.anchor - HOUR)
            rels.append(
                {
                    "uri": f"{API_BASE}/group_relationships/{uuid4(rng)}",
                    "role": role,
                    "organization": org["uri"],
                    "group": group["uri"],
                    "created_at": fmt(created),
                    "updated_at": fmt(between(rng, created, self.anchor - MINUTE)),
                    "owner": owner,
                }
            )
            if role == "member" and owner["type"] == "OrganizationMembership":
                counts[group["uri"]] += 1

        for m in members:
            owner = {k: m[k] for k in ("uri", "role", "organization", "created_at", "updated_at")}
            owner["type"] = "OrganizationMembership"
            owner["user"] = {k: m["user"][k] for k in GROUP_OWNER_USER_KEYS}
            joined = self.ts(m["created_at"])
            if rng.random() < 0.75:  # at most one member relationship per owner
                relation(rng.choice(groups), "member", owner, joined)
            if m["role"] != "user" and rng.random() < 0.5:  # group admins may run several groups
                for g in rng.sample(groups, rng.randint(1, min(2, len(groups)))):
                    relation(g, "admin", owner, joined)
        for inv in invitations:
            if inv["status"] == "pending" and rng.random() < 0.6:
                owner = {k: v for k, v in inv.items()}
                owner["type"] = "OrganizationInvitation"
                relation(rng.choice(groups), "member", owner, self.ts(inv["created_at"]))
        for g in groups:
            g["member_count"] = counts[g["uri"]]
        rels.sort(key=lambda r: (r["created_at"], r["uri"]))
        self.out.groups.extend(groups)
        self.out.group_relationships.extend(rels)

    def teams(self, org: Record, n: int) -> None:
        rng = self.rng
        members = [m["user"]["uri"] for m in self.by_org[org["uri"]]]
        for i in range(n):
            name = vocab.TEAM_NAMES[i % len(vocab.TEAM_NAMES)]
            if i >= len(vocab.TEAM_NAMES):
                name += f" {i // len(vocab.TEAM_NAMES) + 1}"
            slug = name.lower().replace(" ", "-")
            uri = f"{API_BASE}/teams/{uuid4(rng)}"
            self.out.teams.append(
                {
                    "uri": uri,
                    "name": name,
                    "organization": org["uri"],
                    "scheduling_url": f"https://calendly.com/d/{rng.getrandbits(40):010x}/{slug}",
                }
            )
            size = min(len(members), rng.randint(2, 6))
            self.out.team_members[uri] = rng.sample(members, size)
        # The owner (admin token) belongs to the first team, the member-token user to none or some.
        if n:
            first = self.out.teams[-n]["uri"]
            owner = self.ds.token_users["admin"]
            if org["uri"] == self.users[owner]["current_organization"] and owner not in self.out.team_members[first]:
                self.out.team_members[first].append(owner)

    # -- hosts and availability ---------------------------------------------------------------------------
    def schedules(self) -> dict[str, list[Record]]:
        rng = self.rng
        per_user: dict[str, list[Record]] = {}
        for user in self.ds.users:
            names = ["Working Hours"]
            if rng.random() < 0.4:
                names.append(rng.choice(("Evening Hours", "Weekend Office Hours", "Summer Hours")))
            schedules = []
            for i, name in enumerate(names):
                start = rng.choice(("07:30", "08:00", "08:30", "09:00"))
                end = rng.choice(("16:00", "17:00", "17:30", "18:00"))
                if name == "Evening Hours":
                    start, end = "17:00", "20:00"
                rules: list[Record] = []
                for d, wday in enumerate(WDAYS):
                    weekday = 0 < d < 6 if name != "Weekend Office Hours" else d in (0, 6)
                    intervals = [{"from": start, "to": end}] if weekday else []
                    if weekday and rng.random() < 0.2:  # a lunch break
                        intervals = [{"from": start, "to": "12:00"}, {"from": "13:00", "to": end}]
                    rules.append({"type": "wday", "intervals": intervals, "wday": wday})
                for _ in range(rng.choice((0, 0, 1, 2))):  # date overrides: a day off or different hours
                    day = fmt(self.anchor + rng.randrange(1, 60) * DAY)[:10]
                    hours = rng.choice(([], [{"from": "10:00", "to": "14:00"}]))
                    rules.append({"type": "date", "intervals": hours, "date": day})
                schedules.append(
                    {
                        "uri": f"{API_BASE}/user_availability_schedules/{uuid4(rng)}",
                        "default": i == 0,
                        "name": name,
                        "user": user["uri"],
                        "timezone": user["timezone"],
                        "rules": rules,
                    }
                )
            per_user[user["uri"]] = schedules
            self.out.user_schedules.extend(schedules)
        return per_user

    def hosts(self, schedules: dict[str, list[Record]]) -> None:
        rng = self.rng
        for et in self.ds.event_types:
            hosts = event_type_hosts(et, self.ds.event_type_pool[et["uri"]])
            created = self.ts(et["created_at"])
            # Hosts joined in pool order (the owner first), so both listings name them in the same order.
            joins = [created, *sorted(between(rng, created + 1, self.ts(et["updated_at"])) for _ in hosts[1:])]
            for host, joined in zip(hosts, joins, strict=True):
                user = self.users[host]
                self.out.event_type_memberships.append(
                    {
                        "uri": f"{API_BASE}/event_type_memberships/{uuid4(rng)}",
                        "event_type": et,  # the full EventType, as the endpoint embeds it
                        "member": {k: user[k] for k in USER_KEYS},
                        "created_at": fmt(joined),
                        "updated_at": fmt(joined),
                    }
                )
                own = schedules[host]
                schedule = own[-1] if len(own) > 1 and rng.random() < 0.3 else own[0]
                self.out.event_type_schedules.append(
                    {
                        "event_type": et["uri"],
                        "availability_setting": "host",
                        "availability_rule": {
                            "timezone": schedule["timezone"],
                            "uri": schedule["uri"],
                            "name": schedule["name"],
                            "user": host,
                            "rules": schedule["rules"],
                        },
                    }
                )

    # -- activity log, contacts, communications, webhooks -------------------------------------------------
    def activity_log(self, org: Record, n: int) -> None:
        rng = self.rng
        members = self.by_org[org["uri"]]
        groups = [g for g in self.out.groups if g["organization"] == org["uri"]]
        span = 150 * DAY  # more than the 90 days Calendly keeps: older entries exist but are not served
        for _ in range(n):
            occurred = self.anchor - MINUTE - rng.randrange(span)
            namespace, action, details = rng.choice(vocab.ACTIVITY_ACTIONS)
            entry: Record = {
                "occurred_at": fmt_ms(occurred),
                "uri": f"{API_BASE}/activity_log_entries/{uuid4(rng)}",
                "organization": org["uri"],
                "namespace": namespace,
                "action": action,
                "fully_qualified_name": f"{namespace}.{action}",
                "details": dict(details),
            }
            if rng.random() < 0.1:
                entry["actor"] = {"type": "System", "display_name": "Calendly System"}
            else:
                m = rng.choice(members)
                actor: Record = {
                    "type": "User",
                    "uri": m["user"]["uri"],
                    "display_name": m["user"]["name"],
                    "alternative_identifier": m["user"]["email"],
                    "organization": {"uri": org["uri"], "role": m["role"]},
                }
                if groups and rng.random() < 0.3:
                    g = rng.choice(groups)
                    actor["group"] = {"uri": g["uri"], "name": g["name"], "role": rng.choice(("member", "admin"))}
                entry["actor"] = actor
            self.out.activity_log.append(entry)
        self.out.activity_log.sort(key=lambda e: (e["occurred_at"], e["uri"]))

    def contacts_and_communications(self, org: Record) -> None:
        """One contact per person the organization met (in the contact book of the first host who met them),
        and the confirmation emails and SMS reminders of a share of the bookings."""
        rng = self.rng
        ds = self.ds
        org_users = {m["user"]["uri"] for m in self.by_org[org["uri"]]}
        types = {et["uri"]: et for et in ds.event_types}
        met: dict[str, Record] = {}
        comms: list[Record] = []
        definitions = [f"{API_BASE}/contacts/custom_field_definitions/{uuid4(rng)}" for _ in vocab.CONTACT_FIELDS]
        email_share = 0.35
        for event, invitees in zip(ds.events, ds.invitees, strict=True):
            host = event["event_memberships"][0]
            if host["user"] not in org_users:
                continue
            start_s = event["start_time"]  # compared as strings where possible: this loop sees every invitee
            et = types[event["event_type"]]
            for inv in invitees:
                key = inv["email"].lower()
                seen = met.get(key)
                if seen is None:
                    met[key] = seen = {"inv": inv, "owner": host["user"], "meetings": []}
                if event["status"] == "active" and inv["status"] == "active":  # a canceled meeting is no meeting
                    seen["meetings"].append(start_s)
                if rng.random() < email_share:
                    created = self.ts(inv["created_at"]) + rng.randrange(MINUTE // 6, MINUTE)
                    comms.append(self._email(event, et, inv, host, created))
                if inv["text_reminder_number"]:
                    remind = self.ts(start_s) - DAY
                    if self.ts(inv["created_at"]) < remind < self.anchor - MINUTE:
                        comms.append(self._sms(event, et, inv, host, remind + rng.randrange(MINUTE)))
        contacts: list[Record] = []
        for seen in met.values():
            contact, owner = self._contact(seen, definitions)
            contacts.append(contact)
            self.out.contact_owner[contact["uri"]] = owner
        contacts.sort(key=lambda c: (c["created_at"], c["uri"]))
        comms.sort(key=lambda c: c["created_at"])
        self.out.contacts.extend(contacts)
        self.out.communications.extend((org["uri"], c) for c in comms)
        self.out.colliding_communications.extend((org["uri"], c) for c in _collisions(comms))

    def synced_contacts(self, org: Record, owner: str, n: int) -> None:
        """Contacts the owner created through the API (a CRM sync): no meetings yet, so the owner's book holds a
        few hundred contacts in the reference organization, not only the few people the owner met."""
        rng = self.rng
        definitions = [f"{API_BASE}/contacts/custom_field_definitions/{uuid4(rng)}" for _ in vocab.CONTACT_FIELDS]
        start = max(self.ts(org["created_at"]), self.anchor - 400 * DAY)
        added: list[Record] = []
        for i in range(n):
            first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
            email = f"{first.lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}.crm{i}@example.net"
            person = {
                "email": email,
                "name": f"{first} {last}",
                "timezone": rng.choice(vocab.TIMEZONES),
                "text_reminder_number": None,
                "created_at": fmt(between(rng, start, self.anchor - HOUR)),
            }
            contact, _ = self._contact({"inv": person, "meetings": [], "owner": owner}, definitions)
            added.append(contact)
            self.out.contact_owner[contact["uri"]] = owner
        self.out.contacts.extend(added)
        self.out.contacts.sort(key=lambda c: (c["created_at"], c["uri"]))

    def _email(self, event: Record, et: Record, inv: Record, host: Record, created: int) -> Record:
        rng = self.rng
        by_host = rng.random() < 0.5  # sent as the host or by Calendly on its own behalf (a workflow)
        return {
            "type": "email",
            "to": inv["email"],
            "from": host["user_email"] if by_host else "notifications@calendly.com",
            "subject": f"Confirmed: {event['name']} with {host['user_name']} on {event['start_time'][:10]}",
            "body": f"Hi {inv['name']},\n\nYour {event['name']} with {host['user_name']} is scheduled.",
            "sender_uri": host["user"] if by_host else None,
            "sender_email": host["user_email"] if by_host else None,
            "event_type_uri": et["uri"],
            "event_uri": event["uri"],
            "scheduling_url": et["scheduling_url"],
            "sent_at": fmt(created + rng.randrange(200_000, 3_000_000)),
            "created_at": fmt(created),
        }

    def _sms(self, event: Record, et: Record, inv: Record, host: Record, created: int) -> Record:
        rng = self.rng
        return {
            "type": "sms",
            "to": inv["text_reminder_number"],
            "from": "+1 415-555-0134",
            "body": f"Reminder: {event['name']} with {host['user_name']} starts in 24 hours.",
            "subject": None,
            "sender_uri": None,
            "sender_email": None,
            "event_type_uri": et["uri"],
            "event_uri": event["uri"],
            "scheduling_url": et["scheduling_url"],
            "sent_at": fmt(min(created + rng.randrange(500_000, 5_000_000), self.anchor - 1)),
            "created_at": fmt(created),
        }

    def _contact(self, seen: Record, definitions: list[str]) -> tuple[Record, str]:
        rng = self.rng
        inv = seen["inv"]
        created = self.ts(inv["created_at"]) + rng.randrange(MINUTE // 2, 2 * MINUTE)
        updated = between(rng, created, self.anchor - MINUTE) if rng.random() < 0.4 else created
        meetings = sorted(seen["meetings"])
        past = [t for t in meetings if t < self.anchor_s]
        future = [t for t in meetings if t >= self.anchor_s]
        has_company = rng.random() < 0.6
        custom = []
        for uri, (label, kind, choices) in zip(definitions, vocab.CONTACT_FIELDS, strict=True):
            if rng.random() < 0.5:
                continue
            value: object
            if kind == "number":
                value = rng.randint(1, 5000)
            elif kind == "tags":
                value = rng.sample(choices, rng.randint(1, len(choices)))
            elif kind == "date":
                value = fmt(between(rng, created, self.anchor))[:10]
            else:
                value = rng.choice(choices)
            custom.append({"uri": uri, "label": label, "value": value})
        emails = [{"email": inv["email"], "is_primary": True}]
        if rng.random() < 0.1:
            emails.append({"email": f"alt.{inv['email']}", "is_primary": False})
        country = rng.choice((None, "US", "GB", "DE", "BR", "JP"))
        last_email = fmt(created + rng.randrange(HOUR)) if rng.random() < 0.5 else None
        interactions = [t for t in (past[-1] if past else None, last_email) if t is not None]
        uuid = uuid4(rng)
        return {
            "uri": f"{API_BASE}/contacts/{uuid}",
            "app_url": f"{APP_BASE}/app/contacts/{uuid}",  # 2026-10-22
            "emails": emails,
            "phone_numbers": [{"phone_number": inv["text_reminder_number"] or phone(rng)}]
            if rng.random() < 0.4
            else [],
            "name": inv["name"],
            "timezone": inv["timezone"],
            "job_title": rng.choice(vocab.JOB_TITLES) if has_company else None,
            "company": rng.choice(vocab.COMPANIES) if has_company else None,
            "country": country,
            "state": rng.choice(("CA", "NY", "TX")) if country == "US" else None,
            "city": rng.choice(vocab.CITIES) if country else None,
            "linkedin": f"https://www.linkedin.com/in/{inv['email'].split('@')[0].replace('.', '-')}"
            if rng.random() < 0.3
            else None,
            "custom_fields": custom,
            "created_at": fmt(created),
            "updated_at": fmt(updated),
            "first_email_date": fmt(created) if last_email is not None else None,
            "last_email_date": last_email,
            "next_meeting_date": future[0] if future else None,
            "last_meeting_date": past[-1] if past else None,
            "last_interaction_date": max(interactions) if interactions else None,
        }, seen["owner"]

    def webhooks(self, org: Record, group_uri: str | None) -> None:
        rng = self.rng
        members = self.by_org[org["uri"]]
        creator = members[0]["user"]["uri"]  # the owner
        org_created = self.ts(org["created_at"])
        specs: list[tuple[str, str | None, tuple[str, ...], str]] = [
            ("organization", None, ("invitee.created", "invitee.canceled", "routing_form_submission.created"),
             "active"),
            ("organization", None, ("invitee.created", "invitee_no_show.created", "contact.created"), "disabled"),
            ("user", creator, ("invitee.created", "invitee.canceled", "meeting_recap.created"), "active"),
        ]  # fmt: skip
        # A plain member's own subscription (the member token's user in Acme), listed only with scope=user&user=.
        plain = next((m["user"]["uri"] for m in members if m["user"]["uri"] == self.ds.token_users.get("member")), None)
        if plain is not None:
            specs.append(("user", plain, ("invitee.created", "invitee_no_show.created"), "active"))
        if group_uri is not None:
            specs.append(("group", None, ("invitee.created",), "active"))
        if len(members) == 1:
            specs = specs[:1]
        for scope, user, events, state in specs:
            created = between(rng, org_created + DAY, self.anchor - 30 * DAY)
            updated = between(rng, created, self.anchor - DAY)
            host = rng.choice(("hooks.acme.example", "etl.example.com", "zapier.example"))
            self.out.webhooks.append(
                {
                    "uri": f"{API_BASE}/webhook_subscriptions/{uuid4(rng)}",
                    "callback_url": f"https://{host}/calendly/{uuid4(rng)[:8]}",
                    "created_at": fmt(created),
                    "updated_at": fmt(updated),
                    "retry_started_at": fmt(updated) if state == "disabled" else None,
                    "state": state,
                    "events": list(events),
                    "scope": scope,
                    "organization": org["uri"],
                    "user": user,
                    "group": group_uri if scope == "group" else None,
                    "creator": creator,
                }
            )


def _collisions(comms: list[Record]) -> list[Record]:
    """For every 8th confirmation email, a reminder to the same invitee about the same event created at the same
    instant (a booking made within a day of the meeting); for every 40th, the same email a second time. Chosen
    by position, not drawn, so the rest of the dataset stays as it was."""
    emails = [c for c in comms if c["type"] == "email"]
    out: list[Record] = []
    for n, email in enumerate(emails):
        if n % 8 == 0:
            name = email["subject"].removeprefix("Confirmed: ").split(" with ", 1)[0]
            out.append({**email, "subject": f"Reminder: {name} is coming up", "body": f"A reminder: {name} soon."})
        if n % 40 == 0:
            out.append(dict(email))
    return out


def build_org_data(ds: CoreDataset) -> OrgDataset:
    """Generate the newer resources for ``ds`` (before the store consumes its events)."""
    g = _OrgGenerator(ds)
    spec = ds.spec
    acme, solo = ds.organizations
    acme_invitations = g.invitations(acme, spec.pending_invitations)
    g.out.invitations = acme_invitations + g.invitations(solo, 1)
    g.groups(acme, spec.groups, acme_invitations)
    g.teams(acme, spec.teams)
    schedules = g.schedules()
    g.hosts(schedules)
    g.activity_log(acme, spec.activity_log_entries)
    g.activity_log(solo, max(5, spec.activity_log_entries // 10))
    for org in (acme, solo):
        g.contacts_and_communications(org)
    g.synced_contacts(acme, ds.token_users["admin"], min(500, max(20, spec.events // 8)))
    g.webhooks(acme, g.out.groups[0]["uri"] if g.out.groups else None)
    g.webhooks(solo, None)
    return g.out
