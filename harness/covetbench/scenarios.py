"""What is requested of an app under test: one `ScenarioSpec` per endpoint, by name.

A scenario is data: the request a load generator repeats (method, path, headers, body), whether
wrk can drive it, and the name of the verify rule that checks the answer before any load.

    spec = get_scenario("echo")
    spec.method, spec.path, spec.body  # ("POST", "/echo", b'{"message":"Hello, World!"}')
    spec.url("http://127.0.0.1:8000")  # "http://127.0.0.1:8000/echo"

A new scenario is one more entry of `SCENARIOS`, naming its verify rule in `covetbench.verify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from covetbench.exceptions import UnknownNameError

KIND_HTTP = "http"
KIND_WEBSOCKET = "websocket"

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
    )
}


def get_scenario(name: str) -> ScenarioSpec:
    """The scenario called `name`; UnknownNameError lists the valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownNameError("scenario", name, SCENARIOS) from None


def scenario_names() -> list[str]:
    return list(SCENARIOS)
