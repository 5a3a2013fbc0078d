"""A user journey for locust: four steps against the peer apps' endpoints, each answer checked.

    GET  /plaintext       "Hello, World!"
    GET  /json            {"message": "Hello, World!"}
    GET  /users/{id}      {"id": id}             (a random id: the path parameter)
    POST /echo            the JSON body sent, back unchanged

Every peer app (raw, covet, starlette, fastapi, blacksheep: `scenarios/apps/`) serves these
endpoints, so this one file is the journey for the covet app and for the raw app alike. A step
fails when the answer is not 2xx ("status N") or its body is not the expected one ("body: ...");
a request that got no answer keeps the error locust recorded (refused, reset, timeout), so
covet-bench can count failures by kind. No wait between steps: a closed loop, like wrk.

Run it alone (`locust -f scenarios/locustfiles/journey.py -H http://127.0.0.1:8000`) or through
`covet-bench run --loadgen locust --scenarios journey`.
"""

from __future__ import annotations

import json
import random
from typing import Any, Protocol

from locust import FastHttpUser, task

PLAINTEXT = "Hello, World!"
MESSAGE = {"message": "Hello, World!"}
ECHO = {"message": "Hello, World!", "id": 42, "tags": ["a", "b"]}
ECHO_BODY = json.dumps(ECHO, separators=(",", ":"))
JSON_HEADERS = {"Content-Type": "application/json"}


class Answer(Protocol):
    """What a step reads of locust's `ResponseContextManager` (`catch_response=True`)."""

    status_code: int
    content: bytes | None
    text: str | None

    def success(self) -> None: ...

    def failure(self, exc: str) -> None: ...


def answered(response: Answer) -> bool:
    """True for a 2xx answer. Another status fails the step as "status N"; no answer at all
    (status 0) is left to locust, which records the socket error itself."""
    code = response.status_code
    if code == 0:
        return False
    if not 200 <= code < 300:
        response.failure(f"status {code}")
        return False
    return True


def expect_json(response: Answer, expected: Any) -> None:
    """Succeed when the 2xx answer's body is `expected` as JSON, else fail as "body: ..."."""
    if not answered(response):
        return
    try:
        got = json.loads(response.content or b"")
    except ValueError:
        got = None
    if got == expected:
        response.success()
    else:
        response.failure(f"body: {(response.content or b'')[:60]!r}, expected {expected!r}")


class JourneyUser(FastHttpUser):
    """One visitor walking the four steps again and again over one keep-alive connection."""

    @task
    def journey(self) -> None:
        with self.client.get("/plaintext", catch_response=True) as response:
            if answered(response):
                if response.text == PLAINTEXT:
                    response.success()
                else:
                    response.failure(f"body: {(response.text or '')[:60]!r}")
        with self.client.get("/json", catch_response=True) as response:
            expect_json(response, MESSAGE)
        user_id = random.randint(1, 10_000)
        with self.client.get(
            f"/users/{user_id}", name="/users/{id}", catch_response=True
        ) as response:
            expect_json(response, {"id": user_id})
        with self.client.post(
            "/echo", data=ECHO_BODY, headers=JSON_HEADERS, catch_response=True
        ) as response:
            expect_json(response, ECHO)
