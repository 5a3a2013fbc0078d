"""`covet-bench fuzz`: inputs are a pure function of the seed, a healthy server passes, a toy
server that crashes or hangs on malformed input fails, and the ledger reads the record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from covetbench.apps import scenarios_dir
from covetbench.claims.evidence import Evidence
from covetbench.claims.ledger import ClaimSpec, load_claims
from covetbench.claims.provenance import judge_evidence
from covetbench.exceptions import UsageError
from covetbench.net.rawclient import RawExchange, RawResponse
from covetbench.results.files import FUZZ_JSON
from covetbench.results.meta import git_info
from covetbench.robustness.fuzz import (
    ALLOWED_5XX,
    FuzzConfig,
    broken_rules,
    classify,
    log_tracebacks,
    run_fuzz,
)
from covetbench.robustness.fuzz_cases import MUTATORS, generate_cases, inputs_digest
from covetbench.verdicts import INCONCLUSIVE, REFUTED, VALIDATED
from tests.harness.conftest import ArgvServer

# Answers every request with 200 "Hello, World!" and closes, except a request head holding a
# NUL or a non-ASCII byte: then it exits ("crash"), blocks its event loop ("hang"), answers 500
# ("error500"), answers twice ("double") or logs a traceback and answers 400 ("traceback").
_TOY_SERVER = """\
import asyncio, os, sys, time, traceback

MODE, PORT = sys.argv[1], int(sys.argv[2])
OK = b"HTTP/1.1 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nHello, World!"
CLOSE = b" X\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"


async def handle(reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\\r\\n\\r\\n"), 2)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        return
    if b"\\x00" in head or any(b >= 0x80 for b in head):
        if MODE == "crash":
            os._exit(3)
        if MODE == "hang":
            time.sleep(3600)
        if MODE == "error500":
            writer.write(b"HTTP/1.1 500" + CLOSE)
        elif MODE == "double":
            writer.write(OK + OK)
        else:
            try:
                raise ValueError("boom")
            except ValueError:
                traceback.print_exc()
            writer.write(b"HTTP/1.1 400" + CLOSE)
        await writer.drain()
        writer.close()
        return
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 13\\r\\nConnection: close\\r\\n\\r\\n"
                 b"Hello, World!")
    await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
