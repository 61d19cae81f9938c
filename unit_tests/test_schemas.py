"""Checks of the stream JSON schemas in source_calendly/schemas against the Calendly docs.

Sources of truth:
- Calendly's current API reference (newer fields and real example records), written down in the expectations below;
- Calendly's 2026 API reference for the endpoints of the optional streams (their fields and types), likewise;
- Calendly's official 2023 OpenAPI spec with its examples, carried in unit_tests/resources (source and licence in
  its README; CALENDLY_OPENAPI_2023 points at another copy), for the streams whose resource it has.

Only declared fields become destination columns, so every documented field must be declared.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from jsonschema import Draft7Validator, FormatChecker

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "source_calendly" / "schemas"
OPENAPI_PATH = Path(
    os.environ.get("CALENDLY_OPENAPI_2023", Path(__file__).resolve().parent / "resources/calendly-openapi-2023.yaml")
)

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DT_SAMPLE = "2020-01-02T03:04:05.678123Z"

# Stream -> component schema in the 2023 OpenAPI spec.
COMPONENTS = {
    "scheduled_events": "Event",
    "event_invitees": "Invitee",
    "event_types": "EventType",
    "organization_memberships": "OrganizationMembership",
    "routing_forms": "RoutingForm",
    "routing_form_submissions": "RoutingFormSubmission",
    "organization": "Organization",
    "users": "User",
    "organization_invitations": "OrganizationInvitation",
    "user_availability_schedules": "AvailabilitySchedule",
    "activity_log_entries": "Entry",
    "webhook_subscriptions": "WebhookSubscription",
}
OPENAPI_STREAMS = list(COMPONENTS)
# Resources the 2023 spec does not have: their fields come from Calendly's 2026 API reference only.
STREAMS = [
    *COMPONENTS,
    "groups",
    "group_relationships",
    "event_type_memberships",
    "event_type_availability_schedules",
    "contacts",
    "outgoing_communications",
    "teams",
]
# The 2023 spec has no example of an organization, and one of an activity log entry.
OPENAPI_EXAMPLE_MINIMUM = {stream: 2 for stream in COMPONENTS} | {"organization": 0, "activity_log_entries": 1}
# Objects Calendly documents as free-form JSON: they cannot list their properties.
FREE_FORM = {"activity_log_entries.details"}

# The only always-present fields: uri everywhere, plus the cursor of the incremental streams
# and the event_uri the connector adds to invitees, the communication_key it adds to outgoing communications.
REQUIRED = {
    "scheduled_events": ["uri", "updated_at"],
    "event_invitees": ["uri", "updated_at", "event_uri"],
    "event_types": ["uri"],
    "organization_memberships": ["uri"],
    "routing_forms": ["uri"],
    "routing_form_submissions": ["uri", "updated_at"],
    "organization": ["uri"],
    "users": ["uri"],
    "groups": ["uri"],
    "group_relationships": ["uri"],
    "organization_invitations": ["uri"],
    "event_type_memberships": ["uri"],
    "user_availability_schedules": ["uri"],
    "event_type_availability_schedules": ["event_type"],
    "activity_log_entries": ["uri", "occurred_at"],
    "contacts": ["uri", "updated_at"],
    "outgoing_communications": ["communication_key", "event_uri", "type", "to", "created_at"],
    "webhook_subscriptions": ["uri"],
    "teams": ["uri"],
}

# Components nested in each resource in the 2023 spec; their x-examples are checked against our sub-schemas.
NESTED_COMPONENTS = {
    "scheduled_events": {
        "Location", "InPersonMeeting", "OutboundCall", "InboundCall", "GoogleConference", "ZoomConference",
        "GotoMeetingConference", "MicrosoftTeamsConference", "CustomLocation", "InviteeSpecifiedLocation",
        "WebExConference", "Guest", "Cancellation", "LegacyCalendarEvent",
    },
    "event_invitees": {"InviteeQuestionAndAnswer", "InviteeTracking", "Cancellation"},
    "event_types": {"Profile", "EventTypeCustomQuestion"},
    "organization_memberships": set(),
    "routing_forms": {"Question"},
    "routing_form_submissions": {
        "SubmissionQuestionAndAnswer", "SubmissionTracking", "SubmissionResult", "SubmissionEventTypeResult",
        "SubmissionExternalUrlResult", "SubmissionCustomMessageResult",
    },
    "organization": set(),
    "users": set(),
    "organization_invitations": set(),
    "user_availability_schedules": {"AvailabilityRule"},
    "activity_log_entries": {"Actor"},
    "webhook_subscriptions": set(),
}  # fmt: skip

# Every field listed for the resource in Calendly's current OpenAPI (plus legacy fields
# still possibly returned). `a.b` is a nested property, `a[].b` a property of the items of array `a`.
CURRENT_DOC_FIELDS = {
    "scheduled_events": [
        "uri", "name", "status", "start_time", "end_time", "event_type",
        "location.type", "location.location", "location.additional_info", "location.status",
        "location.join_url", "location.data.id", "location.data.settings", "location.data.extra",
        "location.data.password",
        "invitees_counter.total", "invitees_counter.active", "invitees_counter.limit",
        "created_at", "updated_at",
        "event_memberships[].user", "event_memberships[].user_email", "event_memberships[].user_name",
        "event_memberships[].buffered_start_time", "event_memberships[].buffered_end_time",
        "event_guests[].email", "event_guests[].created_at", "event_guests[].updated_at",
        "meeting_notes_plain", "meeting_notes_html",
        "cancellation.canceled_by", "cancellation.reason", "cancellation.canceler_type", "cancellation.created_at",
        "calendar_event.kind", "calendar_event.external_id",
    ],
    "event_invitees": [
        "uri", "email", "first_name", "last_name", "name", "status",
        "questions_and_answers[].question", "questions_and_answers[].answer", "questions_and_answers[].position",
        "timezone", "event", "created_at", "updated_at",
        "tracking.utm_campaign", "tracking.utm_source", "tracking.utm_medium", "tracking.utm_content",
        "tracking.utm_term", "tracking.salesforce_uuid",
        "text_reminder_number", "rescheduled", "old_invitee", "new_invitee", "cancel_url", "reschedule_url",
        "routing_form_submission",
        "cancellation.canceled_by", "cancellation.reason", "cancellation.canceler_type", "cancellation.created_at",
        "payment.external_id", "payment.provider", "payment.amount", "payment.currency", "payment.terms",
        "payment.successful",
        "no_show.uri", "no_show.created_at",
        "reconfirmation.created_at", "reconfirmation.confirmed_at",
        "scheduling_method", "invitee_scheduled_by", "canceled",
        "event_uri",
    ],
    "event_types": [
        "uri", "name", "slug", "active", "secret", "admin_managed", "is_paid", "booking_method", "color",
        "created_at", "updated_at", "deleted_at", "description_plain", "description_html", "internal_note",
        "duration", "duration_options", "kind", "kind_description", "pooling_type", "type", "locale",
        "locations[].kind", "locations[].location", "locations[].additional_info", "locations[].phone_number",
        "position", "profile.type", "profile.name", "profile.owner", "scheduling_url",
        "custom_questions[].name", "custom_questions[].type", "custom_questions[].position",
        "custom_questions[].enabled", "custom_questions[].required", "custom_questions[].answer_choices",
        "custom_questions[].include_other",
    ],
    "organization_memberships": [
        "uri", "role", "organization", "created_at", "updated_at",
        "user.uri", "user.name", "user.slug", "user.email", "user.scheduling_url", "user.timezone",
        "user.avatar_url", "user.locale", "user.created_at", "user.updated_at", "user.time_notation",
    ],
    "routing_forms": [
        "uri", "organization", "name", "status", "created_at", "updated_at",
        "questions[].uuid", "questions[].name", "questions[].type", "questions[].required",
        "questions[].answer_choices",
    ],
    "routing_form_submissions": [
        "uri", "routing_form",
        "questions_and_answers[].question_uuid", "questions_and_answers[].question", "questions_and_answers[].answer",
        "tracking.utm_campaign", "tracking.utm_source", "tracking.utm_medium", "tracking.utm_content",
        "tracking.utm_term", "tracking.salesforce_uuid",
        "result.type", "result.value", "result.value.headline", "result.value.body",
        "submitter", "submitter_type", "created_at", "updated_at",
    ],
    # The optional streams: the fields of Calendly's 2026 API reference.
    "organization": ["uri", "kind", "name", "plan", "stage", "created_at", "updated_at"],
    "users": [
        "uri", "name", "slug", "email", "scheduling_url", "timezone", "avatar_url", "created_at", "updated_at",
        "current_organization", "resource_type", "locale", "time_notation",
    ],
    "groups": ["uri", "name", "organization", "created_at", "updated_at", "member_count"],
    "group_relationships": [
        "uri", "role", "organization", "group", "created_at", "updated_at",
        "owner.uri", "owner.role", "owner.organization", "owner.created_at", "owner.updated_at", "owner.type",
        "owner.user.uri", "owner.user.name", "owner.user.slug", "owner.user.email", "owner.user.scheduling_url",
        "owner.user.timezone", "owner.user.avatar_url", "owner.user.locale", "owner.user.created_at",
        "owner.user.updated_at", "owner.email", "owner.status", "owner.last_sent_at",
    ],
    "organization_invitations": [
        "uri", "organization", "email", "status", "created_at", "updated_at", "last_sent_at", "user",
    ],
    "event_type_memberships": [
        "uri", "created_at", "updated_at",
        "event_type.uri", "event_type.name", "event_type.slug", "event_type.active", "event_type.duration",
        "event_type.profile.owner", "event_type.custom_questions[].name", "event_type.locations[].kind",
        "member.uri", "member.name", "member.slug", "member.email", "member.scheduling_url", "member.timezone",
        "member.avatar_url", "member.created_at", "member.updated_at", "member.current_organization",
        "member.resource_type", "member.locale", "member.time_notation",
    ],
    "user_availability_schedules": [
        "uri", "default", "name", "user", "timezone",
        "rules[].type", "rules[].intervals[].from", "rules[].intervals[].to", "rules[].wday", "rules[].date",
    ],
    "event_type_availability_schedules": [
        "event_type", "availability_setting", "availability_rule.timezone", "availability_rule.uri",
        "availability_rule.name", "availability_rule.user", "availability_rule.rules[].type",
        "availability_rule.rules[].intervals[].from", "availability_rule.rules[].intervals[].to",
        "availability_rule.rules[].wday", "availability_rule.rules[].date",
    ],
    "activity_log_entries": [
        "occurred_at", "uri", "organization", "namespace", "action", "fully_qualified_name", "details",
        "actor.type", "actor.uri", "actor.display_name", "actor.alternative_identifier", "actor.organization.uri",
        "actor.organization.role", "actor.group.uri", "actor.group.name", "actor.group.role",
    ],
    "contacts": [
        "uri", "app_url", "emails[].email", "emails[].is_primary", "phone_numbers[].phone_number", "name",
        "timezone", "job_title", "company", "country", "state", "city", "linkedin",
        "custom_fields[].uri", "custom_fields[].label", "custom_fields[].value", "created_at", "updated_at",
        "first_email_date", "last_email_date", "next_meeting_date", "last_meeting_date", "last_interaction_date",
    ],
    "outgoing_communications": [
        "type", "to", "from", "body", "subject", "sender_uri", "sender_email", "event_type_uri", "event_uri",
        "scheduling_url", "sent_at", "created_at",
        "communication_key",
    ],
    "webhook_subscriptions": [
        "uri", "callback_url", "created_at", "updated_at", "retry_started_at", "state", "events", "scope",
        "organization", "user", "group", "creator",
    ],
    "teams": ["uri", "name", "organization", "scheduling_url"],
}  # fmt: skip

# Every timestamp of each resource; all must be `format: date-time`.
CDC_FIELDS = ("_ab_cdc_updated_at", "_ab_cdc_deleted_at")  # set by the connector on the tracked per-parent streams
DATE_TIME_FIELDS = {
    "scheduled_events": {
        "start_time", "end_time", "created_at", "updated_at", "cancellation.created_at",
        "event_memberships[].buffered_start_time", "event_memberships[].buffered_end_time",
        "event_guests[].created_at", "event_guests[].updated_at",
    },
    "event_invitees": {
        "created_at", "updated_at", "cancellation.created_at", "no_show.created_at",
        "reconfirmation.created_at", "reconfirmation.confirmed_at",
    },
    "event_types": {"created_at", "updated_at", "deleted_at"},
    "organization_memberships": {"created_at", "updated_at", "user.created_at", "user.updated_at"},
    "routing_forms": {"created_at", "updated_at"},
    "routing_form_submissions": {"created_at", "updated_at"},
    "organization": {"created_at", "updated_at"},
    "users": {"created_at", "updated_at"},
    "groups": {"created_at", "updated_at"},
    "group_relationships": {
        "created_at", "updated_at", "owner.created_at", "owner.updated_at", "owner.last_sent_at",
        "owner.user.created_at", "owner.user.updated_at",
    },
    "organization_invitations": {"created_at", "updated_at", "last_sent_at"},
    "event_type_memberships": {
        "created_at", "updated_at", "event_type.created_at", "event_type.updated_at", "event_type.deleted_at",
        "member.created_at", "member.updated_at", *CDC_FIELDS,
    },
    "user_availability_schedules": set(CDC_FIELDS),
    "event_type_availability_schedules": set(CDC_FIELDS),
    "activity_log_entries": {"occurred_at"},
    "contacts": {
        "created_at", "updated_at", "first_email_date", "last_email_date", "next_meeting_date", "last_meeting_date",
        "last_interaction_date", "_ab_cdc_deleted_at",
    },
    "outgoing_communications": {"sent_at", "created_at"},
    "webhook_subscriptions": {"created_at", "updated_at", "retry_started_at", *CDC_FIELDS},
    "teams": set(),
}  # fmt: skip

_UUID = "5620ac67-3d2b-4e8f-a1c9-0b7e6d5f4a32"
_EVENT = "https://api.calendly.com/scheduled_events/ccc1b129-d7a8-4686-8b12-60795512bad1"
_ORG = "https://api.calendly.com/organizations/6e3750a5-1c2d-4b8e-9f01-23456789abcd"
_USER = f"https://api.calendly.com/users/{_UUID}"
_TRACKING_NULL = {
    "utm_campaign": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_content": None,
    "utm_term": None,
    "salesforce_uuid": None,
}

# Real example records (as public integrations captured them), with the "…"
# abridgements and the redacted updated_at filled in with plausible values.
DOC_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "scheduled_events": [
        {
            "uri": _EVENT,
            "name": "Test Group Meeting",
            "status": "active",
            "start_time": "2036-01-31T14:00:00.000000Z",
            "end_time": "2036-01-31T14:30:00.000000Z",
            "event_type": "https://api.calendly.com/event_types/1024a299-8e2f-4d3c-b6a1-9f8e7d6c5b4a",
            "location": {"type": "custom", "location": None},
            "invitees_counter": {"active": 1, "limit": 2, "total": 1},
            "created_at": "2026-02-25T18:13:01.136075Z",
            "updated_at": "2026-02-25T18:13:01.136075Z",
            "event_memberships": [
                {
                    "user": _USER,
                    "user_email": "connector-dev+calendly@estuary.dev",
                    "user_name": "Connector Dev",
                    "buffered_start_time": "2036-01-31T14:00:00.000000Z",
                    "buffered_end_time": "2036-01-31T14:30:00.000000Z",
                }
            ],
            "event_guests": [],
            "meeting_notes_plain": None,
            "meeting_notes_html": None,
            "calendar_event": None,
        }
    ],
    "event_invitees": [
        {
            "uri": f"{_EVENT}/invitees/391411f0-6f73-4c24-bb89-77354a6b5277",
            "email": "johndoe@mail.com",
            "first_name": None,
            "last_name": None,
            "name": "John Doe",
            "status": "active",
            "questions_and_answers": [],
            "timezone": "America/Argentina/Buenos_Aires",
            "event": _EVENT,
            "created_at": "2026-02-25T18:13:01.147261Z",
            "updated_at": "2026-02-25T18:13:01.147261Z",
            "tracking": dict(_TRACKING_NULL),
            "text_reminder_number": None,
            "rescheduled": False,
            "old_invitee": None,
            "new_invitee": None,
            "cancel_url": "https://calendly.com/cancellations/391411f0-6f73-4c24-bb89-77354a6b5277",
            "reschedule_url": "https://calendly.com/reschedulings/391411f0-6f73-4c24-bb89-77354a6b5277",
            "routing_form_submission": None,
            "payment": None,
            "no_show": None,
            "reconfirmation": None,
            "scheduling_method": None,
            "invitee_scheduled_by": _USER,
        }
    ],
    "event_types": [
        {
            "uri": "https://api.calendly.com/event_types/314835f0-a1ba-40b3-933a-20fb9360dc03",
            "name": "30 Minute Meeting",
            "active": False,
            "admin_managed": False,
            "booking_method": "instant",
            "color": "#8247f5",
            "created_at": "2026-02-25T14:56:04.793989Z",
            "updated_at": "2026-02-25T14:56:04.793989Z",
            "custom_questions": [
                {
                    "name": "Please share anything that will help prepare for our meeting.",
                    "type": "text",
                    "position": 0,
                    "enabled": True,
                    "required": False,
                    "answer_choices": [],
                    "include_other": False,
                }
            ],
            "deleted_at": None,
            "description_html": None,
            "description_plain": None,
            "internal_note": None,
            "duration": 30,
            "duration_options": None,
            "is_paid": False,
            "kind": "solo",
            "locale": "en",
            "locations": None,
            "pooling_type": None,
            "position": 2,
            "profile": {"name": "Connector Dev", "owner": _USER, "type": "User"},
            "scheduling_url": "https://calendly.com/connector-dev-calendly-estuary/30min",
            "secret": False,
            "slug": "30min",
            "type": "StandardEventType",
        }
    ],
    "organization_memberships": [
        {
            "uri": "https://api.calendly.com/organization_memberships/bf5d151e-255d-4f57-9781-e8180326d3de",
            "role": "owner",
            "organization": _ORG,
            "created_at": "2026-02-25T14:55:07.283347Z",
            "updated_at": "2026-02-25T14:55:07.283347Z",
            "user": {
                "uri": _USER,
                "name": "Connector Dev",
                "slug": "connector-dev-calendly-estuary",
                "email": "connector-dev+calendly@estuary.dev",
                "scheduling_url": "https://calendly.com/connector-dev-calendly-estuary",
                "timezone": "America/Argentina/Buenos_Aires",
                "time_notation": "24h",
                "avatar_url": None,
                "locale": "en",
                "created_at": "2026-02-25T14:55:07.150902Z",
                "updated_at": "2026-02-25T14:55:07.150902Z",
            },
        }
    ],
    "routing_forms": [
        {
            "uri": "https://api.calendly.com/routing_forms/01493e84-dcdc-4ff1-befe-d06cf354ed96",
            "organization": _ORG,
            "name": "Test Form",
            "status": "published",
            "questions": [
                {
                    "uuid": "506387d3-8c1b-4f2e-a3d4-5b6c7d8e9f01",
                    "name": "Name",
                    "type": "name",
                    "required": False,
                    "answer_choices": [],
                }
            ],
            "created_at": "2026-02-25T17:15:36.506570Z",
            "updated_at": "2026-02-25T17:15:36.506570Z",
        }
    ],
    "routing_form_submissions": [
        {
            "uri": "https://api.calendly.com/routing_form_submissions/b391b80d-fc17-47df-8ca7-30432302abfb",
            "routing_form": "https://api.calendly.com/routing_forms/01493e84-dcdc-4ff1-befe-d06cf354ed96",
            "questions_and_answers": [
                {"question_uuid": "506387d3-8c1b-4f2e-a3d4-5b6c7d8e9f01", "question": "Name", "answer": "John Doe"}
            ],
            "tracking": dict(_TRACKING_NULL),
            "result": {
                "type": "custom_message",
                "value": {
                    "headline": "Thank you for your interest",
                    "body": "We aren\u2019t able to offer any meetings at this time.",
                },
            },
            "submitter": None,
            "submitter_type": None,
            "created_at": "2026-02-25T18:16:27.284752Z",
            "updated_at": "2026-02-25T18:16:27.284752Z",
        }
    ],
}

_ET = "https://api.calendly.com/event_types/314835f0-a1ba-40b3-933a-20fb9360dc03"
_SCHEDULE = "https://api.calendly.com/user_availability_schedules/8e3e5ea2-5e1f-4a0a-9d1b-2b3c4d5e6f70"
_RULES = [
    {"type": "wday", "wday": "monday", "intervals": [{"from": "09:00", "to": "17:00"}]},
    {"type": "date", "date": "2026-12-24", "intervals": []},
]
_USER_RECORD = DOC_EXAMPLES["organization_memberships"][0]["user"]

# Records of the optional streams, built from the field lists and types of Calendly's 2026 API reference.
DOC_EXAMPLES |= {
    "organization": [
        {"uri": _ORG, "kind": "multiple", "name": "Acme", "plan": "enterprise", "stage": "paid",
         "created_at": "2026-02-25T14:55:07.150902Z", "updated_at": "2026-02-25T14:55:07.150902Z"},
    ],
    "users": [_USER_RECORD],
    "groups": [
        {"uri": "https://api.calendly.com/groups/g1", "name": "Sales", "organization": _ORG, "member_count": 12.0,
         "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE},
    ],
    "group_relationships": [
        {"uri": "https://api.calendly.com/group_relationships/r1", "role": "admin", "organization": _ORG,
         "group": "https://api.calendly.com/groups/g1", "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE,
         "owner": {"type": "OrganizationMembership", "uri": "https://api.calendly.com/organization_memberships/m1",
                   "role": "user", "organization": _ORG, "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE,
                   "user": _USER_RECORD}},
        {"uri": "https://api.calendly.com/group_relationships/r2", "role": "member", "organization": _ORG,
         "group": "https://api.calendly.com/groups/g1", "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE,
         "owner": {"type": "OrganizationInvitation", "uri": f"{_ORG}/invitations/i1", "organization": _ORG,
                   "email": "new@example.com", "status": "accepted", "created_at": DT_SAMPLE,
                   "updated_at": DT_SAMPLE, "last_sent_at": None, "user": _USER}},
    ],
    "organization_invitations": [
        {"uri": f"{_ORG}/invitations/i1", "organization": _ORG, "email": "new@example.com", "status": "pending",
         "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE, "last_sent_at": None},
    ],
    "event_type_memberships": [
        {"uri": "https://api.calendly.com/event_type_memberships/h1", "event_type": DOC_EXAMPLES["event_types"][0],
         "member": {**_USER_RECORD, "current_organization": _ORG, "resource_type": "User"},
         "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE},
    ],
    "user_availability_schedules": [
        {"uri": _SCHEDULE, "default": True, "name": "Working hours", "user": _USER, "timezone": "Europe/Paris",
         "rules": _RULES},
    ],
    "event_type_availability_schedules": [
        {"event_type": _ET, "availability_setting": "host",
         "availability_rule": {"uri": _SCHEDULE, "name": None, "user": _USER, "timezone": "UTC", "rules": _RULES}},
    ],
    "activity_log_entries": [
        {"uri": "https://api.calendly.com/activity_log_entries/a1", "occurred_at": "2026-02-25T18:13:01.136Z",
         "organization": _ORG, "namespace": "User", "action": "Add", "fully_qualified_name": "User.Add",
         "details": {"added": ["x@example.com"], "nested": {"any": [1, None]}},
         "actor": {"type": "User", "uri": _USER, "display_name": "Connector Dev",
                   "alternative_identifier": "connector-dev", "organization": {"uri": _ORG, "role": "Owner"},
                   "group": {"uri": "https://api.calendly.com/groups/g1", "name": "Sales", "role": "Admin"}}},
        {"uri": "https://api.calendly.com/activity_log_entries/a2", "occurred_at": DT_SAMPLE, "organization": _ORG,
         "namespace": "Event", "action": "Cancel", "fully_qualified_name": "Event.Cancel", "details": {},
         "actor": {"type": "System", "display_name": "Calendly System"}},
    ],
    "contacts": [
        {"uri": "https://api.calendly.com/contacts/c1", "emails": [{"email": "a@example.com", "is_primary": True}],
         "app_url": "https://calendly.com/app/contacts/c1",
         "phone_numbers": [{"phone_number": "+1 555 0100"}], "name": "Ann", "timezone": "America/New_York",
         "job_title": None, "company": "Acme", "country": "US", "state": "NY", "city": None,
         "linkedin": "https://www.linkedin.com/in/ann", "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE,
         "custom_fields": [
             {"uri": "https://api.calendly.com/contacts/custom_field_definitions/f1", "label": "Size", "value": 50},
             {"uri": "https://api.calendly.com/contacts/custom_field_definitions/f2", "value": ["vip", "emea"]},
             {"uri": "https://api.calendly.com/contacts/custom_field_definitions/f3", "value": "2026-01-31"},
             {"uri": "https://api.calendly.com/contacts/custom_field_definitions/f4", "value": None},
         ],
         "first_email_date": None, "last_email_date": None, "next_meeting_date": DT_SAMPLE,
         "last_meeting_date": None, "last_interaction_date": None},
    ],
    "outgoing_communications": [
        {"type": "sms", "to": "+15550100", "from": "+15550199", "body": "Reminder", "subject": None,
         "sender_uri": None, "sender_email": None, "event_type_uri": _ET, "event_uri": _EVENT,
         "scheduling_url": "https://calendly.com/acme/30min", "sent_at": DT_SAMPLE, "created_at": DT_SAMPLE},
        {"type": "email", "to": "a@example.com", "from": "notifications@calendly.com", "body": "<p>Hi</p>",
         "subject": "Confirmed", "sender_uri": _USER, "sender_email": "connector-dev@example.com",
         "event_type_uri": _ET, "event_uri": _EVENT, "scheduling_url": "https://calendly.com/acme/30min",
         "sent_at": DT_SAMPLE, "created_at": DT_SAMPLE},
    ],
    "webhook_subscriptions": [
        {"uri": "https://api.calendly.com/webhook_subscriptions/w1", "callback_url": "https://hooks.example/c",
         "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE, "retry_started_at": None, "state": "active",
         "events": ["invitee.created", "contact.updated", "event_type.created"], "scope": "group",
         "organization": _ORG, "user": None, "group": "https://api.calendly.com/groups/g1", "creator": _USER},
    ],
    "teams": [
        {"uri": "https://api.calendly.com/teams/t1", "name": "Sales", "organization": _ORG,
         "scheduling_url": "https://calendly.com/team/sales"},
    ],
}  # fmt: skip

# Shapes the current spec documents but the examples above do not show (canceled event with a Zoom
# location, invitee with a string payment amount, no-show and reconfirmation, URL/URI results).
CURRENT_SPEC_SHAPES: dict[str, list[dict[str, Any]]] = {
    "scheduled_events": [
        {
            "uri": _EVENT,
            "status": "canceled",
            "location": {
                "type": "zoom",
                "status": "pushed",
                "join_url": "https://zoom.us/j/123456789",
                "data": {
                    "id": "123456789",
                    "settings": {"global_dial_in_numbers": [{"number": "+1 1234567890", "country": "US"}]},
                    "extra": {"intl_numbers_url": "https://zoom.us/u/abc"},
                    "password": "123456",
                },
            },
            "cancellation": {
                "canceled_by": "John Doe",
                "reason": None,
                "canceler_type": "invitee",
                "created_at": "2026-02-26T02:01:11.998165Z",
            },
            "meeting_notes_plain": "Agenda",
            "meeting_notes_html": "<p>Agenda</p>",
            "updated_at": "2026-02-26T02:01:11.998165Z",
        },
        {
            "uri": _EVENT,
            "updated_at": DT_SAMPLE,
            "location": {"type": "physical", "location": "HQ", "additional_info": "2nd floor"},
        },
        {
            "uri": _EVENT,
            "updated_at": DT_SAMPLE,
            "location": {"type": "google_conference", "status": None, "join_url": None},
        },
    ],
    "event_invitees": [
        {
            "uri": f"{_EVENT}/invitees/391411f0-6f73-4c24-bb89-77354a6b5277",
            "event": _EVENT,
            "event_uri": _EVENT,
            "status": "canceled",
            "rescheduled": True,
            "new_invitee": f"{_EVENT}/invitees/491411f0-6f73-4c24-bb89-77354a6b5277",
            "questions_and_answers": [{"question": "Phone", "answer": "+1 234-567-8910", "position": 0}],
            "cancellation": {
                "canceled_by": "John Doe",
                "reason": "Conflict",
                "canceler_type": "invitee",
                "created_at": "2026-02-26T02:01:12.007824Z",
            },
            "payment": {
                "external_id": "ch_123",
                "provider": "stripe",
                "amount": "12.50",
                "currency": "USD",
                "terms": None,
                "successful": True,
            },
            "no_show": {"uri": "https://api.calendly.com/invitee_no_shows/6ee96ed4", "created_at": DT_SAMPLE},
            "reconfirmation": {"created_at": DT_SAMPLE, "confirmed_at": None},
            "scheduling_method": "instant_book",
            "updated_at": "2026-02-26T02:01:12.007824Z",
        }
    ],
    "event_types": [
        {
            "uri": "https://api.calendly.com/event_types/314835f0-a1ba-40b3-933a-20fb9360dc03",
            "duration": 45,
            "duration_options": [15, 30, 45],
            "pooling_type": "multi_pool",
            "is_paid": True,
            "locations": [
                {"kind": "physical", "location": "HQ", "additional_info": None, "phone_number": None},
                {"kind": "outbound_call", "location": None, "additional_info": None, "phone_number": "+1 555"},
            ],
            "profile": None,
            "deleted_at": DT_SAMPLE,
        }
    ],
    "routing_form_submissions": [
        {"uri": "https://api.calendly.com/routing_form_submissions/x", "updated_at": DT_SAMPLE, "result": r}
        for r in (
            {"type": "event_type", "value": "https://api.calendly.com/event_types/314835f0"},
            {"type": "external_url", "value": "https://example.com"},
            None,
        )
    ],
}


# --------------------------------------------------------------------------- helpers
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time (jsonschema's own checker needs an extra package, so it may be absent)."""
    if not isinstance(value, str):
        return True
    return "T" in value.upper() and datetime.fromisoformat(value).tzinfo is not None


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=FORMAT_CHECKER)


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(schema).iter_errors(instance)]


