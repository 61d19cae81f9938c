"""Record builders shared by the generator and the live mutations, so both produce identical shapes.

Field lists follow Calendly's current OpenAPI (developer.calendly.com) rather than the 2023 spec: e.g. events carry
``cancellation.created_at``; invitees carry ``scheduling_method``, ``invitee_scheduled_by``, ``reconfirmation``;
event types carry ``locale``, ``admin_managed``, ``is_paid``. ``kind_description`` (2023 only) and the invitee
``canceled`` flag (UNCONFIRMED today) are left out.
"""

from __future__ import annotations

import random
import re
from typing import Any

from . import vocab
from .timeutil import DAY, MINUTE, fmt
from .tokens import API_BASE

Record = dict[str, Any]

# Calendly drops conference details ("Location details will not be available 6 months after event has occurred").
CONFERENCE_RETENTION = 183 * DAY

LOCATION_KINDS = (
    "zoom_conference", "zoom_conference", "google_conference", "google_conference", "physical", "outbound_call",
    "inbound_call", "microsoft_teams_conference", "custom", "ask_invitee", "webex_conference", "gotomeeting",
)  # fmt: skip

MEMBERSHIP_USER_KEYS = (
    "uri", "name", "slug", "email", "scheduling_url", "timezone", "time_notation", "avatar_url", "locale",
    "created_at", "updated_at",
)  # fmt: skip


class FastRandom(random.Random):
    """``random.Random`` whose integer draws cost one float draw.

    The generator makes millions of draws for a large dataset and the stdlib's argument checks and
    bit-rejection sampling dominate its run time. The bias for ranges below 2**53 is immaterial here, and the
    output stays a pure function of the seed. Only the call forms used in this package are supported.
    """

    def _randbelow(self, n: int) -> int:  # type: ignore[override]
        return int(self.random() * n)

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]


