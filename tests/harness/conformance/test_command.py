from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from covetbench.commands import conform
from covetbench.exceptions import UnknownNameError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    conform.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ("--servers", "nope"),
        ("--apps", "django"),
        ("--groups", "http2"),
        ("--framework-server", "x"),
    ],
)
def test_unknown_names_are_usage_errors(argv: tuple[str, ...], tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError):
        conform.run(_args(*argv, "--out", str(tmp_path)))


def test_fail_on_must_sets_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from covetbench.servers import get_server

    if not get_server("uvicorn").is_installed():
        pytest.skip("uvicorn is not installed")
    common = ("--servers", "uvicorn", "--apps", "none", "--no-autobahn", "--out", str(tmp_path))
    # uvicorn answers a request without Host (a MUST 400 in RFC 9112 §3.2)
    failing = _args(*common, "--checks", "h1.host-missing", "--fail-on-must", "uvicorn")
    assert conform.run(failing) == 1
    assert "h1.host-missing" in capsys.readouterr().out
    passing = _args(*common, "--checks", "sem.date-header", "--fail-on-must", "uvicorn")
    assert conform.run(passing) == 0
    assert (tmp_path / "conformance.json").exists() and (tmp_path / "junit.xml").exists()