def load_schema(stream: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text())


def _types(node: dict[str, Any]) -> list[str]:
    t = node.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (dotted path, subschema) for every property and array item of one of our schemas."""
    for name, prop in node.get("properties", {}).items():
        sub_path = f"{path}.{name}" if path else name
        yield sub_path, prop
        yield from _walk(prop, sub_path)
    if isinstance(node.get("items"), dict):
        yield f"{path}[]", node["items"]
        yield from _walk(node["items"], f"{path}[]")


def _lookup(schema: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for part in dotted.split("."):
        is_array = part.endswith("[]")
        node = (node or {}).get("properties", {}).get(part.removesuffix("[]"))
        if node is not None and is_array:
            node = node.get("items")
    return node


def _strip_nones(record: dict[str, Any]) -> dict[str, Any]:
    """What the Airbyte CDK emits: top-level keys whose value is None are dropped."""
    return {k: v for k, v in record.items() if v is not None}


def _as_connector_record(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    """Add the fields the connector sets itself (invitees carry the URI of their event)."""
    record = copy.deepcopy(record)
    if stream == "event_invitees":
        record.setdefault("event_uri", record.get("event"))
    if stream == "outgoing_communications":
        record.setdefault("communication_key", "0" * 64)
    return record


# --------------------------------------------------------------------------- OpenAPI helpers
@functools.cache
def _load_openapi() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI_PATH.read_text())


def load_openapi() -> dict[str, Any]:
    """The 2023 spec; a missing file fails the calling test (it is a required input, never a reason to skip)."""
    if not OPENAPI_PATH.is_file():
        pytest.fail(
            f"Calendly 2023 OpenAPI spec not found at {OPENAPI_PATH}: the repository carries it in "
            "unit_tests/resources (or set CALENDLY_OPENAPI_2023).",
            pytrace=False,
        )
    return _load_openapi()


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Follow a chain of local $refs; return the target and the component names passed through."""
    names = []
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        if ref.startswith("#/components/schemas/"):
            names.append(ref.rsplit("/", 1)[1])
        node = target
    return node, names


