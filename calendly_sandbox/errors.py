"""Calendly's error bodies, as an exception the endpoint code raises and the server serialises."""

from __future__ import annotations

from typing import Any

# 403 messages, verbatim from the API documentation / OpenAPI enums.
NO_PERMISSION = "You do not have permission"
NO_ACCESS = "You do not have permission to access this resource."
NOT_IN_ORG = "This user is not in your organization"
SPECIFY_ORG = "Please also specify organization when requesting events for a user within your organization."
NOT_ALLOWED_EVENT = "You are not allowed to view this event"

INTERNAL_ERROR_BODY = {
    "title": "Internal Server Error",
    "message": "The server encountered an unexpected condition that prevented it from fulfilling the request.",
}

# Calendly does not document the 429 body (UNCONFIRMED); this mirrors the other error bodies.
TOO_MANY_REQUESTS_BODY = {"title": "Too Many Requests", "message": "You have exceeded the rate limit. Try again later."}

# 502/503 come from a proxy or load balancer, not the API: HTML, not JSON.
PROXY_HTML = {
    502: (
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    ),
    503: (
        "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
        "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        "</body>\r\n</html>\r\n"
    ),
}

# What a captive portal or a maintenance page in front of the API answers: 200, HTML.
MAINTENANCE_HTML = (
    "<!DOCTYPE html>\r\n<html><head><title>Down for maintenance</title></head>\r\n"
    "<body><h1>We'll be right back</h1><p>Calendly is down for scheduled maintenance.</p></body></html>\r\n"
)


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('title')}: {body.get('message')}")
        self.status = status
        self.body = body


def invalid(*details: tuple[str, str]) -> ApiError:
    """400 with one detail per (parameter, message)."""
    return ApiError(
        400,
        {
            "title": "Invalid Argument",
            "message": "The supplied parameters are invalid.",
            "details": [{"parameter": p, "message": m} for p, m in details],
        },
    )


def unauthenticated() -> ApiError:
    return ApiError(401, {"title": "Unauthenticated", "message": "The access token is invalid"})


def access_token_expired() -> ApiError:
    # An OAuth access token past its two hours. The exact message is UNCONFIRMED; the status and title are
    # those of every other 401.
    return ApiError(401, {"title": "Unauthenticated", "message": "The access token expired"})


def denied(message: str = NO_ACCESS) -> ApiError:
    return ApiError(403, {"title": "Permission Denied", "message": message})


def insufficient_scope(scope: str) -> ApiError:
    return ApiError(
        403,
        {
            "title": "Insufficient scope",
            "message": "This operation requires the scopes listed in the 'required_scopes' array.",
            "required_scopes": [scope],
        },
    )


def not_found() -> ApiError:
    return ApiError(
        404, {"title": "Resource Not Found", "message": "The server could not find the requested resource."}
    )
