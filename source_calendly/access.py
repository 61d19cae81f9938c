"""Who may read an optional stream (plan, role, scope), and what a refusal tells the user to do.

A stream declares its `Access` once; the same declaration words the warning when a sync skips the stream
and the line `check` reports for it, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from source_calendly.errors import error_detail, required_scopes

SCOPE_HELP = (
    "Create a token that has {scopes} in Calendly > Integrations & Apps > API & Webhooks > Personal Access Tokens, "
    "and put it in this source's configuration."
)
ROLE_HELP = "Use a token of a user with the admin or owner role in the Calendly organization."


@dataclass(frozen=True)
class Access:
    """What reading a stream needs beyond a working token."""

    scope: str  # the Calendly scope, e.g. "groups:read"
    plan: str | None = None  # the plans that include the feature, as a user reads it: "the Enterprise plan"
    admin: bool = False  # the token's user needs the admin or owner role

    def needs(self) -> str:
        """Everything the stream needs, for check's report."""
        parts = [f"the {self.scope} scope"]
        if self.plan:
            parts.append(self.plan)
        if self.admin:
            parts.append("the admin or owner role")
        return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


class StreamUnavailable(Exception):
    """Calendly refused a stream to this token: the stream ends empty with one warning, the sync goes on."""

    def __init__(self, reason: str, for_lack_of_scope: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.for_lack_of_scope = for_lack_of_scope  # Calendly's 403 named a scope the token lacks


def refusal_reason(access: Access, response: requests.Response, token_is_admin: bool) -> str:
    """Why Calendly answered 403 and how to get access, from the body and what the stream declares.

    `Insufficient scope` names the scopes; otherwise a token without the admin role is told about the role
    first (a role is easier to obtain than a plan), and an admin's token about the plan.
    """
    said = f"Calendly answered HTTP 403: {error_detail(response)}"
    scopes = required_scopes(response)
    if scopes:
        listed = ", ".join(scopes)
        return f"the token lacks the scope {listed} ({said}). " + SCOPE_HELP.format(scopes=listed)
    if access.admin and not token_is_admin:
        plan = f" (and an organization on {access.plan})" if access.plan else ""
        return f"it needs the admin or owner role{plan} ({said}). {ROLE_HELP}"
    if access.plan:
        return f"it needs {access.plan} ({said}). Upgrade the Calendly organization's plan to read it" + (
            ", with a token of an admin or owner." if access.admin else "."
        )
    return f"{said}. It needs {access.needs()}."


def skip_warning(stream: str, reason: str) -> str:
    return f"Skipping stream {stream}: {reason} The other streams sync as usual."
