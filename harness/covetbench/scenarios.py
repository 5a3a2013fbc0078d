"""What is requested of an app under test: one `ScenarioSpec` per endpoint, by name.

A scenario is data: the request a load generator repeats (method, path, headers, body), whether
wrk can drive it, and the name of the verify rule that checks the answer before any load.

    spec = get_scenario("echo")
    spec.method, spec.path, spec.body  # ("POST", "/echo", b'{"message":"Hello, World!"}')
    spec.url("http://127.0.0.1:8000")  # "http://127.0.0.1:8000/echo"

A new scenario is one more entry of `SCENARIOS`, naming its verify rule in `covetbench.verify`.
The TechEmpower database scenarios (`needs_database`) need a database URL (`--database`, the
suite's `database`): without one the apps answer them 503, so `scenario_names(database=False)`
leaves them out of the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from covetbench.exceptions import UnknownNameError

KIND_HTTP = "http"
KIND_WEBSOCKET = "websocket"

#: rows per request of the queries, updates and cached-queries scenarios (TechEmpower's 20)
DB_QUERIES = 20

#: Body of the `echo` scenario; the verify rule expects it back unchanged.
ECHO_BODY = b'{"message":"Hello, World!","id":42,"tags":["a","b"]}'
#: the scenarios the `journey` walks through, in order (its locustfile does the same steps)
JOURNEY_STEPS = ("plaintext", "json", "users", "echo")


@dataclass(frozen=True)
class ScenarioSpec:
    """One request pattern, by name.

    `headers` and `body` are what a load generator must send (the wrk driver builds a Lua script
    from them when `method` is not GET or a body is present). `wrk_loadable` is False for
    scenarios wrk cannot drive (WebSocket, a multi-step journey). `verify_rule` names the rule
    in `covetbench.verify`. `locustfile` names the file in `scenarios/locustfiles/` that locust
    runs for it (None: locust cannot drive it unless `--locustfile` is given).
    """

    name: str
    kind: str
    method: str
    path: str
    verify_rule: str
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    wrk_loadable: bool = True
    locustfile: str | None = None
    #: served from the TechEmpower database (World, Fortune): needs a database URL
    needs_database: bool = False

    def url(self, base_url: str) -> str:
        """The full URL on a server, e.g. `http://127.0.0.1:8000/users/42` (ws:// for ws)."""
        if self.kind == KIND_WEBSOCKET and base_url.startswith("http"):
            base_url = "ws" + base_url[4:]
        return base_url.rstrip("/") + self.path

    @property
    def needs_script(self) -> bool:
        """True when wrk needs a Lua script to send this request (method or body)."""
        return self.method != "GET" or bool(self.body) or bool(self.headers)


SCENARIOS: dict[str, ScenarioSpec] = {
    spec.name: spec
    for spec in (
        ScenarioSpec(
            name="plaintext",
            kind=KIND_HTTP,
            method="GET",
            path="/plaintext",
            verify_rule="plaintext",
            description="TechEmpower plaintext: 'Hello, World!' as text/plain",
            locustfile="plaintext.py",
        ),
        ScenarioSpec(
            name="json",
            kind=KIND_HTTP,
            method="GET",
            path="/json",
            verify_rule="json",
            description='TechEmpower json: {"message":"Hello, World!"} serialized per request',
            locustfile="json_message.py",
        ),
        ScenarioSpec(
            name="users",
            kind=KIND_HTTP,
            method="GET",
            path="/users/42",
            verify_rule="users",
            description='path parameter: GET /users/42 -> {"id": 42}',
        ),
        ScenarioSpec(
            name="echo",
            kind=KIND_HTTP,
            method="POST",
            path="/echo",
            verify_rule="echo",
            description="POST a JSON body, get it back parsed and re-serialized",
            headers={"Content-Type": "application/json"},
            body=ECHO_BODY,
        ),
        ScenarioSpec(
            name="ws",
            kind=KIND_WEBSOCKET,
            method="GET",
            path="/ws",
            verify_rule="ws",
            description="WebSocket echo of text and bytes messages",
            wrk_loadable=False,
        ),
        ScenarioSpec(
            name="journey",
            kind=KIND_HTTP,
            method="GET",
            path="/plaintext",
            verify_rule="journey",
            description="a user journey (locust only): GET /plaintext, GET /json, "
            "GET /users/{id}, POST /echo, each answer checked",
            wrk_loadable=False,
            locustfile="journey.py",
        ),
        ScenarioSpec(
            name="db",
            kind=KIND_HTTP,
            method="GET",
            path="/db",
            verify_rule="db",
            description="TechEmpower db: one random World row as a JSON object",
            needs_database=True,
        ),
        ScenarioSpec(
            name="queries",
            kind=KIND_HTTP,
            method="GET",
            path=f"/queries?queries={DB_QUERIES}",
            verify_rule="queries",
            description=f"TechEmpower queries: {DB_QUERIES} World rows, one query each",
            needs_database=True,
        ),
        ScenarioSpec(
            name="fortunes",
            kind=KIND_HTTP,
            method="GET",
            path="/fortunes",
            verify_rule="fortunes",
            description="TechEmpower fortunes: Fortune + 1 row, sorted in code, escaped HTML",
            needs_database=True,
        ),
        ScenarioSpec(
            name="updates",
            kind=KIND_HTTP,
            method="GET",
            path=f"/updates?queries={DB_QUERIES}",
            verify_rule="updates",
            description=f"TechEmpower updates: {DB_QUERIES} World rows read, changed, written",
            needs_database=True,
        ),
        ScenarioSpec(
            name="cached-queries",
            kind=KIND_HTTP,
            method="GET",
            path=f"/cached-queries?count={DB_QUERIES}",
            verify_rule="cached-queries",
            description=f"TechEmpower cached queries: {DB_QUERIES} World rows from memory",
            needs_database=True,
        ),
    )
}


def get_scenario(name: str) -> ScenarioSpec:
    """The scenario called `name`; UnknownNameError lists the valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownNameError("scenario", name, SCENARIOS) from None


def scenario_names(*, database: bool = True) -> list[str]:
    """Every scenario's name; `database` False leaves out those that need a database."""
    return [name for name, spec in SCENARIOS.items() if database or not spec.needs_database]
