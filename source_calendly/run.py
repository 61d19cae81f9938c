"""Console entry point: `source-calendly spec|check|discover|read ...`."""

from __future__ import annotations

import sys

from airbyte_cdk.entrypoint import launch

from source_calendly.source import SourceCalendly


def run() -> None:
    launch(SourceCalendly(), sys.argv[1:])
