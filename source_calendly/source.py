"""The source: wires config, streams and the connection check. No HTTP code lives here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream

from source_calendly.config import CalendlyConfig
from source_calendly.context import NON_ADMIN_WARNING, SyncContext
from source_calendly.streams import (
    AccountLookup,
    EventInvitees,
    EventTypes,
    OrganizationMemberships,
    RoutingForms,
    RoutingFormSubmissions,
    ScheduledEvents,
)


def build_context(config: Mapping[str, Any], logger: logging.Logger) -> SyncContext:
    context = SyncContext(CalendlyConfig.from_mapping(config), logger)
    context.set_account_resolver(AccountLookup(context).resolve)
    return context


class SourceCalendly(AbstractSource):
    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        # Errors raise AirbyteTracedException with a message that says what to do (401, 403, bad config).
        account = build_context(config, logger).account
        logger.info(f"The token belongs to {account.describe()}.")
        if not account.is_admin:
            logger.warning(NON_ADMIN_WARNING.format(name=account.name, role=account.role or "unknown"))
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        context = build_context(config, logging.getLogger("airbyte"))
        events = ScheduledEvents(context=context)
        forms = RoutingForms(context=context)
        return [
            events,
            EventInvitees(parent=ScheduledEvents(context=context), context=context),
            EventTypes(context=context),
            OrganizationMemberships(context=context),
            forms,
            RoutingFormSubmissions(parent=RoutingForms(context=context), context=context),
        ]
