"""Lower time bounds that hold whichever way Calendly reads its `min_*` filters.

Calendly words each of them as "after this time": `min_start_time` "Include events with start times after this
time" (https://developer.calendly.com/api-docs/calendly-api/scheduled-events/list-events), `min_occurred_at`
"Include entries that occurred after this time"
(https://developer.calendly.com/api-docs/calendly-api/activity-log/list-activity-log-entries), `min_created_at`
"Include outgoing communications that were created after this time"
(https://developer.calendly.com/api-docs/calendly-api/outgoing-communications/list-outgoing-communications).
Whether "after" is strict is not said, nor at what precision the filter compares (the examples show microseconds
for events and milliseconds for the other two). Many events start at the same instant, so reading a strict
bound as inclusive would skip records. So a listing that must start *at* an instant asks from `MARGIN` before it,
which includes the instant under either reading and under truncation or rounding to the second, and drops the
records before the instant itself (`Floor.below`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_calendly.config import format_utc, parse_utc

MARGIN = timedelta(seconds=1)


@dataclass(frozen=True)
class Floor:
    """Records whose `field` is at or after `at`, asked for with the query parameter `param`."""

    field: str  # the record's timestamp, e.g. start_time
    param: str  # the query parameter filtering on it, e.g. min_start_time
    at: datetime

    def query(self) -> dict[str, str]:
        return {self.param: format_utc(self.at - MARGIN)}

    def below(self, record: Mapping[str, Any]) -> bool:
        """True for a record the margin let in that lies before the bound (one without the field stays)."""
        value = record.get(self.field)
        try:
            return isinstance(value, str) and parse_utc(value) < self.at
        except ValueError:
            return False