def _pairs(
    spec: dict[str, Any], oas: dict[str, Any], ours: dict[str, Any] | None, path: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None, list[str]]]:
    """Walk an OpenAPI schema (resolving $ref, allOf/oneOf/anyOf) alongside our schema.

    Yields (path, OpenAPI node, our node or None if we do not declare it, component names of the node).
    """
    node, names = _deref(spec, oas)
    yield path, node, ours, names
    if ours is None:
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for variant in node.get(key, []):
            yield from _pairs(spec, variant, ours, path)
    for name, prop in node.get("properties", {}).items():
        yield from _pairs(spec, prop, ours.get("properties", {}).get(name), f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _pairs(spec, node["items"], ours.get("items"), f"{path}[]")


def _component_examples(spec: dict[str, Any], component: str) -> list[tuple[str, Any]]:
    """Examples of a component: its x-examples, plus records of 200 responses whose schema is (a list of) it."""
    ref = f"#/components/schemas/{component}"
    found = [
        (f"components/schemas/{component}/x-examples/{name}", value)
        for name, value in (spec["components"]["schemas"][component].get("x-examples") or {}).items()
    ]
    for url, path_item in spec["paths"].items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                response, _ = _deref(spec, response)
                for media in (response.get("content") or {}).values():
                    schema, _ = _deref(spec, media.get("schema") or {})
                    props = schema.get("properties", {})
                    if props.get("collection", {}).get("items", {}).get("$ref") == ref:
                        envelope = "collection"
                    elif props.get("resource", {}).get("$ref") == ref:
                        envelope = "resource"
                    else:
                        continue
                    bodies = [(name, ex.get("value")) for name, ex in (media.get("examples") or {}).items()]
                    if "example" in media:
                        bodies.append(("example", media["example"]))
                    for ex_name, body in bodies:
                        records = body[envelope] if envelope == "collection" else [body[envelope]]
                        for index, record in enumerate(records):
                            found.append((f"paths/{url}/{method}/{status}/{ex_name}/{envelope}[{index}]", record))
    return found


# The contact book (2026-08-25, 2026-11-17): source_calendly/streams/contactbook.py.
_LIST = "https://api.calendly.com/contact_lists/0b8e0b6e-7d53-4c56-9a41-0e6a3c2f9d11"
_CONTACT = "https://api.calendly.com/contacts/5e1c1a0e-2f4b-4d3a-8f7e-9b6c5d4e3f21"
_DEFINITION = "https://api.calendly.com/contacts/custom_field_definitions/f1"
STREAMS += ["contact_custom_field_definitions", "contact_lists", "contact_list_memberships", "contact_notes"]
REQUIRED |= {
    "contact_custom_field_definitions": ["uri"],
    "contact_lists": ["uri"],
    "contact_list_memberships": ["contact_list", "contact"],
    "contact_notes": ["uri"],
}
DATE_TIME_FIELDS |= {
    "contact_custom_field_definitions": {"created_at", "updated_at"},
    "contact_lists": {"created_at", "updated_at"},
    "contact_list_memberships": set(),
    "contact_notes": {"remind_at", "created_at", "updated_at"},
}
CURRENT_DOC_FIELDS |= {
    # https://developer.calendly.com/release-notes/2026/8/25 and the List Contact Custom Field Definitions page
    "contact_custom_field_definitions": [
        "uri", "label", "field_type", "options[].uuid", "options[].label", "options[].color", "options[].is_active",
        "currency", "source.type", "source.event_type_uri", "source.question", "created_at", "updated_at",
    ],
    # https://developer.calendly.com/api-docs/calendly-api/contacts/list-contact-lists, 2026-12-01
    "contact_lists": ["uri", "name", "type", "contact_count"],
    "contact_list_memberships": ["contact_list", "contact"],
    # https://developer.calendly.com/api-docs/calendly-api/contacts/create-note and list-notes
    "contact_notes": ["uri", "contact", "title", "body", "remind_at", "created_at", "updated_at"],
}  # fmt: skip
DOC_EXAMPLES |= {
    "contact_custom_field_definitions": [
        {"uri": _DEFINITION, "label": "Segment", "field_type": "single_select", "created_at": DT_SAMPLE,
         "updated_at": DT_SAMPLE, "options": [{"uuid": _UUID, "label": "smb", "color": None, "is_active": True}]},
        {"uri": _DEFINITION, "label": "Contract value", "field_type": "currency", "currency": "USD",
         "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE},
        {"uri": _DEFINITION, "label": "Why?", "field_type": "invitee_question", "created_at": DT_SAMPLE,
         "updated_at": DT_SAMPLE, "source": {"type": "event_type_invitee_question",
                                             "event_type_uri": "https://api.calendly.com/event_types/e1",
                                             "question": "Why?"}},
    ],
    "contact_lists": [
        {"uri": _LIST, "name": "Customers", "type": "static_list", "contact_count": 12, "created_at": DT_SAMPLE,
         "updated_at": DT_SAMPLE},
        {"uri": _LIST, "name": "US", "type": "dynamic_view", "contact_count": None},
    ],
    "contact_list_memberships": [{"contact_list": _LIST, "contact": _CONTACT}],
    "contact_notes": [
        {"uri": "https://api.calendly.com/notes/n1", "contact": _CONTACT, "title": "Follow up", "body": None,
         "remind_at": "2026-11-01T13:00:00Z", "created_at": DT_SAMPLE, "updated_at": DT_SAMPLE},
    ],
}  # fmt: skip


# --------------------------------------------------------------------------- structure
@pytest.mark.parametrize("stream", STREAMS)
def test_is_valid_draft7_object_schema(stream: str) -> None:
    schema = load_schema(stream)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_07
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True


@pytest.mark.parametrize("stream", STREAMS)
def test_cdk_schema_loader_reads_it(stream: str) -> None:
    assert ResourceSchemaLoader("source_calendly").get_schema(stream) == load_schema(stream)


@pytest.mark.parametrize("stream", STREAMS)
def test_required_fields_are_exactly_the_always_present_ones(stream: str) -> None:
    schema = load_schema(stream)
    assert schema["required"] == REQUIRED[stream]
    for name in schema["required"]:
        assert "null" not in _types(schema["properties"][name]), name
    assert [path for path, node in _walk(schema) if "required" in node] == [], "nested objects require nothing"


@pytest.mark.parametrize("stream", STREAMS)
def test_every_object_is_open_spelled_out_and_described(stream: str) -> None:
    schema = load_schema(stream)
    for path, node in _walk(schema):
        types = _types(node)
        assert types, f"{path}: no type"
        assert "enum" not in node, f"{path}: enumerations go in the description (Calendly adds values)"
        assert "airbyte_type" not in node, path
        assert node.get("format", "date-time") == "date-time", f"{path}: only date-time formats are used"
        if "object" in types:
            assert node.get("additionalProperties") is True, f"{path}: additionalProperties must be true"
            if f"{stream}.{path}" not in FREE_FORM:
                assert node.get("properties"), f"{path}: nested objects must list their properties"
        if "array" in types:
            assert isinstance(node.get("items"), dict), f"{path}: arrays must describe their items"
        if not path.endswith("[]"):
            description = node.get("description", "")
            assert description.strip() and "\n" not in description, f"{path}: needs a one-line description"


@pytest.mark.parametrize("stream", STREAMS)
def test_every_optional_field_is_nullable(stream: str) -> None:
    schema = load_schema(stream)
    required = set(schema["required"])
    for path, node in _walk(schema):
        if path.endswith("[]") or path in required:
            continue
        assert "null" in _types(node), f"{path}: Calendly may return null or omit it, so it must be nullable"


def test_connector_adds_event_uri_to_invitees() -> None:
    props = load_schema("event_invitees")["properties"]
    assert props["event_uri"]["type"] == "string"
    assert "scheduled event" in props["event_uri"]["description"]
    assert "event" in props


# --------------------------------------------------------------------------- documented fields
@pytest.mark.parametrize("stream", STREAMS)
def test_declares_every_field_of_the_current_docs(stream: str) -> None:
    schema = load_schema(stream)
    missing = [field for field in CURRENT_DOC_FIELDS[stream] if _lookup(schema, field) is None]
    assert missing == []


@pytest.mark.parametrize("stream", OPENAPI_STREAMS)
def test_declares_every_field_of_the_openapi_2023_component(stream: str) -> None:
    openapi = load_openapi()
    component = {"$ref": f"#/components/schemas/{COMPONENTS[stream]}"}
    pairs = list(_pairs(openapi, component, load_schema(stream), COMPONENTS[stream]))
    assert len(pairs) > 5
    missing = [path for path, _, ours, _ in pairs if ours is None]
    assert missing == []


@pytest.mark.parametrize("stream", OPENAPI_STREAMS)
def test_types_accept_what_the_openapi_2023_component_declares(stream: str) -> None:
    openapi = load_openapi()
    component = {"$ref": f"#/components/schemas/{COMPONENTS[stream]}"}
    problems = []
    for path, oas, ours, _ in _pairs(openapi, component, load_schema(stream), COMPONENTS[stream]):
        if ours is None:
            continue
        types = _types(ours)
        oas_type = oas.get("type")
        # Counts and positions are documented as int by the current API; the 2023 spec says number.
        if oas_type and oas_type not in types and not (oas_type == "number" and "integer" in types):
            problems.append(f"{path}: {oas_type} not in {types}")
        if oas.get("nullable") and "null" not in types:
            problems.append(f"{path}: nullable in the spec")
        if oas.get("format") == "date-time" and ours.get("format") != "date-time":
            problems.append(f"{path}: date-time in the spec")
    assert problems == []


# --------------------------------------------------------------------------- example records
@pytest.mark.parametrize("stream", STREAMS)
def test_doc_example_records_validate(stream: str) -> None:
    schema = load_schema(stream)
    records = DOC_EXAMPLES[stream] + CURRENT_SPEC_SHAPES.get(stream, [])
    for record in records:
        record = _as_connector_record(stream, record)
        assert _errors(schema, record) == []
        assert _errors(schema, _strip_nones(record)) == []


@pytest.mark.parametrize("stream", OPENAPI_STREAMS)
def test_openapi_2023_example_records_validate(stream: str) -> None:
    openapi = load_openapi()
    schema = load_schema(stream)
    examples = _component_examples(openapi, COMPONENTS[stream])
    assert len(examples) >= OPENAPI_EXAMPLE_MINIMUM[stream], "expected the component's x-examples and responses"
    for where, record in examples:
        record = _as_connector_record(stream, record)
        assert _errors(schema, record) == [], where
        assert _errors(schema, _strip_nones(record)) == [], where


@pytest.mark.parametrize("stream", OPENAPI_STREAMS)
def test_openapi_2023_nested_component_examples_validate(stream: str) -> None:
    """x-examples of the components nested in the resource (Location variants, Guest, Profile, ...)."""
    openapi = load_openapi()
    component = {"$ref": f"#/components/schemas/{COMPONENTS[stream]}"}
    reached = set()
    for path, _, ours, names in _pairs(openapi, component, load_schema(stream), COMPONENTS[stream]):
        if ours is None or path == COMPONENTS[stream]:
            continue
        for name in names:
            reached.add(name)
            for ex_name, example in (openapi["components"]["schemas"][name].get("x-examples") or {}).items():
                assert _errors(ours, example) == [], f"{path} <- {name}/{ex_name}"
    assert reached == NESTED_COMPONENTS[stream]


@pytest.mark.parametrize("stream", STREAMS)
def test_record_without_any_nullable_key_validates(stream: str) -> None:
    schema = load_schema(stream)
    minimal = {
        name: DT_SAMPLE if schema["properties"][name].get("format") == "date-time" else "https://api.calendly.com/x"
        for name in schema["required"]
    }
    assert _errors(schema, minimal) == []
    all_null = minimal | {name: None for name in schema["properties"] if name not in schema["required"]}
    assert _errors(schema, all_null) == []
    for name in schema["required"]:
        assert _errors(schema, {k: v for k, v in minimal.items() if k != name}), f"{name} must be required"


# --------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize("stream", STREAMS)
def test_date_time_fields(stream: str) -> None:
    schema = load_schema(stream)
    date_time_paths = {path for path, node in _walk(schema) if node.get("format") == "date-time"}
    assert date_time_paths == DATE_TIME_FIELDS[stream]
    for path in date_time_paths:
        node = _lookup(schema, path)
        assert node is not None
        assert _types(node) in (["null", "string"], ["string"]), path
        for value in (DT_SAMPLE, "2022-05-15T03:04:05.678Z", "2026-02-25T18:13:01+00:00"):
            assert _errors(node, value) == [], f"{path}: {value}"
        assert _errors(node, "yesterday"), f"{path}: the date-time format must be checked"
