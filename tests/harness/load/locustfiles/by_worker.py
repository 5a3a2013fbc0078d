"""Each locust process names its requests after its pid: a master that merged its workers'
figures reports one name per worker (`test_distributed_locust_merges_into_one_record`)."""

from __future__ import annotations

import os

from locust import FastHttpUser, task


class ByWorkerUser(FastHttpUser):
    @task
    def plaintext(self) -> None:
        self.client.get("/plaintext", name=f"/plaintext from {os.getpid()}")