"""

_OK = RawResponse("HTTP/1.1", 200, "OK", [])
_CLAIM = ClaimSpec(
    "production-fuzzing", "fuzzing", "test", "evidence", {"file": FUZZ_JSON, "needs": "a fuzz"}
)


def _config(tmp_path: Path, **kw: object) -> FuzzConfig:
    base: dict[str, object] = {
        "out_dir": tmp_path / "out",
        "cases": 100,
        "seed": 3,
        "case_timeout": 0.5,
        "probe_timeout": 1.0,
        "max_seconds": 30.0,
        "lock_path": tmp_path / "lock",
        "command": ["covet-bench", "fuzz"],
    }
    return FuzzConfig(**{**base, **kw})  # type: ignore[arg-type]


def _toy(tmp_path: Path, mode: str) -> ArgvServer:
    script = tmp_path / "toy_server.py"
    script.write_text(_TOY_SERVER)
    return ArgvServer(f"toy-{mode}", [sys.executable, str(script), mode])


def test_cases_are_a_pure_function_of_the_seed() -> None:
    first, again, other = generate_cases(7, 300), generate_cases(7, 300), generate_cases(8, 300)
    assert first == again and inputs_digest(first) == inputs_digest(again)
    assert inputs_digest(first) != inputs_digest(other)
    used = {m for case in generate_cases(1, 2000) for m in case.mutations}
    assert used == {*MUTATORS, "split"}
    assert all(case.data for case in first)


@pytest.mark.parametrize(
    ("exchange", "outcome"),
    [
        (RawExchange(b"x", error="connect failed: refused"), "connect"),
        (RawExchange(b"x", responses=[RawResponse("HTTP/1.1", 400, "Bad", [])]), "response"),
        (
            RawExchange(b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", responses=[_OK] * 2),
            "multiple",
        ),
        (
            RawExchange(b"GET / HTTP/1.1\r\n\r\n", responses=[_OK] * 3),
            "surplus",
        ),
        (RawExchange(b"x", received=b"junk", closed=True), "garbage"),
        (RawExchange(b"x", closed=True), "close"),
        (RawExchange(b"x"), "timeout"),
    ],
    ids=["connect", "response", "multiple", "surplus", "garbage", "close", "timeout"],
)
def test_classify(exchange: RawExchange, outcome: str) -> None:
    assert classify(exchange) == outcome


def test_covet_passes_and_records_what_it_tested(tmp_path: Path) -> None:
    """The default target is the covet app on covet's server; the record says so, and the
    ledger still wants the 2,000 cases its claim states."""
    record = run_fuzz(_config(tmp_path))
    assert record["passed"], record["summary"]
    on_disk = json.loads((tmp_path / "out" / FUZZ_JSON).read_text())
    assert on_disk["cases_sent"] == 100 and sum(on_disk["outcomes"].values()) == 100
    assert on_disk["probes_failed"] == 0 and on_disk["probes"] == 5
    assert on_disk["inputs_sha256"] == inputs_digest(generate_cases(3, 100))
    prov = on_disk["provenance"]
    commit, _ = git_info(scenarios_dir().parent)
    assert [prov[k] for k in ("server", "app", "unit", "size")] == ["covet", "covet", "cases", 100]
    assert prov["git_commit"] == commit and prov["parser"] in ("httptools", "python")
    assert prov["thresholds"]["max_5xx"] == 0 and prov["duration_s"] > 0
    evidence = Evidence(evidence_dirs=[tmp_path / "out"], commit=commit)
    assert judge_evidence(_CLAIM, evidence).verdict == VALIDATED
    ledger = {s.id: s for s in load_claims(scenarios_dir() / "claims.toml")}
    v = judge_evidence(ledger["production-fuzzing"], evidence)
    assert v.verdict == INCONCLUSIVE and "covered 100 cases" in v.evidence


@pytest.mark.parametrize(
    ("mode", "rule"),
    [
        ("error500", "answers with a 5xx status"),
        ("double", "inputs answered more times than they held requests"),
        ("traceback", "tracebacks in the server log (first: ValueError: boom)"),
    ],
)
def test_a_server_alive_but_wrong_fails(tmp_path: Path, mode: str, rule: str) -> None:
    """Liveness is not enough: a 5xx, a double answer or a traceback fails the run."""
    record = run_fuzz(_config(tmp_path, adapter=_toy(tmp_path, mode)))
    assert not record["passed"] and record["probes_failed"] == 0
    assert record["cases_sent"] == 100, "these rules do not stop the run"
    assert any(rule in r for r in record["broken_rules"]), record["broken_rules"]
    assert record["summary"].startswith("FAILED: ") and rule in record["summary"]


def test_broken_rules_allow_the_rfc_5xx_answers() -> None:
    assert broken_rules(0, 0, []) == []
    assert ALLOWED_5XX == (501, 505)
    assert broken_rules(2, 1, ["KeyError: x"]) == [
        "2 answers with a 5xx status (a server error on malformed input; 501/505 allowed)",
        "1 inputs answered more times than they held requests",
        "1 tracebacks in the server log (first: KeyError: x)",
    ]


@pytest.mark.parametrize("mode", ["crash", "hang"])
def test_a_server_that_breaks_on_malformed_input_fails(tmp_path: Path, mode: str) -> None:
    record = run_fuzz(_config(tmp_path, adapter=_toy(tmp_path, mode)))
    assert not record["passed"]
    assert record["probes_failed"] == 1
    assert record["failing_inputs"], "the batch that broke it is kept"
    assert record["crashed"] is (mode == "crash")
    if mode == "crash":
        assert record["exit_code"] == 3
    assert record["cases_sent"] < 100, "fuzzing stops at the first failed probe"
    commit, _ = git_info(scenarios_dir().parent)
    evidence = Evidence(evidence_dirs=[tmp_path / "out"], commit=commit)
    assert judge_evidence(_CLAIM, evidence).verdict == REFUTED


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        run_fuzz(_config(tmp_path, cases=0))


def test_log_tracebacks_names_each_exception(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(
        'INFO: serving\nTraceback (most recent call last):\n  File "x.py", line 1\n'
        "    boom()\nValueError: <Cycle object at 0x7f00ab> is not in deque\nINFO: still up\n"
    )
    assert log_tracebacks(log) == ["ValueError: <Cycle object> is not in deque"]
    assert log_tracebacks(tmp_path / "missing.log") == []
