"""Bad input, what the connector answers and what the user should do: the README's table, as data.

`test_bad_input.py` runs every case through the real connector against the sandbox and checks that the
answer holds `message` (with the failure type given), and that the README's table is exactly `readme_table()`.
Print the table with `python -m integration_tests.bad_inputs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_JSON = "{not json"
STATE_MESSAGE = {
    "type": "STREAM",
    "stream": {"stream_descriptor": {"name": "scheduled_events"}, "stream_state": {}},
}


@dataclass(frozen=True)
class BadInput:
    input: str  # as the README names it
    message: str  # must appear in the connector's answer; the README shows it
    fix: str  # what to do, for the README
    config: dict[str, Any] = field(default_factory=dict)  # overrides of a working sandbox config
    files: dict[str, Any] = field(default_factory=dict)  # config/catalog/state: text to write, or None (no file)
    failure_type: str | None = "config_error"  # None: not an error (a warning, or accepted)
    faults: dict[str, Any] = field(default_factory=dict)  # sandbox faults (calendly_sandbox.Faults fields)
    command: str = "read"  # "check": the answer is a failed CONNECTION_STATUS, within CHECK_ANSWERS_WITHIN
    network: str | None = None  # a local stand-in for a broken network (see test_bad_input.NETWORKS)
    took: str = "at once"  # how long the answer takes, for the README (measured where it is not at once)


# The bound for a check that cannot reach Calendly (it took 84-102 s before issue 19); asserted.
CHECK_ANSWERS_WITHIN = 15.0


CASES = (
    BadInput(
        "`personal_access_token` not a string (e.g. a number)",
        "personal_access_token must be a string, not a number.",
        "Paste the token as a string.",
        config={"personal_access_token": 12345},
    ),
    BadInput(
        "`personal_access_token` missing or empty",
        "personal_access_token is missing or empty.",
        "Generate a token in Calendly > Integrations & Apps > API & Webhooks.",
        config={"personal_access_token": ""},
    ),
    BadInput(
        "OAuth 2.0 without `credentials.refresh_token`",
        "credentials.refresh_token is missing or empty.",
        'Click "Authenticate your account" again (or run the OAuth flow and paste the refresh token).',
        config={
            "credentials": {"auth_type": "oauth2.0", "client_id": "client-id-1234", "client_secret": "secret-5678"}
        },
    ),
    BadInput(
        '`credentials.auth_type: "basic"`',
        "credentials.auth_type 'basic' is not one of 'personal_access_token' or 'oauth2.0'.",
        "Choose a personal access token or OAuth 2.0.",
        config={"credentials": {"auth_type": "basic", "personal_access_token": "token-1234"}},
    ),
    BadInput(
        "`token_url` plain http to another host",
        "token_url 'http://auth.example.com/oauth/token' is not allowed: use https",
        "Leave it out (Calendly's is the default), or use https.",
        config={
            # Values long enough not to be masked inside every word of the message (secrets are masked everywhere).
            "credentials": {
                "auth_type": "oauth2.0",
                "client_id": "client-id-1234",
                "client_secret": "client-secret-5678",
                "refresh_token": "refresh-token-9012",
            },
            "token_url": "http://auth.example.com/oauth/token",
        },
    ),
    BadInput(
        "`lookback_days: -1`",
        "lookback_days must be a whole number from 0 to 3650; got -1.",
        "Fix the value, or remove it for the default (7).",
        config={"lookback_days": -1},
    ),
    BadInput(
        "`num_workers: 0`",
        "num_workers must be a whole number from 1 to 16; got 0.",
        "Fix the value, or remove it for the default (4).",
        config={"num_workers": 0},
    ),
    BadInput(
        '`requests_per_minute: "fast"`',
        "requests_per_minute must be a number from 1 to 100000, or empty for no cap; got 'fast'.",
        "Give a number, or remove it.",
        config={"requests_per_minute": "fast"},
    ),
    BadInput(
        "`start_date: 2020-01-01`",
        "",
        "Nothing: a date alone is read as midnight UTC.",
        config={"start_date": "2020-01-01"},
        failure_type=None,
    ),
    BadInput(
        "`start_date: 01/02/2020`",
        "start_date '01/02/2020' is not a valid UTC date: use YYYY-MM-DDTHH:MM:SSZ",
        "Use YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD, or leave it empty for all history.",
        config={"start_date": "01/02/2020"},
    ),
    BadInput(
        "`start_date` in the future",
        "is in the future: syncs read no event that starts before it",
        "A warning only; set a date in the past, or leave it empty.",
        config={"start_date": "2999-01-01T00:00:00Z"},
        failure_type=None,
    ),
    BadInput(
        "`api_url: http://example.com`",
        "api_url 'http://example.com' is not allowed: use https://",
        "Use https://, or http:// only to a loopback host (the sandbox).",
        config={"api_url": "http://example.com"},
    ),
    BadInput(
        "`--config` file missing",
        "does not exist. It must hold a JSON object with this source's settings",
        "Pass the path of a JSON file with the settings.",
        files={"config": None},
    ),
    BadInput(
        "`--config` file not JSON",
        "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        "Fix the file: the error gives line and column.",
        files={"config": NOT_JSON},
    ),
    BadInput(
        "`--config` file a list",
        "holds a list, not a JSON object.",
        'Write an object: `{"personal_access_token": "…"}`.',
        files={"config": "[]"},
    ),
    BadInput(
        "`--catalog` file not JSON",
        "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        "Build the configured catalog from `discover`.",
        files={"catalog": NOT_JSON},
    ),
    BadInput(
        "`--catalog` without `streams`",
        "is not a configured catalog with a 'streams' list.",
        "Build the configured catalog from `discover`.",
        files={"catalog": "{}"},
    ),
    BadInput(
        "`--state` file not JSON",
        "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        "Fix the file, or reset the connection's state.",
        files={"state": NOT_JSON},
    ),
    BadInput(
        "`--state` one message, not a list",
        "holds one state message, not a list of them: wrap it in [ ].",
        "Wrap it in `[ ]`.",
        files={"state": STATE_MESSAGE},
    ),
    BadInput(
        "`--state` legacy `{stream: state}`",
        "holds the legacy {stream name: state} format (keys: scheduled_events)",
        "Convert each entry to a per-stream state message, or reset the state.",
        files={"state": {"scheduled_events": {"updated_at": "2024-01-01T00:00:00Z"}}},
    ),
    BadInput(
        '`--state` a LEGACY entry (`{"type": "LEGACY", "data": …}`)',
        "is a LEGACY state message (a 'data' part), which this source does not read.",
        "Convert it to per-stream state messages, or reset the state.",
        files={"state": [{"type": "LEGACY", "data": {"scheduled_events": {"updated_at": "2024-01-01T00:00:00Z"}}}]},
    ),
    BadInput(
        "`--state` a GLOBAL entry with a `shared_state`",
        "is a GLOBAL state with a 'shared_state', which this source never writes.",
        "Use this source's own (per-stream) state, or reset the state.",
        files={"state": [{"type": "GLOBAL", "global": {"shared_state": {"cursor": "x"}, "stream_states": []}}]},
    ),
    BadInput(
        "`--state` entry not a message",
        "is a number, not a state message object.",
        "Fix the entry, or reset the connection's state.",
        files={"state": [42]},
    ),
    BadInput(
        "`api_url` where nothing listens (`check`)",
        "The check could not reach Calendly: nothing answers at http://127.0.0.1:",
        "Fix api_url (normally https://api.calendly.com); for the sandbox, start it first.",
        command="check",
        network="closed port",
        took="~2 s (was 84 to 94 s)",
    ),
    BadInput(
        "`api_url` whose name does not resolve (`check`)",
        "The check could not reach Calendly: the name calendly-sandbox.invalid does not resolve (DNS)",
        "Fix api_url, or the machine's DNS.",
        config={"api_url": "https://calendly-sandbox.invalid"},
        command="check",
        took="~2 s",
    ),
    BadInput(
        "a certificate this machine does not trust (a TLS-inspecting proxy; `check`)",
        "The check could not reach Calendly: the certificate of 127.0.0.1 is not trusted",
        "Set `REQUESTS_CA_BUNDLE` to a PEM file with the proxy's CA certificate in the connector's environment.",
        command="check",
        network="untrusted certificate",
        took="~2 s",
    ),
    BadInput(
        "a proxy (`HTTPS_PROXY`) that refuses the connection (`check`)",
        "The check could not reach Calendly: the proxy refused to connect to calendly-sandbox.invalid",
        "Fix `HTTPS_PROXY`/`NO_PROXY`, or have the proxy allow the host.",
        config={"api_url": "https://calendly-sandbox.invalid"},
        command="check",
        network="refusing proxy",
        took="~2 s",
    ),
    BadInput(
        "a captive portal or proxy page: HTTP 200 with HTML (`check` or `read`)",
        "Something other than Calendly answers at http://127.0.0.1:",
        "Log in to the network, or allow the host in the proxy; check api_url.",
        command="check",
        faults={"html_rate": 1.0, "paths": ("/users/me",)},
        took="~2 s, 3 attempts (was 87 to 102 s)",
    ),
    BadInput(
        "a record without `uri` from Calendly",
        "record 1 of the page has no 'uri' (the primary key",
        "Run the sync again; if it persists, report it (Calendly's API changed).",
        faults={"missing_uri_rate": 1.0, "paths": ("/event_types",)},
        failure_type="system_error",
    ),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_table() -> str:
    rows = ["| input | the connector answers | answered in | what to do |", "|---|---|---|---|"]
    for case in CASES:
        if case.failure_type is None and not case.message:
            answer = "accepted"
        elif case.failure_type is None:
            answer = f'warning: "…{case.message}…"'
        else:
            answer = f'{case.failure_type}: "{case.message}…"'
        rows.append(f"| {_cell(case.input)} | {_cell(answer)} | {_cell(case.took)} | {_cell(case.fix)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(readme_table())
