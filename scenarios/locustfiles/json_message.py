"""One request for locust: GET /json, answer checked (the `json` scenario).

A non-2xx answer fails as "status N", a body other than {"message": "Hello, World!"} as
"body: ..."; a request that got no answer keeps the error locust recorded.
"""

from __future__ import annotations

import json

from locust import FastHttpUser, task

MESSAGE = {"message": "Hello, World!"}


class JsonUser(FastHttpUser):
    @task
    def json_message(self) -> None:
        with self.client.get("/json", catch_response=True) as response:
            if response.status_code == 0:
                return
            if not 200 <= response.status_code < 300:
                response.failure(f"status {response.status_code}")
                return
            try:
                body = json.loads(response.content or b"")
            except ValueError:
                body = None
            if body == MESSAGE:
                response.success()
            else:
                response.failure(f"body: {(response.content or b'')[:60]!r}")
