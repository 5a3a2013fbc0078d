"""Black-box HTTP/1.1 fuzzing over raw sockets: the record behind `fuzz.json`.

Valid requests (`SEEDS`) are mutated by 1-3 seeded mutators (byte flips, insertions, deletions,
duplicated headers, bogus Content-Length / Transfer-Encoding, chunk-size garbage, over-long
lines, random bytes, split writes); each case goes to the server on a fresh connection and the
answer is classed: `response` (one valid HTTP response), `multiple` (one input, several
responses, as an input may hold two requests; `surplus` when the responses outnumber the
blank lines that could end a request head: one request answered twice),
`close` (closed or reset with no response), `timeout` (neither within `case_timeout`: the server
still waits for bytes), `garbage` (bytes that are not an HTTP response) or `connect` (refused).
Cases run in batches (a few at once); after each batch the server must still be alive and
answer `GET /plaintext` correctly within `probe_timeout`. It passes when every probe does.

The inputs depend only on `seed` and `cases` (`inputs_sha256` proves it): a failing run replays.

    record = run_fuzz(FuzzConfig(out_dir=Path("reports/final"), cases=2000, seed=1))
    record["passed"], record["outcomes"]
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
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
from covetbench.robustness.probe import locked_server, probe, resolve_target
from covetbench.run.lock import LOCK_PATH
from covetbench.servers import RunningServer, ServerAdapter

#: failing inputs kept in the record, and flagged ones per outcome class
KEEP_INPUTS = 10

#: outcome classes whose inputs are kept for a look
_FLAGGED = ("surplus", "5xx", "multiple", "garbage", "timeout")
_ECHO = b'{"message":"Hello, World!"}'
SEEDS: tuple[bytes, ...] = (
    b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
    b"GET /json HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nUser-Agent: fuzz\r\n\r\n",
    b"GET /users/42?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    b"HEAD /plaintext HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_ECHO) + _ECHO,
    b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"%x\r\n" % len(_ECHO) + _ECHO + b"\r\n0\r\n\r\n",
    b"GET /plaintext HTTP/1.0\r\n\r\n",
    b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\nGET /json HTTP/1.1\r\nHost: h\r\n\r\n",
)
_INTERESTING = (
    b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b"\x7f", b"\xff", b"%", b"%00",
    b"\r\n\r\n", b"\r\n ", b"chunked", b"HTTP/1.1", b"0\r\n\r\n",
)  # fmt: skip
_BAD_CL = (
    b"-1", b"abc", b"99999999999999999999999", b"1, 2", b" 5 ", b"0x10", b"+5", b"", b"1e3",
    b"4\r\nContent-Length: 9", b"18446744073709551616",
)  # fmt: skip
_BAD_TE = (
    b"chunked, identity", b"chunked\x00", b"xchunked", b"identity", b"chunked, chunked",
    b"CHUNKED", b" chunked", b"chunked\r\nContent-Length: 3", b"gzip", b"\x0bchunked",
)  # fmt: skip
_BAD_CHUNK = (
    b"zz", b"-1", b"ffffffffffffffffffffff", b"5;" + b"x" * 300, b"", b"0x5", b"5 5", b"\x00",
)  # fmt: skip


@dataclass(frozen=True)
class FuzzCase:
    """One input: the pieces written (more than one: split writes) and the mutators applied."""

    index: int
    pieces: tuple[bytes, ...]
    mutations: tuple[str, ...]

    @property
    def data(self) -> bytes:
        return b"".join(self.pieces)


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = _pos(rng, data)
    return data[:at] + rng.choice(_INTERESTING) * rng.randint(1, 4) + data[at:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 16) :]


def _head_lines(data: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body if sep else b""


def _join(lines: list[bytes], body: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _dup_header(rng: random.Random, data: bytes) -> bytes:
    lines, body = _head_lines(data)
    if len(lines) < 2:
        return data + b"Host: h\r\nHost: h\r\n\r\n"
    i = rng.randrange(1, len(lines))
    lines.insert(rng.randrange(1, len(lines) + 1), lines[i])
    return _join(lines, body)


def _set_header(data: bytes, name: bytes, value: bytes) -> bytes:
    lines, body = _head_lines(data)
    lines = [ln for ln in lines if not ln.lower().startswith(name.lower() + b":")] or lines
    lines.insert(1, name + b": " + value)
    return _join(lines, body)


def _bogus_cl(rng: random.Random, data: bytes) -> bytes:
    return _set_header(data, b"Content-Length", rng.choice(_BAD_CL)) + b"x" * rng.randint(0, 8)


def _bogus_te(rng: random.Random, data: bytes) -> bytes:
    return _set_header(data, b"Transfer-Encoding", rng.choice(_BAD_TE)) + b"5\r\nhello\r\n0\r\n\r\n"


def _chunk_garbage(rng: random.Random, data: bytes) -> bytes:
    lines, _ = _head_lines(data)
    lines = [ln for ln in lines if not ln.lower().startswith((b"content-length", b"transfer-"))]
    lines.append(b"Transfer-Encoding: chunked")
    size = rng.choice(_BAD_CHUNK)
    tail = rng.choice((b"\r\nhello\r\n0\r\n\r\n", b"\r\nhello", b"\nhello\n0\n\n", b"\r\n"))
    return _join(lines, size + tail)


def _long_line(rng: random.Random, data: bytes) -> bytes:
    lines, body = _head_lines(data)
    n = rng.choice((4_097, 8_193, 65_537, 200_000))
    where = rng.randrange(3)
    if where == 0:  # a long target
        lines[0] = lines[0].replace(b" /", b" /" + b"a" * n, 1)
    elif where == 1:  # a long header value
        lines.insert(1, b"X-Long: " + b"v" * n)
    else:  # many headers
        lines[1:1] = [b"X-H%d: v" % i for i in range(n // 64)]
    return _join(lines, body)


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    return rng.randbytes(rng.randint(1, 512))


def _version(rng: random.Random, data: bytes) -> bytes:
    bad = (b"HTTP/9.9", b"HTTP/1.1\x00", b"HTTP/1.10", b"HTTP/", b"HTTPS/1.1", b"http/1.1")
    return data.replace(b"HTTP/1.1", rng.choice(bad), 1)


MUTATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip,
    "insert": _insert,
    "delete": _delete,
    "dup_header": _dup_header,
    "bogus_cl": _bogus_cl,
    "bogus_te": _bogus_te,
    "chunk_garbage": _chunk_garbage,
    "long_line": _long_line,
    "random_bytes": _random_bytes,
    "version": _version,
}


def generate_cases(seed: int, count: int) -> list[FuzzCase]:
    """`count` fuzz cases, a pure function of `seed`; about one in five is split into pieces."""
    rng = random.Random(seed)
    names = sorted(MUTATORS)
    cases = []
    for index in range(count):
        data = rng.choice(SEEDS)
        applied = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            name = rng.choice(names)
            data = MUTATORS[name](rng, data)
            applied.append(name)
        pieces: tuple[bytes, ...] = (data,)
        if len(data) > 1 and rng.random() < 0.2:
            cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 4))))
            bounds = [0, *cuts, len(data)]
            pieces = tuple(data[a:b] for a, b in zip(bounds, bounds[1:], strict=False))
            applied.append("split")
        cases.append(FuzzCase(index, pieces, tuple(applied)))
    return cases


def inputs_digest(cases: list[FuzzCase]) -> str:
    digest = hashlib.sha256()
    for case in cases:
        for piece in case.pieces:
            digest.update(len(piece).to_bytes(8, "big") + piece)
        digest.update(b"|")
    return digest.hexdigest()


def classify(ex: RawExchange) -> str:
    """The outcome class of one exchange (see the module docstring)."""
    if ex.error.startswith("connect failed"):
        return "connect"
    if len(ex.responses) > 1:
        # every request ends its head with a blank line: more responses than blank lines + 1
        # means one request got several answers
        heads = ex.sent.count(b"\n\r\n") + ex.sent.count(b"\n\n") + 1
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
    app: str = field(default="raw", metadata={"help": "built-in app"})
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


def _fuzz(
    config: FuzzConfig, server: RunningServer, cases: list[FuzzCase], record: dict[str, Any]
) -> None:
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
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
                if any(r.status >= 500 for r in ex.responses):
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
    if failure:
        summary = f"FAILED: {failure} ({sent} of {len(cases)} cases sent: {tally})"
    else:
        summary = (
            f"{sent} malformed inputs (seed {config.seed}) to {server.adapter.name} "
            f"({config.app}) in {elapsed:.0f}s: {tally}; all {probes} liveness probes answered"
        )
        if tracebacks:
            summary += f"; {len(tracebacks)} tracebacks in the server log"
    record.update(
        passed=not failure,
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
