"""Calendly sandbox: a faithful local fake of the Calendly API v2 for tests, benchmarks and demos.

Lives in the repository only; the connector package never imports it and the image never ships it.
"""

from .behaviour import Behaviour
from .coredata import DatasetSpec
from .faults import Faults
from .requestlog import RequestLogEntry
from .sandbox import Sandbox
from .tokens import ALL_SCOPES, API_BASE, TOKEN_SCOPES, TOKENS, Tokens

__all__ = [
    "ALL_SCOPES",
    "API_BASE",
    "TOKENS",
    "TOKEN_SCOPES",
    "Behaviour",
    "DatasetSpec",
    "Faults",
    "RequestLogEntry",
    "Sandbox",
    "Tokens",
]
