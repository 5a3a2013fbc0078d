"""A locustfile whose requests fail in every way covet-bench counts, for the stats fixtures.

`data/locust-mixed.json` and `data/locust-mixed_final_failures.csv` are what a real locust run
of this file left (`LocustDriver` with `workdir`, 8 users, 2 s, against the raw app): a 404
(locust's own status error), a 503 given by the file ("status 503"), a rejected body
("body: ..."), a refused connection (port 9 on 127.0.0.1) and plain successes.
"""

from __future__ import annotations

from locust import FastHttpUser, task


class MixedUser(FastHttpUser):
    @task
    def mixed(self) -> None:
        self.client.get("/plaintext")
        self.client.get("/missing")
        with self.client.get("/json", catch_response=True) as response:
            response.failure("status 503")
        with self.client.get("/plaintext", name="/plaintext body", catch_response=True) as r:
            r.failure(f"body: {(r.text or '')[:20]!r}")
        self.client.get("http://127.0.0.1:9/refused", name="refused")
