"""Every check must be able to fail: a toy server that answers wrongly fails these, and
uvicorn passes the same ones."""

from __future__ import annotations

import pytest

from covetbench.conformance.loader import load_checks
from covetbench.conformance.model import FAIL, PASS
from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.runner import run_check

#: checks the broken toy server must FAIL, each for the flaw it was built with
BROKEN_FAILS = [
    "h1.cl-te-both",  # frames by Content-Length, keeps the connection open
    "h1.smuggle-te-cl",  # the request hidden in chunk data gets its own response
    "h1.host-missing",  # never checks Host
    "h1.cl-negative",  # a non-digit Content-Length is read as no body
    "sem.date-header",  # no Date header
    "sem.connection-close",  # ignores Connection: close
    "sem.http10-not-persistent",  # keeps HTTP/1.0 connections open
    "asgi.scope.http-version-11",  # its body is not the probe's JSON
    "asgi.ws.close-code-reason",  # closes every WebSocket with 1001
]
#: checks uvicorn (httptools) passes in every run here
UVICORN_PASSES = [
    "h1.cl-te-both",
    "h1.smuggle-te-cl",
    "sem.date-header",
    "sem.connection-close",
    "asgi.scope.http-version-11",
    "asgi.scope.path-decoded",
    "asgi.ws.close-code-reason",
    "asgi.ws.disconnect-client-code",
    "lifespan.state-in-request",
    "ws.ping-pong",
]
CHECKS = {c.id: c for c in load_checks()}


@pytest.mark.parametrize("check_id", BROKEN_FAILS)
def test_broken_server_fails(broken_server: ProbeContext, check_id: str) -> None:
    result = run_check(CHECKS[check_id], broken_server)
    assert result.status == FAIL, result.evidence
    assert result.evidence


@pytest.mark.parametrize("check_id", UVICORN_PASSES)
def test_uvicorn_passes(uvicorn_probe: ProbeContext, check_id: str) -> None:
    result = run_check(CHECKS[check_id], uvicorn_probe)
    assert result.status == PASS, result.evidence


def test_unknown_probe_is_an_error_not_a_crash(broken_server: ProbeContext) -> None:
    from dataclasses import replace

    check = replace(CHECKS["ws.ping-pong"], probe="no-such-probe")
    assert run_check(check, broken_server).status == "ERROR"
