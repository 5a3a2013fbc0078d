"""`covet-bench instructions`: the deterministic gate, instructions per request under callgrind.

    covet-bench instructions                                  # measure, write, exit 0
    covet-bench instructions --baseline-rev origin/main       # measure REV too, compare
    covet-bench instructions --baseline reports/instr-main    # compare with a stored run
    covet-bench instructions --apps raw,covet --scenarios json --kinds app --threshold 0.5

Writes `instructions.json` and `summary.md` into `--out`. Exit 0 pass (or nothing to compare
with), 1 a target over `--threshold` % more instructions per request, 2 usage or data error
(valgrind missing, nothing comparable). How counting works: `covetbench.gate.instructions.measure`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from covetbench.apps import builtin_apps, resolve_apps, scenarios_dir
from covetbench.checkout import mirrored_path, resolve_rev, revision_path
from covetbench.commands._common import add_app_option, extra_apps
from covetbench.exceptions import BenchError, ExitCode, ResultsError, UsageError
from covetbench.gate.instructions.compare import (
    InstructionsOutcome,
    compare,
    load_document,
    write_outputs,
)
from covetbench.gate.instructions.measure import (
    PARSERS,
    InstructionsConfig,
    Measurement,
    baseline_pythonpath,
    build_targets,
    document,
    measure_targets,
    valgrind_path,
)
from covetbench.results.files import run_dir
from covetbench.results.meta import git_info


def _default_kinds() -> str:
    kinds = ["app", "server-python"]
    if importlib.util.find_spec("httptools") is not None:
        kinds.append("server-httptools")
    return ",".join(kinds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = InstructionsConfig()
    parser.add_argument("--apps", default="covet", help="apps to count (default %(default)s)")
    add_app_option(parser)
    parser.add_argument(
        "--scenarios", default="plaintext,json", help="HTTP scenarios (default %(default)s)"
    )
    parser.add_argument(
        "--kinds",
        default=None,
        help="app (in-process ASGI call) and/or server-<parser> (raw bytes through covet's "
        f"server protocol; parsers {', '.join(PARSERS)}); default: {_default_kinds()}",
    )
    parser.add_argument(
        "--requests",
        default=f"{defaults.requests_low},{defaults.requests_high}",
        metavar="LOW,HIGH",
        help="requests of the two runs whose difference is counted (default %(default)s)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=defaults.threshold_pct,
        metavar="PCT",
        help="more instructions per request than this %% is a regression (default %(default)s)",
    )
    side = parser.add_mutually_exclusive_group()
    side.add_argument(
        "--baseline", type=Path, metavar="PATH", help="a stored instructions.json (or its dir)"
    )
    side.add_argument(
        "--baseline-rev",
        metavar="REV",
        help="measure git revision REV in a temporary worktree with the same driver",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")


def _parse_requests(text: str) -> tuple[int, int]:
    low, _, high = text.partition(",")
    try:
        return int(low), int(high)
    except ValueError:
        raise UsageError(f"--requests {text!r}: expected LOW,HIGH like 20,220") from None


def _kinds(text: str) -> list[str | None]:
    result: list[str | None] = []
    for kind in (k.strip() for k in text.split(",") if k.strip()):
        if kind == "app":
            result.append(None)
        elif kind.startswith("server-") and kind[len("server-") :] in PARSERS:
            result.append(kind[len("server-") :])
        else:
            valid = ", ".join(["app", *(f"server-{p}" for p in PARSERS)])
            raise UsageError(f"--kinds: unknown kind {kind!r}; valid: {valid}")
    if not result:
        raise UsageError("--kinds: none given")
    return result


def _progress(side: str) -> Any:
    def on_done(m: Measurement) -> None:
        print(f"  {side:8} {m.key:40} {m.per_request:>12,.0f} instructions/request", flush=True)

    return on_done


def run(args: argparse.Namespace) -> int:
    low, high = _parse_requests(args.requests)
    config = InstructionsConfig(low, high, args.threshold)
    names = [n.strip() for n in args.apps.split(",") if n.strip()]
    extra = extra_apps(args.app)
    apps = resolve_apps(names, extra)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    targets = build_targets(apps, scenarios, _kinds(args.kinds or _default_kinds()))
    if not targets:
        raise UsageError("nothing to count (WebSocket scenarios are not counted)")
    if valgrind_path() is None:
        print("covet-bench instructions: valgrind is not installed", file=sys.stderr)
        return ExitCode.ERROR
    out_dir: Path = args.out or run_dir("instructions")

    baseline: dict[str, Any] | None = None
    label: str | None = None
    try:
        if args.baseline is not None:
            baseline = load_document(args.baseline)
            label = str(args.baseline)
        commit, dirty = git_info()
        print(f"counting {len(targets)} targets under callgrind", flush=True)
        with mirrored_path(scenarios_dir().parent) as path:
            measured = measure_targets(
                targets,
                config,
                pythonpath_for=baseline_pythonpath(path, builtin_apps()),
                on_done=_progress("current"),
            )
        current = document(
            measured,
            config,
            {"git_commit": commit, "git_dirty": dirty, "command": ["covet-bench", *sys.argv[1:]]},
        )
        if args.baseline_rev is not None:
            baseline, label = _measure_rev(args.baseline_rev, targets, config)
    except ResultsError as exc:
        print(f"covet-bench instructions: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except UsageError:
        raise
    except BenchError as exc:
        print(f"covet-bench instructions: {exc}", file=sys.stderr)
        return ExitCode.ERROR

    outcome: InstructionsOutcome | None = None
    if baseline is not None:
        outcome = compare(baseline, current, config.threshold_pct)
    json_path, md_path = write_outputs(out_dir, current, baseline, outcome, label)
    print(md_path.read_text(encoding="utf-8"))
    print(f"wrote {json_path} and {md_path}")
    return outcome.exit_code if outcome is not None else 0


def _measure_rev(
    rev: str, targets: list[Any], config: InstructionsConfig
) -> tuple[dict[str, Any], str]:
    repo = Path.cwd()
    sha = resolve_rev(repo, rev)
    with revision_path(repo, rev) as path:
        measured = measure_targets(
            targets,
            config,
            pythonpath_for=baseline_pythonpath(path, builtin_apps()),
            on_done=_progress("baseline"),
        )
    return document(measured, config, {"git_commit": sha, "rev": rev}), f"{rev} ({sha[:12]})"
