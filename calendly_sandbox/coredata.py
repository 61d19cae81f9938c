"""What the generated data is made of before the newer resources join it: the spec and the core records.

``dataset`` draws the core records, ``orgdata`` draws the newer resources from them; both build on this module,
so neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .records import Record
from .timeutil import floor_minute, now_us, to_us

PLANS = ("basic", "essentials", "standard", "professional", "teams", "enterprise")


@dataclass(frozen=True)
class DatasetSpec:
    """Size and shape knobs of the generated data. Use the presets, then ``replace`` what you need."""

    seed: int = 7
    anchor: datetime | None = None  # None: now floored to the minute (UTC), resolved when the data is built
    members: int = 8  # Acme users, owner included (at least 3: owner, the member-token user, an admin)
    event_types: int = 6  # Acme event types (Solo Co always has 2)
    events: int = 150  # Acme scheduled events, reschedule targets included
    past_days: int = 120
    future_days: int = 30
    mean_invitees: float = 1.3  # over all events; solo events hold 1, group events several
    cancel_rate: float = 0.12
    reschedule_rate: float = 0.05  # share of one-on-one events whose invitee rescheduled to a new event
    no_show_rate: float = 0.06  # share of past active invitees marked no-show
    routing_forms: int = 2
    submissions_per_form: int = 15
    solo_co_events: int = 12
    plan: str = "enterprise"  # Acme's plan (Solo Co is always on "standard")
    groups: int = 2  # Acme groups
    teams: int = 2  # Acme teams
    pending_invitations: int = 3  # Acme invitations still pending (accepted and declined ones come on top)
    activity_log_entries: int = 80  # Acme entries over 150 days; Calendly serves the last 90

    @classmethod
    def small(cls, seed: int = 7, **overrides: Any) -> DatasetSpec:
        return replace(cls(seed=seed), **overrides)

    @classmethod
    def reference(cls, seed: int = 7, **overrides: Any) -> DatasetSpec:
        base = cls(
            seed=seed,
            members=60,
            event_types=40,
            events=2000,
            past_days=730,
            future_days=90,
            mean_invitees=1.3,
            routing_forms=5,
            submissions_per_form=200,
            solo_co_events=40,
            groups=4,
            teams=4,
            pending_invitations=5,
            activity_log_entries=400,
        )
        return replace(base, **overrides)

    @classmethod
    def large(cls, events: int = 100_000, seed: int = 7, **overrides: Any) -> DatasetSpec:
        base = cls(
            seed=seed,
            members=200,
            event_types=150,
            events=events,
            past_days=730,
            future_days=90,
            mean_invitees=1.3,
            routing_forms=5,
            submissions_per_form=400,
            solo_co_events=100,
            groups=6,
            teams=6,
            pending_invitations=8,
            activity_log_entries=2000,
        )
        return replace(base, **overrides)

    def anchor_us(self) -> int:
        return to_us(self.anchor) if self.anchor is not None else floor_minute(now_us())


@dataclass
class CoreDataset:
    """Plain API records plus the few internal facts the API does not expose: what ``orgdata`` builds on."""

    spec: DatasetSpec
    anchor_us: int
    organizations: list[Record]
    users: list[Record]
    memberships: list[Record]
    event_types: list[Record]
    events: list[Record]
    invitees: list[list[Record]]  # parallel to events, each sorted by created_at
    routing_forms: list[Record]
    submissions: list[Record]
    token_users: dict[str, str]  # token label -> user URI
    event_type_capacity: dict[str, int] = field(default_factory=dict)  # max invitees per slot
    event_type_pool: dict[str, list[str]] = field(default_factory=dict)  # hosts a round robin rotates over
