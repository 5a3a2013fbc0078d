"""junit.xml for CI systems: one testsuite per column (server or framework), one testcase per
check; FAIL is a <failure>, ERROR an <error>, UNSUPPORTED a <skipped>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from covetbench.conformance.model import ERROR, FAIL, UNSUPPORTED


def junit_tree(data: dict[str, Any]) -> ET.ElementTree[ET.Element]:
    """Build the XML from a conformance.json dict."""
    root = ET.Element("testsuites", name="covet-bench conform")
    columns = list(dict.fromkeys([*data.get("servers", []), *data.get("frameworks", [])]))
    for column in columns:
        suite = ET.SubElement(root, "testsuite", name=column)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in data["checks"]:
            result = check["results"].get(column)
            if result is None:
                continue
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{column}.{check['group']}",
                name=f"{check['id']} [{check['level']}] {check['title']}",
            )
            status, evidence = result["status"], result["evidence"]
            if status == FAIL:
                counts["failures"] += 1
                ET.SubElement(
                    case, "failure", message=f"{check['level']}: {check['spec']}"
                ).text = evidence
            elif status == ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message="the check could not run").text = evidence
            elif status == UNSUPPORTED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=evidence[:200])
            else:
                ET.SubElement(case, "system-out").text = evidence
        for key, value in counts.items():
            suite.set(key, str(value))
    return ET.ElementTree(root)


def write_junit(data: dict[str, Any], path: Path) -> Path:
    tree = junit_tree(data)
    ET.indent(tree)
    tmp = path.with_suffix(".xml.tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path
