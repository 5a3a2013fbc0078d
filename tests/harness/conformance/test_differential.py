"""The parser differential's parts: the corpus loads (with its seeded mutations, the same on
every run), h11's reading of framing edge cases, a server's reading from its echo answers,
and the comparison that lists every disagreement."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest

from covetbench.conformance.differential import (
    Outcome,
    disagreements,
    exchange_outcome,
    h11_outcome,
    load_corpus,
)
from covetbench.conformance.loader import conformance_dir, load_checks
from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.runner import run_check
from covetbench.exceptions import SuiteError
from covetbench.net.rawclient import RawExchange, RawResponse
from tests.harness.conformance.conftest import probe_targets

CORPUS = conformance_dir() / "corpus" / "parser_corpus.toml"


def test_corpus_has_about_200_cases_with_the_framing_ones() -> None:
    params = next(c for c in load_checks(ids=["rob.parser-differential"])).params
    cases = load_corpus(CORPUS, int(params["generated"]), int(params["seed"]))
    names = {c.name for c in cases}
    assert len(cases) >= 200 and len(names) == len(cases)
    for needed in (
        "cl-te-smuggle",
        "te-cl-smuggle",
        "cl-dup-same",
        "chunk-leading-zeros-20",
        "chunk-size-huge",
        "obs-fold",
        "header-bare-lf",
        "method-lower",
        "method-unknown",
        "upgrade-h2c-body",
        "connect-body",
    ):
        assert needed in names
    again = load_corpus(CORPUS, int(params["generated"]), int(params["seed"]))
    assert [c.data for c in again] == [c.data for c in cases]  # replayable


def test_corpus_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[case]]\nname = "a"\nrequest = "x"\n[[case]]\nname = "a"\nrequest = "y"\n')
    with pytest.raises(SuiteError, match="duplicate"):
        load_corpus(path)


@pytest.mark.parametrize(
    ("data", "served", "rejected"),
    [
        (b"GET /echo?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", ["GET /echo body=0:00000000"], False),
        (
            b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /f HTTP/1.1\r\n"
            b"Host: h\r\n\r\n",
            ["POST /e body=5:3610a686", "GET /f body=0:00000000"],
            False,
        ),
        (b"GET /echo HTTP/1.1\r\n\r\n", [], True),  # no Host
        (b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel", [], False),  # waits
        (
            b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
            ["GET /a body=0:00000000"],
            False,
        ),
    ],
    ids=["get", "pipelined", "no-host", "incomplete", "close-stops-reading"],
)
def test_h11_reading(data: bytes, served: list[str], rejected: bool) -> None:
    outcome = h11_outcome(data)
    assert (outcome.served, outcome.rejected) == (served, rejected)


def _echo(method: str, path: str, body: bytes) -> RawResponse:
    event = {"type": "http.request", "body": {"b64": base64.b64encode(body).decode()}}
    payload = {"scope": {"method": method, "path": path}, "events": [event]}
    return RawResponse("HTTP/1.1", 200, "OK", [], json.dumps(payload).encode())


def test_server_reading_from_echo_answers() -> None:
    ex = RawExchange(b"", responses=[_echo("POST", "/e", b"hello"), _echo("GET", "/f", b"")])
    assert exchange_outcome(ex).served == ["POST /e body=5:3610a686", "GET /f body=0:00000000"]
    bad = RawExchange(b"", responses=[RawResponse("HTTP/1.1", 400, "Bad", [], b"no")])
    assert exchange_outcome(bad) == Outcome([], True, [400])


def test_disagreements_list_every_case_that_differs() -> None:
    left = {"a": Outcome(["GET /"], False, [200]), "b": Outcome([], True, [400])}
    right = {"a": Outcome(["GET /"], False, [200]), "b": Outcome([], True, [413])}
    assert disagreements(left, right, exact=False) == []
    rejected = "nothing served ; rejected ; statuses"
    assert disagreements(left, right, exact=True) == [
        ("b", f"{rejected} [400]", f"{rejected} [413]")
    ]


def test_siblings_that_disagree_fail(tmp_path: Path) -> None:
    """uvicorn's two parsers read a small corpus differently (absolute-form targets, CL+TE):
    the check fails and lists the cases; the detail file holds both outcomes."""
    from covetbench.servers import get_server

    adapter = get_server("uvicorn")
    if not (adapter.is_installed() and get_server("uvicorn-h11").is_installed()):
        pytest.skip("uvicorn is not installed")
    corpus = tmp_path / "corpus.toml"
    corpus.write_text(
        '[[case]]\nname = "get"\nrequest = "GET /echo HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
        '[[case]]\nname = "absolute"\n'
        'request = "GET http://x/echo HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"\n'
    )
    check = next(c for c in load_checks(ids=["rob.parser-differential"]))
    params = {**check.params, "corpus": str(corpus), "generated": 0}
    ctx = ProbeContext("127.0.0.1", 0, "uvicorn", adapter, None, probe_targets(), tmp_path)
    result = run_check(replace(check, params=params), ctx)
    assert result.status == "FAIL", result.evidence
    assert "1 disagreement(s) with uvicorn-h11" in result.evidence
    assert "vs uvicorn-h11: absolute" in result.evidence
    detail = json.loads((tmp_path / "uvicorn-parser-differential.json").read_text())
    assert [row["case"] for row in detail["vs_sibling"]] == ["absolute"]
