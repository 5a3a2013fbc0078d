"""One request for locust: GET /plaintext, answer checked (the `plaintext` scenario).

A non-2xx answer fails as "status N", a wrong body as "body: ..."; a request that got no answer
keeps the error locust recorded. See `journey.py` for the multi-step journey.
"""

from __future__ import annotations

from locust import FastHttpUser, task

PLAINTEXT = "Hello, World!"


class PlaintextUser(FastHttpUser):
    @task
    def plaintext(self) -> None:
        with self.client.get("/plaintext", catch_response=True) as response:
            if response.status_code == 0:
                return
            if not 200 <= response.status_code < 300:
                response.failure(f"status {response.status_code}")
            elif PLAINTEXT not in (response.text or ""):
                response.failure(f"body: {(response.text or '')[:60]!r}")
            else:
                response.success()
