"""The parser differential: one request corpus read by several HTTP/1.1 parsers, every
disagreement listed.

The harness never imports covet, so covet's two parsers are compared as what they are in
production: two launches of covet's server (`covet` with httptools, `covet-python`) serving the
probe app, each corpus case sent on its own connection. h11 is the outside reference, run
in-process. An outcome is what the parser made of the bytes: the requests the app was handed
(method, path, body length and CRC) and whether the stream was rejected, plus, between two
launches of one server, the exact status codes.

    cases = load_corpus(conformance_dir() / "corpus/parser_corpus.toml", generated=120, seed=10)
    ours = server_outcomes("127.0.0.1", 8000, cases)
    disagreements(ours, {c.name: h11_outcome(c.data) for c in cases}, exact=False)
"""

from __future__ import annotations

import base64
import json
import random
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import h11

from covetbench.conformance.loader import expand_request
from covetbench.exceptions import SuiteError
from covetbench.net.rawclient import RawExchange, exchange
from covetbench.tomlfile import read_toml

#: a case's bytes are sent with this Host; no corpus case depends on the real port
CORPUS_HOST = "corpus.test"


@dataclass(frozen=True)
class CorpusCase:
    """One named request stream (possibly several pipelined requests, possibly malformed)."""

    name: str
    data: bytes
    tags: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What a parser made of one case: the requests it handed on, and how the stream ended."""

    served: list[str] = field(default_factory=list)
    rejected: bool = False
    #: exact status codes (servers only; h11 has none of its own)
    statuses: list[int] = field(default_factory=list)

    def coarse(self) -> str:
        text = " ; ".join(self.served) or "nothing served"
        return text + (" ; rejected" if self.rejected else "")

    def exact(self) -> str:
        return f"{self.coarse()} ; statuses {self.statuses}"


def load_corpus(path: Path, generated: int = 0, seed: int = 0) -> list[CorpusCase]:
    """The `[[case]]` tables of `path` (name, request, tags; `request` is latin-1 with
    `{repeat:C:N}`), then `generated` mutations of its `valid`-tagged cases."""
    _, data = read_toml(path)
    cases: list[CorpusCase] = []
    seen: set[str] = set()
    for entry in data.get("case", []):
        name = entry.get("name")
        if not isinstance(name, str) or not isinstance(entry.get("request"), str):
            raise SuiteError(str(path), None, "case", f"needs name and request: {entry!r:.80}")
        if name in seen:
            raise SuiteError(str(path), None, "name", f"duplicate case {name!r}")
        seen.add(name)
        raw = expand_request(entry["request"], CORPUS_HOST)
        cases.append(CorpusCase(name, raw, tuple(entry.get("tags", []))))
    return cases + mutations(cases, generated, seed)


#: (name, old, new) rewrites a mutation may apply to a valid request's bytes
_REWRITES: tuple[tuple[str, bytes, bytes], ...] = (
    ("lf-only", b"\r\n", b"\n"),
    ("cr-only", b"\r\n", b"\r"),
    ("space-before-colon", b"Host:", b"Host :"),
    ("tab-ows", b": ", b":\t"),
    ("no-ows", b": ", b":"),
    ("trailing-ows", b"\r\n", b" \r\n"),
    ("lower-method", b"GET ", b"get "),
    ("lower-post", b"POST ", b"post "),
    ("http10", b"HTTP/1.1\r\n", b"HTTP/1.0\r\n"),
    ("http12", b"HTTP/1.1\r\n", b"HTTP/1.2\r\n"),
    ("http2-version", b"HTTP/1.1\r\n", b"HTTP/2.0\r\n"),
    ("lower-version", b"HTTP/1.1\r\n", b"http/1.1\r\n"),
    ("double-space", b" HTTP/1.1", b"  HTTP/1.1"),
    ("absolute-form", b" /echo", b" http://corpus.test/echo"),
    ("dup-host", b"Host: corpus.test\r\n", b"Host: corpus.test\r\nHost: other.test\r\n"),
    ("no-host", b"Host: corpus.test\r\n", b""),
    ("empty-host", b"Host: corpus.test", b"Host:"),
    ("cl-leading-zeros", b"Content-Length: ", b"Content-Length: 000"),
    ("cl-plus", b"Content-Length: ", b"Content-Length: +"),
    ("cl-dup-same", b"Content-Length: 5\r\n", b"Content-Length: 5\r\nContent-Length: 5\r\n"),
    ("cl-list-same", b"Content-Length: 5", b"Content-Length: 5, 5"),
    ("te-upper", b"chunked", b"CHUNKED"),
    ("te-double", b"chunked", b"chunked, chunked"),
    ("te-identity", b"chunked", b"identity, chunked"),
    ("te-vtab", b"chunked", b"chunked\x0b"),
    ("chunk-ext", b"\r\n5\r\n", b"\r\n5;x=1\r\n"),
    ("chunk-zeros", b"\r\n5\r\n", b"\r\n00000000000000000005\r\n"),
    ("chunk-upper-hex", b"\r\na\r\n", b"\r\nA\r\n"),
    ("chunk-space", b"\r\n5\r\n", b"\r\n5 \r\n"),
    ("nul-value", b"X-A: 1", b"X-A: 1\x00"),
    ("ctl-value", b"X-A: 1", b"X-A: 1\x01"),
    ("del-name", b"X-A:", b"X-A\x7f:"),
    ("obs-fold", b"X-A: 1\r\n", b"X-A: 1\r\n  folded\r\n"),
    ("space-in-name", b"X-A:", b"X A:"),
    ("utf8-value", b"X-A: 1", b"X-A: \xc3\xa9"),
    ("fragment", b" /echo", b" /echo#frag"),
    ("space-in-target", b" /echo", b" /ec ho"),
    ("pipelined-twice", b"", b""),
)


def mutations(cases: list[CorpusCase], count: int, seed: int) -> list[CorpusCase]:
    """`count` deterministic variants of the `valid` cases: one or two rewrites each (a seeded
    generator, so every run sends the same bytes and a disagreement can be replayed)."""
    bases = [c for c in cases if "valid" in c.tags]
    if not bases or count <= 0:
        return []
    rng = random.Random(seed)
    made: list[CorpusCase] = []
    names: set[str] = set()
    for _ in range(count * 20):
        if len(made) >= count:
            break
        base = rng.choice(bases)
        picks = rng.sample(_REWRITES, rng.choice((1, 1, 2)))
        data, applied = base.data, []
        for rewrite, old, new in picks:
            changed = data + base.data if not old else data.replace(old, new, 1)
            if changed != data:
                data = changed
                applied.append(rewrite)
        name = f"gen.{base.name}+{'+'.join(applied)}"
        if not applied or name in names:
            continue
        names.add(name)
        made.append(CorpusCase(name, data, ("generated",)))
    return made


def _served(method: str, target: str, body: bytes) -> str:
    """One handed-on request as text: method, decoded path, body length and CRC32."""
    if target.startswith(("http://", "https://")):
        target = urlsplit(target).path or "/"
    path = unquote(target.split("?", 1)[0], errors="replace")
    return f"{method} {path} body={len(body)}:{zlib.crc32(body):08x}"


def h11_outcome(data: bytes, max_requests: int = 16) -> Outcome:
    """h11's reading of `data` as a server that answers every request 200 and keeps the
    connection when h11 allows it (no EOF: the client is still there)."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    outcome = Outcome()
    method, target, body = "", "", b""
    for _ in range(max_requests * 8):
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError:
            outcome.rejected = True
            return outcome
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return outcome
        if isinstance(event, h11.Request):
            method, target, body = event.method.decode("latin-1"), event.target.decode(), b""
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            outcome.served.append(_served(method, target, body))
            if len(outcome.served) >= max_requests:
                return outcome
            # an Upgrade or CONNECT leaves h11 waiting for the server's decision: declined
            # (not 101, not 2xx), so the bytes after it stay HTTP
            _respond(conn, 200 if _settled(conn) else 400)
            if not (_settled(conn) and conn.our_state is h11.DONE):
                return outcome  # MUST_CLOSE: h11 reads no further
            conn.start_next_cycle()
        elif isinstance(event, h11.ConnectionClosed):
            return outcome
    return outcome


