"""The report in a real browser: headless Chromium through Playwright, one launch per module.

Each page is opened from disk with every request intercepted: only the file itself and data:
URIs may load. The page must log no console error, decode every image, carry inline SVG charts,
and run nothing from its (hostile) inputs.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from covetbench.commands.run import judge_run_claims
from covetbench.records import FailureRecord, VerifyRecord
from covetbench.report import render_report
from tests.harness.factories import write_quick_run
from tests.harness.report import factory

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "reports"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.needs_chromium,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (ci/setup does)"),
]


@dataclass
class Opened:
    """A report page loaded in the browser, with everything it tried to do."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    from playwright import sync_api  # the dev extra ships it; only the browser may be absent

    profile = tempfile.mkdtemp(prefix="covet-report-chromium-")
    try:
        with sync_api.sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
                offline=True,
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def open_report(browser_context: Any) -> Iterator[Any]:
    pages: list[Any] = []

    def _open(html: Path) -> Opened:
        page = browser_context.new_page()
        pages.append(page)
        url = html.resolve().as_uri()
        opened = Opened(page=page, url=url)
        page.on(
            "console",
            lambda msg: opened.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: opened.page_errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("request", lambda req: opened.requests.append(req.url))

        def route(r: Any) -> None:
            if r.request.url == url or r.request.url.startswith("data:"):
                r.continue_()
            else:
                opened.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(url, wait_until="load")
        return opened

    yield _open
    for page in pages:
        page.close()


def _assert_self_contained(opened: Opened) -> None:
    page = opened.page
    assert opened.console_errors == []
    assert opened.page_errors == []
    assert opened.blocked == []
    assert all(u == opened.url or u.startswith("data:") for u in opened.requests), opened.requests
    images = page.evaluate(
        "() => Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt])"
    )
    assert all(ok and alt for ok, alt in images), images
    # every chart is inline SVG with alt text (aria-label + <title>)
    svgs = page.evaluate(
        "() => Array.from(document.querySelectorAll('figure > svg')).map(s => "
        "[s.getAttribute('role'), s.getAttribute('aria-label'), !!s.querySelector('title')])"
    )
    assert svgs and all(r == "img" and label and title for r, label, title in svgs), svgs
    assert page.evaluate("() => document.scripts.length") == 0


def test_full_report_is_self_contained_and_readable(tmp_path: Path, open_report: Any) -> None:
    html = render_report(factory.write_full(tmp_path / "run"))
    opened = open_report(html)
    _assert_self_contained(opened)
    page = opened.page
    text = page.inner_text("body")
    for heading in ["Throughput per scenario", "Latency", "Scaling with concurrency", "Resources"]:
        assert heading in text
    for heading in [
        "Comparison with the baseline",
        "Validity",
        "Conformance",
        "Claims",
        "Raw data",
    ]:
        assert heading in text
    assert "784K requests per second" in text and "REFUTED" in text
    # headline first: the fastest-configuration table is above the fold at 1280 px
    top = page.evaluate(
        "() => document.querySelector('table.t-headline').getBoundingClientRect().top"
    )
    assert top < 900
    # charts come before the full configuration table (which is collapsed)
    assert (
        page.evaluate("() => document.querySelector('table.t-configs').checkVisibility()") is False
    )
    # the CSV download is embedded and decodes to the trials
    href = page.get_attribute("a.download", "href")
    assert href is not None and href.startswith("data:text/csv")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-screenshot.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / "report-screenshot-fold.png"))


def test_hostile_inputs_render_as_text_and_never_run(tmp_path: Path, open_report: Any) -> None:
    runs = factory.trials(
        [factory.EVIL_APP, "covet"], [factory.EVIL_SERVER, "uvicorn"], ["json"], [64]
    )
    verify = [
        VerifyRecord(factory.EVIL_APP, factory.EVIL_SERVER, "json", "fail", [factory.EVIL_TEXT])
    ]
    failures = [
        FailureRecord(
            "covet", factory.EVIL_SERVER, "json", "launch", factory.EVIL_TEXT, factory.EVIL_TEXT
        )
    ]
    conformance = factory.conformance()
    conformance["servers"].append(factory.EVIL_SERVER)
    for check in conformance["checks"]:
        check["results"][factory.EVIL_SERVER] = {"status": "FAIL", "evidence": factory.EVIL_TEXT}
    claims = factory.claims()
    claims["claims"][0]["statement"] = factory.EVIL_TEXT
    claims["claims"][0]["evidence"] = factory.EVIL_TEXT
    directory = factory.write(
        tmp_path / "evil",
        results=factory.results(runs, verify, failures),
        conformance=conformance,
        claims=claims,
    )
    opened = open_report(render_report(directory))
    page = opened.page
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate("() => window.__pwned") is None
    assert opened.dialogs == []
    _assert_self_contained(opened)
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    text = page.inner_text("body")
    assert factory.EVIL_SERVER in text
    assert factory.EVIL_APP in text
    assert "<script>window.__pwned=3;alert(1)</script>" in text
    summary = (directory / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in summary and "&lt;script&gt;" in summary


def test_partial_inputs_say_what_is_missing(tmp_path: Path, open_report: Any) -> None:
    only_conformance = factory.write(tmp_path / "conf", conformance=factory.conformance())
    opened = open_report(render_report(only_conformance))
    page = opened.page
    text = page.inner_text("body")
    assert "Not in this report" in text and "results.json" in text and "claims.json" in text
    assert "Conformance" in text and "Throughput per scenario" not in text
    assert opened.console_errors == [] and opened.blocked == []

    only_results = factory.write(tmp_path / "res", results=factory.full_results())
    opened = open_report(render_report(only_results))
    _assert_self_contained(opened)
    text = opened.page.inner_text("body")
    assert "conformance.json" in text and "Throughput per scenario" in text


def test_claims_are_on_the_first_screen(tmp_path: Path, open_report: Any) -> None:
    """What `ci/bench` shows: the whole ledger judged on a quick run, every verdict (with its
    hardware line or the command for missing evidence) above the fold at 1280 x 900."""
    out = write_quick_run(tmp_path / "quick")
    html = judge_run_claims(out, True, Console(file=io.StringIO()))
    assert html is not None
    opened = open_report(html)
    page = opened.page
    assert opened.console_errors == [] and opened.blocked == []
    rows = page.evaluate(
        "() => Array.from(document.querySelectorAll('#verdicts li')).map(li => "
        "[li.innerText, li.getBoundingClientRect().bottom])"
    )
    assert len(rows) >= 10
    below = [text.splitlines()[0] for text, bottom in rows if bottom > 900]
    assert below == [], f"claims below the first screen: {below}"
    text = page.inner_text("#verdicts")
    assert "NOT REPRODUCED" in text and "on one core of" in text
    assert "needs evidence: covet-bench soak --out" in text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-claims-fold.png"))
