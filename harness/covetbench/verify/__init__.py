"""Verify before load, TechEmpower style: a configuration that fails is not benchmarked.

    from covetbench.verify import verify_server
    records = verify_server(srv.base_url, "raw", "uvicorn", ["plaintext", "json", "ws"])

Rules live in a registry keyed by name (`RULES`, `register_rule`); each scenario names its rule.
The TechEmpower database rules (`dbrules`) look into the database when given one
(`DatabaseCheck`): updates really written, query counts from PostgreSQL's statistics.
"""

from __future__ import annotations

from covetbench.verify import dbrules as dbrules  # registers the database rules
from covetbench.verify.checks import (
    CONTENT_TYPE_HTML,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_PLAINTEXT,
    Outcome,
    check_date,
    check_headers,
    parse_date,
)
from covetbench.verify.rules import (
    RULES,
    DatabaseCheck,
    RuleContext,
    VerifyRule,
    get_rule,
    register_rule,
)
from covetbench.verify.verifier import DATE_REFRESH_WAIT_S, verify_server

__all__ = [
    "CONTENT_TYPE_HTML",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_PLAINTEXT",
    "DATE_REFRESH_WAIT_S",
    "RULES",
    "DatabaseCheck",
    "Outcome",
    "RuleContext",
    "VerifyRule",
    "check_date",
    "check_headers",
    "get_rule",
    "parse_date",
    "register_rule",
    "verify_server",
]
