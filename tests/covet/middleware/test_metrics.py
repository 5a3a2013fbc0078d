"""MetricsMiddleware under `covet serve`: the output parsed by prometheus_client's own text
parser, route templates as labels, and the server's counters in the same registry."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from covet._prometheus import Registry
from tests.covet.server.deploy_support import launch
from tests.covet.server.test_server_socket import read_to_eof


def _scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_requests_by_route_template_and_server_counters() -> None:
    with launch("metrics_app", "--timeout-header", "1") as served:
        base = f"http://127.0.0.1:{served.port}"
        with httpx.Client(base_url=base) as client:  # one keep-alive connection
            for user_id in (1, 2, 3):
                assert client.get(f"/users/{user_id}").json() == {"id": user_id}
            assert client.get("/nowhere").status_code == 404
            assert client.get("/boom").status_code == 500
            assert client.get("/api/items/x").text == "x"
            assert client.post("/metrics").status_code == 405
        with ThreadPoolExecutor(1) as pool:  # a scrape while /slow runs sees it in flight
            slow = pool.submit(httpx.get, f"{base}/slow")
            in_flight = 0.0
            for _ in range(200):
                in_flight = _scrape(served.port)["covet_http_requests_in_flight"][()]
                if in_flight or slow.done():
                    break
            assert slow.result().status_code == 200 and in_flight == 1
        # a parse error and a header timeout
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost a\r\n\r\n")
            assert read_to_eof(sock).startswith(b"HTTP/1.1 400 ")
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")
            assert read_to_eof(sock).startswith(b"HTTP/1.1 408 ")
        with httpx.Client(base_url=base) as client:
            with client.stream("GET", "/users/5"):
                pass
        samples = _scrape(served.port)
    requests = samples["covet_http_requests_total"]
    key = (("method", "GET"), ("route", "/users/{user_id:int}"), ("status", "200"))
    assert requests[key] >= 3
    assert not any("/users/1" == dict(k)["route"] for k in requests)  # never the raw path
    assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
    assert requests[(("method", "GET"), ("route", "/boom"), ("status", "500"))] == 1
    assert requests[(("method", "GET"), ("route", "/api/items/{name}"), ("status", "200"))] == 1
    assert not any(dict(k)["route"] == "/metrics" for k in requests)
    count = samples["covet_http_request_duration_seconds_count"]
    assert count[(("method", "GET"), ("route", "/users/{user_id:int}"))] == requests[key]
    buckets = samples["covet_http_request_duration_seconds_bucket"]
    assert buckets[(("le", "+Inf"), ("method", "GET"), ("route", "/slow"))] == 1
    assert samples["covet_http_requests_in_flight"][()] == 0
    assert samples["covet_server_connections_total"][()] >= 6
    assert samples["covet_server_keepalive_reuses_total"][()] >= 5
    assert samples["covet_server_parse_errors_total"][(("status", "400"),)] == 1
    assert samples["covet_server_timeouts_total"][(("kind", "header"),)] == 1
    assert samples["covet_server_limit_rejections_total"][()] == 0
    assert samples["covet_server_open_connections"][()] >= 1


def test_limit_concurrency_rejections_are_counted() -> None:
    with launch("metrics_app", "--limit-concurrency", "1") as served:
        base = f"http://127.0.0.1:{served.port}"
        rejected = 0
        with ThreadPoolExecutor(1) as pool:
            for _ in range(5):  # whichever request comes second is refused; tally them all
                slow = pool.submit(httpx.get, f"{base}/slow")
                while not slow.done():  # bounded: /slow ends after 0.5 s
                    rejected += httpx.get(f"{base}/users/1").status_code == 503
                rejected += slow.result().status_code == 503
                if rejected:
                    break
        assert rejected >= 1
        for _ in range(100):  # the scrape itself is refused while another connection lingers
            answer = httpx.get(f"{base}/metrics")
            if answer.status_code == 200:
                break
            rejected += 1
        families = text_string_to_metric_families(answer.text)
        totals = {s.name: s.value for f in families for s in f.samples if not s.labels}
        assert totals["covet_server_limit_rejections_total"] == rejected


def test_websocket_connections_are_counted() -> None:
    with launch("metrics_app") as served:
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")
            samples = _scrape(served.port)
            assert samples["covet_websocket_connections"][()] == 1
            assert samples["covet_websocket_connections_total"][()] == 1
            mask = b"\x00\x00\x00\x00"
            sock.sendall(b"\x81\x82" + mask + b"hi")
            assert b"hi" in sock.recv(4096)
        for _ in range(100):
            if _scrape(served.port)["covet_websocket_connections"][()] == 0:
                break
            time.sleep(0.02)
        assert _scrape(served.port)["covet_websocket_connections"][()] == 0


def test_label_values_are_escaped() -> None:
    registry = Registry()
    counter = registry.counter("x_total", "Help with \\ backslash.", ("route",))
    counter.inc(('/a"b\\c\nd',))
    histogram = registry.histogram("h_seconds", "H.", (), buckets=(0.1, 1.0))
    histogram.observe(0.5)
    histogram.observe(5.0)
    families = {f.name: f for f in text_string_to_metric_families(registry.render())}
    assert families["x"].samples[0].labels == {"route": '/a"b\\c\nd'}
    values = {(s.name, s.labels.get("le")): s.value for s in families["h_seconds"].samples}
    assert values[("h_seconds_bucket", "0.1")] == 0
    assert values[("h_seconds_bucket", "1")] == 1
    assert values[("h_seconds_bucket", "+Inf")] == 2 and values[("h_seconds_sum", None)] == 5.5
    with pytest.raises(ValueError, match="already registered"):
        registry.counter("x_total", "again")
