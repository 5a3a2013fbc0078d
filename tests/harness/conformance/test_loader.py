from __future__ import annotations

from pathlib import Path

import pytest

from covetbench.conformance.loader import expand_request, load_checks, load_file
from covetbench.conformance.model import GROUPS
from covetbench.conformance.probes import PROBES
from covetbench.exceptions import SuiteError


def test_repo_checks_load_and_cover_every_group() -> None:
    checks = load_checks()
    assert len(checks) >= 60
    assert {c.group for c in checks} == set(GROUPS)
    assert len({c.id for c in checks}) == len(checks)
    for check in checks:
        if check.kind == "probe":
            assert check.probe in PROBES, check.id


def test_filters_by_group_and_id_prefix() -> None:
    framing = load_checks(groups=["http11-framing"])
    assert framing and all(c.group == "http11-framing" for c in framing)
    picked = load_checks(ids=["h1.cl-te-both", "sem"])
    assert {c.id for c in picked} >= {"h1.cl-te-both", "sem.date-header"}


def test_expand_request_placeholders() -> None:
    data = expand_request("GET /{repeat:a:3} HTTP/1.1\r\nHost: {host}\r\nX: \u00e9\r\n\r\n", "h:1")
    assert data == b"GET /aaa HTTP/1.1\r\nHost: h:1\r\nX: \xe9\r\n\r\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[check]]\nid = "x"\ngroup = "asgi-http"\nlevel = "MUST"\ntitle = "t"\nspec = "s"\n'
            'request = "GET"\npass_if = [{ status = 200 }]\nbogus = 1\n',
            "unknown ['bogus']",
        ),
        (
            '[[check]]\nid = "x"\ngroup = "asgi-http"\nlevel = "MUSTNT"\ntitle = "t"\nspec = "s"\n'
            'request = "GET"\npass_if = [{ status = 200 }]\n',
            "level",
        ),
        (
            '[[check]]\nid = "x"\ngroup = "asgi-http"\nlevel = "MUST"\ntitle = "t"\nspec = "s"\n'
            'request = "GET"\npass_if = [{ stauts = 200 }]\n',
            "stauts",
        ),
        (
            '[[check]]\nid = "x"\ngroup = "asgi-http"\nlevel = "MUST"\ntitle = "t"\nspec = "s"\n',
            "raw needs request",
        ),
    ],
)
def test_invalid_check_files_name_file_line_and_field(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(SuiteError) as info:
        load_file(path)
    assert "bad.toml" in str(info.value)
    assert message in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    check = (
        '[[check]]\nid = "dup"\ngroup = "asgi-http"\nlevel = "MUST"\ntitle = "t"\nspec = "s"\n'
        'request = "GET"\npass_if = [{ status = 200 }]\n'
    )
    (tmp_path / "a.toml").write_text(check)
    (tmp_path / "b.toml").write_text(check)
    with pytest.raises(SuiteError, match="already in"):
        load_checks(tmp_path)


def test_top_level_params_are_merged_under_each_checks_own(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(
        'group = "robustness"\nkind = "probe"\nlevel = "MUST"\n'
        "[params]\nwindow_s = 15.0\nservers = { a = { timeouts = { body = 2 } } }\n"
        '[[check]]\nid = "x"\ntitle = "t"\nspec = "s"\nprobe = "p"\n'
        'params = { window_s = 3.0, attack = "y" }\n'
    )
    (check,) = load_file(path)
    assert check.params == {
        "window_s": 3.0,
        "attack": "y",
        "servers": {"a": {"timeouts": {"body": 2}}},
    }
