"""The airbyte-cdk's own ceiling: the connector's entrypoint path with no HTTP and no connector logic.

A source with one stream that yields the same Calendly event N times, read through `airbyte_cdk.entrypoint.launch`
like the connector. What it reaches is what any `AbstractSource` connector can reach on this machine.

Usage (sync_benchmark.py runs it):
    python benchmarks/cdk_ceiling.py RECORDS RECORD_JSON_FILE read --config ... --catalog ...
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from airbyte_cdk.entrypoint import launch
from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream


class RepeatedRecords(Stream):
    name = "scheduled_events"
    primary_key = "uri"

    def __init__(self, record: Mapping[str, Any], count: int) -> None:
        self.record, self.count = record, count

    def read_records(self, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        record = self.record
        for _ in range(self.count):
            yield dict(record)  # a fresh dict per record, as a parsed page gives

    def get_json_schema(self) -> Mapping[str, Any]:
        return {"type": "object"}


class CeilingSource(AbstractSource):
    def __init__(self, record: Mapping[str, Any], count: int) -> None:
        self.record, self.count = record, count

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecification(connectionSpecification={"type": "object"})

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [RepeatedRecords(self.record, self.count)]


if __name__ == "__main__":
    count, record_file, *args = sys.argv[1:]
    launch(CeilingSource(orjson.loads(Path(record_file).read_bytes()), int(count)), args)
