"""The HTML report and its Markdown digest: `render_report(dir, baseline=None) -> Path`.

    from covetbench.report import render_report
    render_report(Path("reports/run"))   # -> reports/run/report.html (+ summary.md)

`inputs` reads the run directory, `model` picks what each chart shows, `charts` (matplotlib)
and `tables` (pandas) draw it, `render` fills the Jinja2 template, `markdown` writes the digest.
"""

from __future__ import annotations

from covetbench.report.render import render_report

__all__ = ["render_report"]
