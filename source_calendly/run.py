"""Console entry point: `source-calendly spec|check|discover|read ...`.

The CDK's `launch`, with two additions: the files given on the command line are checked first, so that a
missing or malformed file ends in an error naming it; and the config is validated by the connector's own
rules before the spec's JSON schema, so that a bad value is reported by its field name with what to do.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.sources.utils.schema_helpers import split_config

from source_calendly.config import CalendlyConfig, future_start_date_warning
from source_calendly.inputs import InputFileError, check_catalog_file, check_config_file, check_state_file
from source_calendly.source import SourceCalendly


class CalendlyEntrypoint(AirbyteEntrypoint):
    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        if getattr(parsed_args, "config", None):
            check_config_file(parsed_args.config)
        if getattr(parsed_args, "catalog", None):
            check_catalog_file(parsed_args.catalog)
        if getattr(parsed_args, "state", None):
            check_state_file(parsed_args.state)
        yield from super().run(parsed_args)

    def validate_connection(self, source_spec: ConnectorSpecification, config: Any) -> None:  # type: ignore[override]
        # Our rules first: their messages name the field and the fix; the CDK's schema check only says what
        # failed ("-1 is less than the minimum of 0"). It still runs, for anything the rules do not cover.
        connector_config, _ = split_config(config)
        parsed = CalendlyConfig.from_mapping(connector_config)
        warning = future_start_date_warning(parsed, datetime.now(UTC))
        if warning:
            self.logger.warning(warning)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run() -> None:
    entrypoint = CalendlyEntrypoint(SourceCalendly())
    parsed_args = entrypoint.parse_args(sys.argv[1:])
    try:
        with PRINT_BUFFER:  # as the CDK's `launch`: one write per message, buffered
            for message in entrypoint.run(parsed_args):
                print(f"{message}\n", end="")
    except InputFileError as exc:
        logging.getLogger("airbyte").error(exc.message)
        exc.emit_message()
        sys.exit(1)