def _settled(conn: h11.Connection) -> bool:
    """The client's side is done with its request (no protocol switch pending)."""
    return conn.their_state is h11.DONE


def _respond(conn: h11.Connection, status: int) -> None:
    try:
        conn.send(h11.Response(status_code=status, headers=[("content-length", "0")]))
        conn.send(h11.EndOfMessage())
    except h11.LocalProtocolError:
        pass  # h11 refuses this response in its state: the connection ends here


def exchange_outcome(ex: RawExchange) -> Outcome:
    """A server's reading of a case, from the probe app's /echo answers: each 200 JSON echo is
    a request it handed on; any other final status is a rejection (the corpus only ever asks
    for /echo, whose app always answers 200)."""
    outcome = Outcome(statuses=[r.status for r in ex.responses])
    for response in ex.responses:
        try:
            payload: dict[str, Any] = json.loads(response.body)
        except ValueError:
            payload = {}
        scope = payload.get("scope") if isinstance(payload, dict) else None
        if response.status != 200 or not isinstance(scope, dict):
            outcome.rejected = True
            break
        body = b"".join(
            base64.b64decode(e.get("body", {}).get("b64", ""))
            for e in payload.get("events", [])
            if isinstance(e, dict) and isinstance(e.get("body"), dict)
        )
        outcome.served.append(_served(str(scope.get("method")), str(scope.get("path")), body))
    return outcome


def server_outcomes(
    host: str, port: int, cases: list[CorpusCase], want: dict[str, int], workers: int = 12
) -> dict[str, Outcome]:
    """Every case on its own connection to host:port, `workers` at a time; `want[name]` is how
    many responses to wait for before the short grace that catches surplus ones."""

    def one(case: CorpusCase) -> tuple[str, Outcome]:
        ex = exchange(host, port, case.data, want=want.get(case.name, 1), timeout=1.5, grace=0.3)
        return case.name, exchange_outcome(ex)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, cases))


def disagreements(
    left: dict[str, Outcome], right: dict[str, Outcome], exact: bool
) -> list[tuple[str, str, str]]:
    """(case, left's outcome, right's outcome) for every case the two read differently."""
    found = []
    for name, ours in left.items():
        theirs = right.get(name)
        if theirs is None:
            continue
        a, b = (ours.exact(), theirs.exact()) if exact else (ours.coarse(), theirs.coarse())
        if a != b:
            found.append((name, a, b))
    return found
