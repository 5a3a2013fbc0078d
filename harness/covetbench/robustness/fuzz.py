"""Black-box HTTP/1.1 fuzzing over raw sockets: the record behind `fuzz.json`.

Valid requests (`fuzz_cases.SEEDS`) are mutated by 1-3 seeded mutators (byte flips, insertions,
deletions, duplicated headers, bogus Content-Length / Transfer-Encoding, chunk-size garbage,
over-long lines, random bytes, split writes); each case goes to the server on a fresh connection
and the answer is classed: `response` (one valid HTTP response), `multiple` (one input, several
responses, as an input may hold two requests; `surplus` when the responses outnumber the blank
lines that could end a request head, plus one for bytes after the last: one request answered
twice), `close` (closed or reset with no response), `timeout` (neither within `case_timeout`:
the server still waits for bytes), `garbage` (bytes that are not an HTTP response) or `connect`
(refused). Cases run in batches (a few at once); after each batch the server must still be alive
and answer `GET /plaintext` correctly within `probe_timeout` (a failed probe stops the run). It
passes when every probe does AND no input got a 5xx answer (a server error on malformed input;
501 and 505 are the RFC's own answers to an unknown transfer coding or HTTP version, allowed:
`ALLOWED_5XX`), none got more answers than it held requests (`surplus`: a double answer) and the
server logged no traceback (`broken_rules`). The default target is the covet framework app on
covet's server, the pair covet's "production ready" claim is about.

The inputs depend only on `seed` and `cases` (`inputs_sha256` proves it): a failing run replays.

    record = run_fuzz(FuzzConfig(out_dir=Path("reports/final"), cases=2000, seed=1))
    record["passed"], record["outcomes"]
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.apps import builtin_apps, scenarios_dir
from covetbench.conformance.model import escape
from covetbench.exceptions import UsageError
from covetbench.net.rawclient import RawExchange, exchange
from covetbench.results.files import FUZZ_JSON
from covetbench.results.meta import collect_meta, utc_now
from covetbench.results.store import atomic_write
from covetbench.robustness.fuzz_cases import FuzzCase, generate_cases, inputs_digest
from covetbench.robustness.probe import locked_server, probe, provenance, resolve_target
from covetbench.run.lock import LOCK_PATH
from covetbench.servers import RunningServer, ServerAdapter

#: failing inputs kept in the record, and flagged ones per outcome class
KEEP_INPUTS = 10

#: 5xx statuses that are a correct answer to malformed input, not a server error: 501 (a
#: transfer coding it does not implement, RFC 9112 §6.1) and 505 (HTTP version, RFC 9110 §15.6.6)
ALLOWED_5XX = (501, 505)

#: outcome classes whose inputs are kept for a look
_FLAGGED = ("surplus", "5xx", "multiple", "garbage", "timeout")


_BLANK_LINE = re.compile(rb"\n\r?\n")


def classify(ex: RawExchange) -> str:
    """The outcome class of one exchange (see the module docstring)."""
    if ex.error.startswith("connect failed"):
        return "connect"
    if len(ex.responses) > 1:
        # every request ends its head with a blank line, and bytes after the last one may be
        # answered too (an error for a partial head): more responses than that means one
        # request got several answers
        ends = [m.end() for m in _BLANK_LINE.finditer(ex.sent)]
        heads = len(ends) + (1 if not ends or ex.sent[ends[-1] :].strip() else 0)
        return "surplus" if len(ex.responses) > heads else "multiple"
    if ex.responses:
        return "response"
    if ex.received:
        return "garbage"
    if ex.closed:
        return "close"
    return "timeout"


@dataclass
class FuzzConfig:
    """One fuzzing run; fields with a `help` are `covet-bench fuzz` options."""

    out_dir: Path
    server: str = field(default="covet", metadata={"help": "server adapter"})
    app: str = field(default="covet", metadata={"help": "built-in app"})
    cases: int = field(default=2000, metadata={"help": "inputs to send"})
    seed: int = field(default=1, metadata={"help": "random seed (same seed, same inputs)"})
    batch: int = field(default=25, metadata={"help": "cases between two liveness probes"})
    parallel: int = field(default=8, metadata={"help": "cases in flight at once"})
    case_timeout: float = field(
        default=1.0, metadata={"help": "seconds to wait for an answer to one case"}
    )
    probe_timeout: float = field(
        default=3.0, metadata={"help": "seconds the liveness probe may take"}
    )
    max_seconds: float = field(default=600.0, metadata={"help": "stop sending cases after this"})
    server_cpus: list[int] = field(default_factory=lambda: [0])
    lock_path: Path | None = LOCK_PATH
    command: list[str] = field(default_factory=list)
    #: an adapter object instead of a registry name (tests use stand-in servers)
    adapter: ServerAdapter | None = None

    def validate(self) -> None:
        if self.cases < 1 or self.batch < 1 or self.parallel < 1:
            raise UsageError("--cases, --batch and --parallel must be positive")
        if self.case_timeout <= 0 or self.probe_timeout <= 0 or self.max_seconds <= 0:
            raise UsageError("timeouts and --max-seconds must be positive")


def _input_row(case: FuzzCase, outcome: str, detail: str = "") -> dict[str, Any]:
    row = {
        "case": case.index,
        "mutations": list(case.mutations),
        "pieces": len(case.pieces),
        "input": escape(case.data, 300),
        "outcome": outcome,
    }
    if detail:
        row["detail"] = detail[:500]
    return row


def run_fuzz(config: FuzzConfig) -> dict[str, Any]:
    """Fuzz the server, write `out_dir/fuzz.json` and return the record."""
    config.validate()
    adapter = resolve_target(config.server, config.app, config.adapter)
    cases = generate_cases(config.seed, config.cases)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    meta = collect_meta(
        config.command, {"server_cpus": config.server_cpus}, cwd=scenarios_dir().parent
    )
    record: dict[str, Any] = {
        "kind": "fuzz",
        "passed": False,
        "summary": "",
        "started_at": utc_now(),
        "app": config.app,
        "seed": config.seed,
        "inputs_sha256": inputs_digest(cases),
        "settings": {
            k: getattr(config, k)
            for k in ("cases", "batch", "parallel", "case_timeout", "probe_timeout", "max_seconds")
        },
        "meta": meta,
    }
    log = config.out_dir / "logs" / f"fuzz-{adapter.name}-{config.app}.log"
    app = builtin_apps()[config.app]
    with locked_server(adapter, app, config.server_cpus, log, config.lock_path) as server:
        record["server"] = server.options_used()
        _fuzz(config, server, cases, record)
        record["provenance"] = provenance(
            server,
            config.app,
            meta,
            size=record["cases_sent"],
            unit="cases",
            duration_s=record["elapsed_s"],
            thresholds={
                "case_timeout": config.case_timeout,
                "probe_timeout": config.probe_timeout,
                "max_5xx": 0,
                "allowed_5xx": list(ALLOWED_5XX),
                "max_surplus": 0,
                "max_tracebacks": 0,
            },
        )
    record["finished_at"] = utc_now()
    atomic_write(config.out_dir / FUZZ_JSON, json.dumps(record, indent=2, allow_nan=False) + "\n")
    return record


def _send(server: RunningServer, case: FuzzCase, timeout: float) -> RawExchange:
    pieces = list(case.pieces)
    pause = 0.002 if len(pieces) > 1 else 0.0
    # a split HEAD's first piece may be "HE": tell the client its answer has no body
    bodiless = {0} if case.data.startswith(b"HEAD ") else set()
    return exchange(
        server.host,
        server.port,
        pieces,
        timeout=timeout,
        grace=0.05,
        pause=pause,
        bodiless=bodiless,
    )


def log_tracebacks(log_path: Path) -> list[str]:
    """The exception line of every traceback in a server log, object addresses blanked."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for i, line in enumerate(lines):
        if not line.startswith("Traceback (most recent call last)"):
            continue
        j = i + 1
        while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
            j += 1
        if j < len(lines):
            found.append(re.sub(r" at 0x[0-9a-fA-F]+", "", lines[j])[:200])
    return found