def uuid4(rng: FastRandom) -> str:
    """A lowercase version-4 UUID drawn from ``rng`` (cheaper than ``uuid.UUID``, same shape)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def between(rng: FastRandom, lo: int, hi: int) -> int:
    """Uniform instant in [lo, hi), or lo when the range is empty."""
    return lo + rng.randrange(hi - lo) if hi > lo else lo


def tracking(rng: FastRandom, filled: bool) -> Record:
    if not filled:
        return dict.fromkeys(
            ("utm_campaign", "utm_source", "utm_medium", "utm_content", "utm_term", "salesforce_uuid"), None
        )
    return {
        "utm_campaign": rng.choice(vocab.UTM_CAMPAIGNS),
        "utm_source": rng.choice(vocab.UTM_SOURCES),
        "utm_medium": rng.choice(vocab.UTM_MEDIUMS),
        "utm_content": rng.choice((None, "cta_button", "footer_link")),
        "utm_term": rng.choice((None, "scheduling software")),
        "salesforce_uuid": rng.choice((None, f"0035{rng.getrandbits(48):012X}AA")),
    }


def phone(rng: FastRandom) -> str:
    return f"+1 {rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"


def location_config(rng: FastRandom, kind: str) -> Record:
    loc: str | None = None
    info: str | None = None
    ph: str | None = None
    if kind == "physical":
        loc, info = f"{rng.choice(vocab.CITIES)} office, floor {rng.randint(1, 9)}", "Ask for us at reception"
    elif kind == "inbound_call":
        ph = phone(rng)
        loc = ph
    elif kind == "custom":
        loc = rng.choice((None, "We'll send a link by email"))
    return {"kind": kind, "location": loc, "additional_info": info, "phone_number": ph}


# -- scheduled events ---------------------------------------------------------------------------------


def event_location(rng: FastRandom, et: Record, start: int, created: int, anchor: int) -> Record | None:
    configs = et["locations"]
    if not configs:
        return {"type": "custom", "location": None}
    cfg = rng.choice(configs)
    kind = cfg["kind"]
    if kind == "physical":
        return {"type": "physical", "location": cfg["location"], "additional_info": cfg["additional_info"]}
    if kind == "outbound_call":
        return {"type": "outbound_call", "location": rng.choice((None, phone(rng)))}
    if kind == "inbound_call":
        return {"type": "inbound_call", "location": cfg["location"], "additional_info": ""}
    if kind == "custom":
        return {"type": "custom", "location": cfg["location"]}
    if kind == "ask_invitee":
        return {"type": "ask_invitee", "location": f"{rng.randint(1, 999)} Main St, {rng.choice(vocab.CITIES)}"}
    conf_type = "zoom" if kind == "zoom_conference" else kind  # events say "zoom", event types "zoom_conference"
    if start < anchor - CONFERENCE_RETENTION:
        return {"type": conf_type, "status": None, "join_url": None, "data": None}
    if created > anchor - 10 * MINUTE:
        return {"type": conf_type, "status": "processing", "join_url": None, "data": None}
    digits = rng.randint(10**9, 10**10 - 1)
    if conf_type == "zoom":
        return {
            "type": "zoom",
            "status": "pushed",
            "join_url": f"https://zoom.us/j/{digits}",
            "data": {
                "id": str(digits),
                "settings": {
                    "global_dial_in_numbers": [
                        {"number": "+1 6465588656", "country": "US", "type": "toll", "city": "New York",
                         "country_name": "US"},
                    ]
                },
                "extra": {"intl_numbers_url": f"https://zoom.us/u/a{digits % 99991}"},
                "password": f"{digits % 1000000:06d}",
            },
        }  # fmt: skip
    if conf_type == "google_conference":
        return {
            "type": "google_conference",
            "status": "pushed",
            "join_url": f"https://calendly.com/events/{uuid4(rng)}/google_meet",
        }
    if conf_type == "microsoft_teams_conference":
        return {
            "type": "microsoft_teams_conference",
            "status": "pushed",
            "join_url": f"https://teams.microsoft.com/l/meetup-join/{digits}",
            "data": {
                "id": str(digits),
                "audioConferencing": {
                    "conferenceId": str(digits % 10**7),
                    "dialinUrl": f"https://dialin.teams.microsoft.com/{uuid4(rng)}?id={digits % 10**7}",
                    "tollNumber": "+12525634478",
                },
            },
        }
    if conf_type == "webex_conference":
        mtid = f"m{rng.getrandbits(128):032x}"
        return {
            "type": "webex_conference",
            "status": "pushed",
            "join_url": f"https://acme.webex.com/acme/j.php?MTID={mtid}",
            "data": {
                "id": mtid,
                "telephony": {
                    "callInNumbers": [{"label": "US Toll", "callInNumber": "14086380986", "tollType": "toll"}]
                },
                "password": f"w{digits % 10**8}",
            },
        }
    return {
        "type": "gotomeeting",
        "status": "pushed",
        "join_url": f"https://www.gotomeeting.com/join/{digits % 10**9}",
        "data": {"uniqueMeetingId": digits % 10**9, "conferenceCallInfo": "US: +1 (123) 456-789\nAccess Code: 123"},
    }


def new_event(
    rng: FastRandom, et: Record, hosts: list[Record], start: int, created: int, limit: int, anchor: int
) -> Record:
    end = start + int(et["duration"]) * MINUTE
    s_start, s_end = fmt(start), fmt(end)
    event: Record = {
        "uri": f"{API_BASE}/scheduled_events/{uuid4(rng)}",
        "name": et["name"],
        "status": "active",
        "start_time": s_start,
        "end_time": s_end,
        "event_type": et["uri"],
        "location": event_location(rng, et, start, created, anchor),
        "invitees_counter": {"total": 0, "active": 0, "limit": limit},
        "created_at": fmt(created),
        "updated_at": fmt(created + rng.randrange(1_000, 400_000)),
        "event_memberships": [
            {
                "user": h["uri"],
                "user_email": h["email"],
                "user_name": h["name"],
                "buffered_start_time": s_start,
                "buffered_end_time": s_end,
            }
            for h in hosts
        ],
        "event_guests": [],
        "meeting_notes_plain": None,
        "meeting_notes_html": None,
        "calendar_event": None,
    }
    if rng.random() < 0.1:
        note = rng.choice(vocab.TEXT_ANSWERS)
        event["meeting_notes_plain"] = note
        event["meeting_notes_html"] = f"<p>{note}</p>"
    if rng.random() < 0.05:
        event["calendar_event"] = {"kind": "google", "external_id": f"{rng.getrandbits(128):032x}"[:26]}
    return event


def new_invitee(
    rng: FastRandom, event: Record, et: Record, created: int, who: tuple[str, str, str], host: Record
) -> Record:
    first, last, email = who
    iid = uuid4(rng)
    split_name = rng.random() < 0.3  # event types with separate first/last name fields
    answers = []
    for q in et["custom_questions"]:
        if not q["enabled"] or (not q["required"] and rng.random() < 0.4):
            continue
        answers.append({"question": q["name"], "answer": answer(rng, q), "position": q["position"]})
    roll = rng.random()
    method = "none" if roll < 0.7 else "instant_book" if roll < 0.9 else "api"
    payment = None
    if et["is_paid"]:
        payment = {
            "external_id": f"ch_{rng.getrandbits(96):024X}",
            "provider": rng.choice(("stripe", "paypal")),
            "amount": float(rng.choice((25, 49.99, 100, 150.5))),  # numeric in practice, see dataset docs
            "currency": rng.choice(("USD", "USD", "EUR", "GBP", "CAD", "AUD")),
            "terms": rng.choice((None, "Payment is non-refundable within 24 hours.")),
            "successful": rng.random() < 0.95,
        }
    return {
        "uri": f"{event['uri']}/invitees/{iid}",
        "email": email,
        "first_name": first if split_name else None,
        "last_name": last if split_name else None,
        "name": f"{first} {last}",
        "status": "active",
        "questions_and_answers": answers,
        "timezone": rng.choice(vocab.TIMEZONES) if rng.random() < 0.97 else None,
        "event": event["uri"],
        "created_at": fmt(created),
        "updated_at": None,  # set by the caller once every later change (cancel, no-show...) is known
        "tracking": tracking(rng, rng.random() < 0.2),
        "text_reminder_number": phone(rng) if rng.random() < 0.15 else None,
        "rescheduled": False,
        "old_invitee": None,
        "new_invitee": None,
        "cancel_url": f"https://calendly.com/cancellations/{iid}",
        "reschedule_url": f"https://calendly.com/reschedulings/{iid}",
        "routing_form_submission": None,
        "payment": payment,
        "no_show": None,
        "reconfirmation": None,
        "scheduling_method": None if method == "none" else method,
        "invitee_scheduled_by": host["uri"] if method == "api" or rng.random() < 0.1 else None,
    }


def answer(rng: FastRandom, q: Record) -> str:
    t = q["type"]
    if t == "single_select":
        return rng.choice(q["answer_choices"])
    if t == "multi_select":
        return "\n".join(rng.sample(q["answer_choices"], rng.randint(1, len(q["answer_choices"]))))
    if t == "phone_number":
        return phone(rng)
    if t == "string":
        return rng.choice(vocab.COMPANIES)
    return rng.choice(vocab.TEXT_ANSWERS)


def cancel(record: Record, by: str, reason: str | None, canceler: str, at: int) -> None:
    record["status"] = "canceled"
    record["cancellation"] = {"canceled_by": by, "reason": reason, "canceler_type": canceler, "created_at": fmt(at)}


def who_of(invitee: Record) -> tuple[str, str, str]:
    first, _, last = invitee["name"].partition(" ")
    return first, last, invitee["email"]
