"""JUnit XML of a run: one testcase per configuration, claim and gate comparison, for CI reporters.

- configuration suite: a measured configuration passes (its figures as properties); one
  carrying a flag of `BLOCKING_FLAGS` is skipped with the flags' meaning (its figure cannot be
  trusted, which is not the app's failure); a configuration the run could not measure
  (`FailureRecord`: launch, verify, load, skip) is a failure with the reason and log tail.
- claims suite (when claims.json is present): VALIDATED passes, REFUTED fails with the evidence,
  any other verdict (INCONCLUSIVE, NOT REPRODUCED...) is skipped with the verdict and evidence.
- gate suite (when gate.json is present): a regression or a missing configuration fails, an
  inconclusive or underpowered comparison is skipped, the rest pass.

    tree = junit_tree(load_run(Path("reports/x")))
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from covetbench.export.source import RunRecords
from covetbench.records import ALL_FLAG_DESCRIPTIONS, ConfigSummary
from covetbench.verdicts import (
    GATE_INCONCLUSIVE,
    MISSING,
    REFUTED,
    REGRESSION,
    UNDERPOWERED,
    VALIDATED,
)

#: the longest message attribute written (CI reporters show it on one line)
MESSAGE_CHARS = 300


def _suite(root: ET.Element, name: str) -> tuple[ET.Element, dict[str, int]]:
    suite = ET.SubElement(root, "testsuite", name=name)
    return suite, {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}


def _close(suite: ET.Element, counts: dict[str, int]) -> None:
    for key, value in counts.items():
        suite.set(key, str(value))


def _config_case(suite: ET.Element, s: ConfigSummary, run: RunRecords) -> str | None:
    key = s.key
    deep = f" p{key.pipeline}" if key.pipeline > 1 else ""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"{key.app}.{key.server}",
        name=f"{key.scenario} {key.loadgen} c{key.concurrency}{deep}",
    )
    props = ET.SubElement(case, "properties")
    values: dict[str, Any] = {
        "median_rps": round(s.median_rps, 1),
        "ci_low": round(s.ci_low, 1),
        "ci_high": round(s.ci_high, 1),
        "ci_level": s.ci_level,
        "cv": round(s.cv, 4),
        "trials": s.trials,
        "flags": ",".join(s.all_flags),
    }
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=str(value))
    blocking = run.blocking_flags(s)
    if blocking:
        reason = "; ".join(f"{f}: {ALL_FLAG_DESCRIPTIONS.get(f, '')}" for f in blocking)
        ET.SubElement(case, "skipped", message=f"figure not trusted: {reason}"[:MESSAGE_CHARS])
        return "skipped"
    ET.SubElement(case, "system-out").text = (
        f"{s.median_rps:,.0f} req/s, interval {s.ci_low:,.0f}..{s.ci_high:,.0f} "
        f"({s.interval_note or '95 %'}), CV {s.cv * 100:.1f} %"
    )
    return None


def _claim_case(suite: ET.Element, claim: dict[str, Any]) -> str | None:
    case = ET.SubElement(suite, "testcase", classname="claims", name=str(claim["id"]))
    verdict = str(claim["verdict"])
    evidence = str(claim.get("evidence") or "")
    statement = str(claim.get("statement") or "")
    if verdict == VALIDATED:
        ET.SubElement(case, "system-out").text = f"{statement}\n{evidence}".strip()
        return None
    if verdict == REFUTED:
        failure = ET.SubElement(case, "failure", message=f"{REFUTED}: {statement}"[:MESSAGE_CHARS])
        failure.text = evidence
        return "failures"
    first = evidence.splitlines()[0] if evidence else statement
    ET.SubElement(case, "skipped", message=f"{verdict}: {first}"[:MESSAGE_CHARS])
    return "skipped"


def _gate_case(suite: ET.Element, row: dict[str, Any]) -> str | None:
    deep = f" p{row['pipeline']}" if (row.get("pipeline") or 1) > 1 else ""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"gate.{row.get('app')}.{row.get('server')}",
        name=f"{row.get('scenario')} {row.get('loadgen')} c{row.get('concurrency')}{deep}",
    )
    verdict = str(row["verdict"])
    change = row.get("change_pct")
    detail = str(row.get("note") or row.get("reason") or "")
    if isinstance(change, int | float):
        detail = f"{change:+.1f}%" + (f"; {detail}" if detail else "")
    message = f"{verdict}: {detail}"[:MESSAGE_CHARS]
    if verdict in (REGRESSION, MISSING):
        ET.SubElement(case, "failure", message=message, type=verdict)
        return "failures"
    if verdict in (GATE_INCONCLUSIVE, UNDERPOWERED):
        ET.SubElement(case, "skipped", message=message)
        return "skipped"
    ET.SubElement(case, "system-out").text = message
    return None


def junit_tree(run: RunRecords) -> ET.ElementTree[ET.Element]:
    """The JUnit XML of one run directory's records."""
    root = ET.Element("testsuites", name=f"covet-bench {run.directory.name}")
    if run.summaries or run.failures:
        suite, counts = _suite(root, "configurations")
        for summary in run.summaries:
            counts["tests"] += 1
            outcome = _config_case(suite, summary, run)
            if outcome:
                counts[outcome] += 1
        for failure in run.failures:
            counts["tests"] += 1
            counts["failures"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{failure.app}.{failure.server}",
                name=failure.scenario or "(every scenario)",
            )
            message = f"{failure.stage} failed: {failure.reason}"[:MESSAGE_CHARS]
            ET.SubElement(case, "failure", message=message, type=failure.stage).text = (
                failure.log_tail or failure.reason
            )
        _close(suite, counts)
    if run.claims is not None:
        suite, counts = _suite(root, "claims")
        for claim in run.claims:
            counts["tests"] += 1
            outcome = _claim_case(suite, claim)
            if outcome:
                counts[outcome] += 1
        _close(suite, counts)
    if run.gate_rows is not None:
        suite, counts = _suite(root, "gate")
        for row in run.gate_rows:
            counts["tests"] += 1
            outcome = _gate_case(suite, row)
            if outcome:
                counts[outcome] += 1
        _close(suite, counts)
    return ET.ElementTree(root)
