"""The source: wires config, streams and the connection check. No HTTP code lives here."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from airbyte_cdk.models import AirbyteMessage, AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_calendly.config import CalendlyConfig, with_credentials
from source_calendly.context import SyncContext
from source_calendly.streams import (
    OPT_IN_STREAMS,
    OPTIONAL_STREAMS,
    AccountLookup,
    Contacts,
    EventInvitees,
    EventTypes,
    MeetingRecaps,
    OrganizationMemberships,
    RoutingForms,
    RoutingFormSubmissions,
    ScheduledEvents,
)


def build_context(
    config: Mapping[str, Any],
    logger: logging.Logger,
    selected: frozenset[str] | None = None,
    checking: bool = False,
) -> SyncContext:
    context = SyncContext(CalendlyConfig.from_mapping(config), logger, selected, checking, raw_config=config)
    context.set_account_resolver(AccountLookup(context).resolve)
    return context


class SourceCalendly(AbstractSource):
    _selected: frozenset[str] | None = None  # the streams of the catalog being read, if any

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        # The entrypoint validates, masks secrets in and runs with what this returns: a config from before
        # `credentials` existed is read in today's shape, in memory only (see with_credentials).
        return super().configure(with_credentials(config), temp_dir)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        # Knowing the catalog lets a parent listing be spooled only when its substream will replay it.
        self._selected = frozenset(s.stream.name for s in catalog.streams)
        yield from super().read(logger, config, catalog, state)

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        # Errors raise AirbyteTracedException with a message that says what to do (401, 403, bad config).
        context = build_context(config, logger, checking=True)
        account = context.account
        logger.info(f"The token belongs to {account.describe()}.")
        context.warn_if_not_admin()
        # Routing forms and their submissions are core streams, but gated by the plan and a scope like the others.
        forms = _AskedOnce(RoutingForms(context=context))
        gated: list[Gated] = [_Named("routing_forms", forms), _Named("routing_form_submissions", forms)]
        # Streams that share another's gate share its probe: the contact book's the contacts' (contacts:read, every
        # plan), the transcripts the recaps' (meeting_recaps:read, paid plans). One request for each gate.
        shared = {
            Contacts.access: _AskedOnce(Contacts(context=context)),
            MeetingRecaps.access: _AskedOnce(MeetingRecaps(context=context)),
        }
        optional = [stream(context=context) for stream in OPTIONAL_STREAMS]
        optional += [stream(context=context) for switch, stream in OPT_IN_STREAMS if getattr(context.config, switch)]
        gated += [_Named(s.name, shared[s.access]) if s.access in shared else s for s in optional]
        readable, refused = capability_report(gated)
        report = f"Gated streams this token can read: {', '.join(readable) or 'none'}."
        if refused:
            lines = "".join(f"\n- {name}: {reason}" for name, reason in refused)
            logger.warning(f"{report} Gated streams it cannot read (they will sync empty, with a warning):{lines}")
        else:
            logger.info(report)
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        context = build_context(config, logging.getLogger("airbyte"), self._selected)
        events = ScheduledEvents(context=context)
        forms = RoutingForms(context=context)
        core: list[Stream] = [
            events,
            EventInvitees(parent=ScheduledEvents(context=context), context=context),
            EventTypes(context=context),
            OrganizationMemberships(context=context),
            forms,
            RoutingFormSubmissions(parent=RoutingForms(context=context), context=context),
        ]
        opted_in = [stream(context=context) for switch, stream in OPT_IN_STREAMS if getattr(context.config, switch)]
        return core + [stream(context=context) for stream in OPTIONAL_STREAMS] + opted_in


class Gated(Protocol):
    """What check's report asks of a stream: its name and, with one request at most, why the token cannot read it."""

    name: str

    def refusal(self) -> str | None: ...


class _AskedOnce:
    """A stream's refusal, asked of Calendly once however many report lines share it."""

    def __init__(self, stream: Gated) -> None:
        self._stream = stream
        self._asked = False
        self._reason: str | None = None
        self._error: AirbyteTracedException | None = None  # a probe that failed fails every line sharing it

    def refusal(self) -> str | None:
        if not self._asked:
            self._asked = True
            try:
                self._reason = self._stream.refusal()
            except AirbyteTracedException as error:
                self._error = error
        if self._error is not None:
            raise self._error
        return self._reason


class _Named:
    """A report line under a stream's name whose access is `access`'s (routing_form_submissions: the forms')."""

    def __init__(self, name: str, access: _AskedOnce) -> None:
        self.name = name
        self._access = access

    def refusal(self) -> str | None:
        return self._access.refusal()


def capability_report(streams: Sequence[Gated]) -> tuple[list[str], list[tuple[str, str]]]:
    """Which gated streams the token can read, and for the others why not: one probe request each at most."""
    readable: list[str] = []
    refused: list[tuple[str, str]] = []
    for stream in streams:
        try:
            reason = stream.refusal()
        except AirbyteTracedException as error:  # not a refusal: say so rather than fail the check
            reason = f"it could not be checked ({error.message})"
        if reason is None:
            readable.append(stream.name)
        else:
            refused.append((stream.name, reason))
    return readable, refused