def broken_rules(server_errors: int, surplus: int, tracebacks: list[str]) -> list[str]:
    """The failure rules beyond liveness a run broke, each in words (empty: none)."""
    broken = []
    if server_errors:
        allowed = "/".join(str(s) for s in ALLOWED_5XX)
        broken.append(
            f"{server_errors} answers with a 5xx status (a server error on malformed input; "
            f"{allowed} allowed)"
        )
    if surplus:
        broken.append(f"{surplus} inputs answered more times than they held requests")
    if tracebacks:
        first = tracebacks[0]
        broken.append(f"{len(tracebacks)} tracebacks in the server log (first: {first})")
    return broken


def _fuzz(
    config: FuzzConfig, server: RunningServer, cases: list[FuzzCase], record: dict[str, Any]
) -> None:
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    server_errors = 0
    flagged: list[dict[str, Any]] = []
    failing: list[dict[str, Any]] = []
    probes = probes_failed = sent = 0
    failure = ""
    ok, why = probe(server, config.probe_timeout)
    probes += 1
    if not ok:
        failure = f"not answering before fuzzing: {why}"
    with ThreadPoolExecutor(max_workers=config.parallel) as pool:
        for start in range(0, len(cases), config.batch):
            if failure:
                break
            if time.monotonic() - started > config.max_seconds:
                failure = f"stopped after {config.max_seconds:.0f}s with {sent} cases sent"
                break
            batch = cases[start : start + config.batch]
            exchanges = list(pool.map(lambda c: _send(server, c, config.case_timeout), batch))
            sent += len(batch)
            for case, ex in zip(batch, exchanges, strict=True):
                outcome = classify(ex)
                outcomes[outcome] += 1
                for response in ex.responses:
                    statuses[f"{response.status // 100}xx"] += 1
                errors = [r for r in ex.responses if r.status >= 500]
                server_errors += sum(1 for r in errors if r.status not in ALLOWED_5XX)
                if errors:
                    outcome = "5xx"  # for the flag only: a server error on malformed input
                kept = sum(1 for row in flagged if row["outcome"] == outcome)
                if outcome in _FLAGGED and kept < KEEP_INPUTS:
                    flagged.append(_input_row(case, outcome, ex.summary()))
            ok, why = probe(server, config.probe_timeout)
            probes += 1
            if not ok:
                probes_failed += 1
                kind = "crash" if not server.alive() else "hang or wrong answer"
                failure = f"{kind} after cases {batch[0].index}-{batch[-1].index}: {why}"
                failing.extend(_input_row(c, "suspect") for c in batch[:KEEP_INPUTS])
    elapsed = time.monotonic() - started
    crashed = not server.alive()
    tracebacks = log_tracebacks(server.log_path)
    tally = ", ".join(f"{n} {k}" for k, n in outcomes.most_common())
    broken = broken_rules(server_errors, outcomes["surplus"], tracebacks)
    if failure:
        summary = f"FAILED: {failure} ({sent} of {len(cases)} cases sent: {tally})"
    else:
        summary = (
            f"{sent} malformed inputs (seed {config.seed}) to {server.adapter.name} "
            f"({config.app}) in {elapsed:.0f}s: {tally}; all {probes} liveness probes answered"
        )
    if broken:
        summary = ("" if failure else "FAILED: ") + summary + "; " + "; ".join(broken)
    record.update(
        passed=not failure and not broken,
        broken_rules=broken,
        server_errors=server_errors,
        summary=summary,
        cases_sent=sent,
        elapsed_s=round(elapsed, 2),
        outcomes=dict(outcomes),
        statuses=dict(statuses),
        probes=probes,
        probes_failed=probes_failed,
        crashed=crashed,
        exit_code=server.proc.returncode if crashed else None,
        server_log_tracebacks=len(tracebacks),
        server_log_errors=dict(Counter(tracebacks).most_common(KEEP_INPUTS)),
        failing_inputs=failing,
        flagged_inputs=flagged,
        server_log_tail=server.log_tail(20) if failure else "",
    )
