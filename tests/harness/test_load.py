"""Load drivers: the registry contract, wrk output parsing, and real wrk runs against a server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from covetbench.apps import builtin_apps
from covetbench.exceptions import LoadGeneratorError, UnknownNameError
from covetbench.load import LOAD_DRIVERS, LoadDriver, LoadRequest, WrkDriver, get_loadgen
from covetbench.load.wrk import lua_string, parse_wrk_output, render_script
from covetbench.records import LatencyMs
from covetbench.scenarios import get_scenario
from covetbench.servers import RunningServer, ServerOptions, get_server

WRK_TEXT = """\
Running 2s test @ http://127.0.0.1:8000/plaintext
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.61ms  216.11us   5.97ms   92.83%
    Req/Sec    39.81k     1.89k   41.94k    85.00%
  Latency Distribution
     50%    1.58ms
     75%    1.65ms
     90%    1.75ms
     99%    2.33ms
  79199 requests in 2.00s, 9.67MB read
  Socket errors: connect 0, read 3, write 0, timeout 7
  Non-2xx or 3xx responses: 12
Requests/sec:  39561.84
Transfer/sec:      4.83MB
"""

WRK_JSON = (
    'COVETBENCH_WRK {"requests":79199,"duration_us":2001900,"bytes":10139648,"connect":0,'
    '"read":3,"write":0,"status":12,"timeout":7,"mean_us":1610.500,"stdev_us":216.110,'
    '"max_us":5970,"min_us":300,"p50_us":1580,"p75_us":1650,"p90_us":1750,"p99_us":2330,'
    '"p999_us":4100}\n'
)


@dataclass(frozen=True)
class _Shape:
    name: str = "custom"
    method: str = "GET"
    path: str = "/plaintext"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    kind: str = "http"


@pytest.mark.parametrize("name", sorted(LOAD_DRIVERS))
def test_registry_drivers_honour_the_contract(name: str) -> None:
    driver = get_loadgen(name)
    assert isinstance(driver, LoadDriver)
    assert driver.name == name
    assert driver.install_hint
    assert driver.is_installed() == (driver.version() is not None)


def test_unknown_loadgen_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError, match="valid load generators: .*wrk"):
        get_loadgen("ab")


def test_parse_text_output_without_script() -> None:
    out = parse_wrk_output(WRK_TEXT)
    assert out.requests == 79199
    assert out.duration_s == pytest.approx(2.0)
    assert out.rps == pytest.approx(39599.5)
    assert out.latency_ms.p50 == pytest.approx(1.58)
    assert out.p75_ms == pytest.approx(1.65)
    assert out.latency_ms.p99 == pytest.approx(2.33)
    assert out.latency_ms.mean == pytest.approx(1.61)
    assert out.latency_ms.max == pytest.approx(5.97)
    assert out.latency_ms.p999 is None
    assert (out.errors.non2xx, out.errors.read, out.errors.timeout) == (12, 3, 7)


def test_parse_prefers_exact_figures_from_the_script() -> None:
    out = parse_wrk_output(WRK_TEXT + WRK_JSON)
    assert out.duration_s == pytest.approx(2.0019)
    assert out.rps == pytest.approx(79199 / 2.0019)
    assert out.latency_ms.p999 == pytest.approx(4.1)
    assert out.latency_ms.max == pytest.approx(5.97)
    assert out.errors.total == 22


def test_parse_zero_percentiles_become_unknown_not_zero() -> None:
    zeros = WRK_JSON.replace('"p50_us":1580', '"p50_us":0')
    out = parse_wrk_output(WRK_TEXT + zeros, pipeline=16)
    assert out.requests == 79199
    assert out.latency_ms.p50 is None
    assert out.latency_ms.p99 is None
    assert out.latency_ms.mean is None


def test_parse_garbage_percentiles_become_unknown() -> None:
    garbage = WRK_JSON.replace('"p90_us":1750', '"p90_us":0')
    assert parse_wrk_output(WRK_TEXT + garbage).latency_ms == LatencyMs()
    backwards = WRK_JSON.replace('"p99_us":2330', '"p99_us":1000')
    assert parse_wrk_output(WRK_TEXT + backwards).latency_ms == LatencyMs()


def test_parse_without_request_count_is_an_error() -> None:
    with pytest.raises(LoadGeneratorError, match="unable to connect"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_lua_string_escapes_every_unsafe_byte() -> None:
    assert lua_string(b'a"b\\c\n\xc3\xa9') == '"a\\034b\\092c\\010\\195\\169"'
    assert lua_string("1") == '"1"'


def test_script_carries_method_headers_body_and_pipeline() -> None:
    script = render_script(get_scenario("echo"), pipeline=4)
    assert 'method = "POST"' in script
    assert '["Content-Type"] = "application/json"' in script
    assert "pipeline = 4" in script
    assert "done = function" in script


def test_missing_wrk_says_how_to_install(tmp_path: Path) -> None:
    driver = WrkDriver(executable="wrk-not-installed-anywhere")
    assert not driver.is_installed()
    assert driver.version() is None
    request = LoadRequest("http://127.0.0.1:1/", _Shape(), concurrency=1, duration_s=1)
    with pytest.raises(LoadGeneratorError, match=r"apt-get install wrk.*ci/setup"):
        driver.run(request)


def test_wrk_refuses_websocket_scenarios() -> None:
    request = LoadRequest("ws://127.0.0.1:1/ws", get_scenario("ws"), concurrency=1, duration_s=1)
    with pytest.raises(LoadGeneratorError, match="cannot drive"):
        WrkDriver().run(request)


@pytest.fixture(scope="module")
def raw_uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    app = builtin_apps()["raw"]
    with get_server("uvicorn").launch(app, ServerOptions(cpus=[0]), log) as server:
        yield server


def _drive(server: RunningServer, scenario: str | _Shape, pipeline: int = 1) -> LoadRequest:
    spec = scenario if isinstance(scenario, _Shape) else get_scenario(scenario)
    return LoadRequest(
        server.base_url + spec.path,
        spec,
        concurrency=16,
        duration_s=1,
        threads=1,
        cpus=[1],
        pipeline=pipeline,
    )


@pytest.mark.needs_wrk
def test_wrk_measures_a_real_run(raw_uvicorn: RunningServer) -> None:
    result = WrkDriver().run(_drive(raw_uvicorn, "plaintext"))
    assert result.loadgen == "wrk"
    assert result.requests > 100
    assert result.rps == pytest.approx(result.requests / result.duration_s)
    assert result.errors.total == 0
    lat = result.latency_ms
    assert lat.p50 is not None and lat.p99 is not None and lat.p999 is not None
    assert 0 < lat.p50 <= lat.p90 <= lat.p99 <= lat.p999 <= lat.max  # type: ignore[operator]
    assert result.cpu_s is not None and result.cpu_s > 0
    assert result.command[0].endswith("taskset") and result.command[1:3] == ["-c", "1"]
    assert "Latency Distribution" in result.raw_output


@pytest.mark.needs_wrk
def test_wrk_pipelined_run_reports_unknown_latency(raw_uvicorn: RunningServer) -> None:
    result = WrkDriver().run(_drive(raw_uvicorn, "plaintext", pipeline=16))
    assert result.requests > 100
    assert result.errors.total == 0
    # Debian's wrk cannot time pipelined requests: unknown, never a fake figure.
    assert result.latency_ms == LatencyMs()


@pytest.mark.needs_wrk
def test_wrk_posts_the_scenario_body(raw_uvicorn: RunningServer) -> None:
    result = WrkDriver().run(_drive(raw_uvicorn, "echo"))
    assert result.requests > 100
    assert result.errors.non2xx == 0  # a missing or mangled body would get a 400


@pytest.mark.needs_wrk
def test_wrk_counts_non_2xx(raw_uvicorn: RunningServer) -> None:
    result = WrkDriver().run(_drive(raw_uvicorn, _Shape(path="/users/nope")))
    assert result.requests > 0
    assert result.errors.non2xx == result.requests
