"""The template checks (`fw.template-*`, what the "template engine" claim is judged on) pass on
covet's framework app and fail on an app whose templates do not escape: both served by uvicorn
and asked over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from covetbench.apps import AppTarget
from covetbench.conformance.loader import load_checks
from covetbench.conformance.model import FAIL, PASS
from covetbench.conformance.probes import ProbeContext
from covetbench.conformance.runner import conformance_apps_dir, run_check
from covetbench.servers import get_server
from covetbench.servers.base import ServerOptions

CHECKS = {c.id: c for c in load_checks() if c.id.startswith("fw.template-")}

# The covet framework app's /greet with autoescape turned off (what an XSS looks like) and no
# context processor.
_UNESCAPED_APP = """
import sys
from pathlib import Path
sys.path.insert(0, {apps!r})
from covet import Covet, Request, Response
from covet.templating import Jinja2Templates

app = Covet()
templates = Jinja2Templates(directory=Path({apps!r}) / "templates", autoescape=False)


@app.get("/items")
async def items(request: Request) -> dict[str, bool]:
    return {{"ok": True}}


@app.get("/greet")
async def greet(request: Request) -> Response:
    name = request.query_params.get("name", "")
    return templates.TemplateResponse(request, "greet.html", {{"name": name}})
"""


def _serve(target: AppTarget, log: Path) -> Iterator[ProbeContext]:
    adapter = get_server("uvicorn")
    if not adapter.is_installed():
        pytest.skip("uvicorn is not installed")
    with adapter.launch(target, ServerOptions(), log) as running:
        yield ProbeContext(running.host, running.port, "uvicorn", adapter, running)


@pytest.fixture(scope="module")
def covet_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeContext]:
    apps = str(conformance_apps_dir())
    log = tmp_path_factory.mktemp("fw") / "uvicorn.log"
    yield from _serve(AppTarget("fw_covet", "fw_covet:app", apps), log)


@pytest.fixture(scope="module")
def unescaped_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeContext]:
    where = tmp_path_factory.mktemp("unescaped")
    source = _UNESCAPED_APP.format(apps=str(conformance_apps_dir()))
    (where / "unescaped_app.py").write_text(source)
    yield from _serve(AppTarget("unescaped", "unescaped_app:app", str(where)), where / "log")


def test_the_template_checks_exist() -> None:
    assert sorted(CHECKS) == [
        "fw.template-autoescape",
        "fw.template-context-processor",
        "fw.template-url-for",
    ]


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_covet_templates_pass(covet_app: ProbeContext, check_id: str) -> None:
    result = run_check(CHECKS[check_id], covet_app)
    assert result.status == PASS, result.evidence


def test_an_unescaped_template_without_processor_fails_those_checks_only(
    unescaped_app: ProbeContext,
) -> None:
    result = run_check(CHECKS["fw.template-autoescape"], unescaped_app)
    assert result.status == FAIL and "<script>" in result.evidence, result.evidence
    result = run_check(CHECKS["fw.template-context-processor"], unescaped_app)
    assert result.status == FAIL, result.evidence
    assert run_check(CHECKS["fw.template-url-for"], unescaped_app).status == PASS
