"""The entry pages in-process: posting, escaping, paging, deleting, static files, errors."""

from __future__ import annotations

import json

import pytest

from covet import WebSocketDisconnect
from covet.testclient import TestClient
from examples.guestbook.forms import ENTRY_MAX_CHARS, MAX_BODY_BYTES
from examples.guestbook.pages import PAGE_SIZE
from examples.guestbook.tests.browser import HOSTILE, csrf_token, escaped, register, submit


def _post(client: TestClient, body: str) -> int:
    return submit(client, "/entries", {"body": body}, page="/").status_code


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   \r\n ", "Write something first."),
        ("x" * (ENTRY_MAX_CHARS + 1), f"at most {ENTRY_MAX_CHARS} characters"),
        ("a\x00b", "control characters"),
        ("bell\x07", "control characters"),
    ],
)
def test_bad_entries_are_400_with_the_draft_kept(
    client: TestClient, body: str, message: str
) -> None:
    register(client, "ada")
    response = submit(client, "/entries", {"body": body}, page="/")
    assert response.status_code == 400 and message in response.text
    assert "No entries yet." in response.text


def test_entries_render_escaped_everywhere(client: TestClient) -> None:
    register(client, "ada")
    assert _post(client, HOSTILE) == 303
    assert _post(client, "line one\r\nline two") == 303
    for page in ("/", "/entries/1", "/users/ada"):
        text = client.get(page).text
        assert escaped(HOSTILE) in text and "<script>alert" not in text, page
    assert "line one\nline two" in client.get("/entries/2").text


def test_paging_with_before(client: TestClient) -> None:
    register(client, "ada")
    for number in range(PAGE_SIZE + 2):
        assert _post(client, f"entry number {number}") == 303
    first = client.get("/").text
    assert "entry number 21" in first and "entry number 1<" not in first
    older = first.split("?before=")[1].split('"')[0]
    assert older == "3"
    second = client.get(f"/?before={older}").text
    assert "entry number 1<" in second and "entry number 0<" in second
    assert "data-live" not in second  # only the newest page updates itself


def test_oversized_bodies_are_413(client: TestClient) -> None:
    register(client, "ada")
    token = csrf_token(client, "/")
    huge = {"body": "x" * MAX_BODY_BYTES, "csrf_token": token}
    assert client.post("/entries", data=huge).status_code == 413  # the CSRF check's read
    headers = {"x-csrf-token": token}
    assert client.post("/entries", data=huge, headers=headers).status_code == 413  # the app's
    big_field = {"body": "x" * (MAX_BODY_BYTES // 2)}
    assert client.post("/entries", data=big_field, headers=headers).status_code == 413  # a part
    assert "x" * 100 not in client.get("/").text


@pytest.mark.parametrize("before", ["abc", "-1", "0", "1e3", "9" * 30, "\u0663"])
def test_a_bad_before_is_400(client: TestClient, before: str) -> None:
    response = client.get("/", params={"before": before})
    assert response.status_code == 400 and "makes no sense" in response.text


def test_only_the_author_deletes_and_pages_hear_of_it(client: TestClient) -> None:
    register(client, "ada")
    assert _post(client, "ada was here") == 303
    submit(client, "/logout", {}, page="/")
    register(client, "grace")
    assert submit(client, "/entries/1/delete", {}, page="/").status_code == 403
    assert submit(client, "/entries/99/delete", {}, page="/").status_code == 404
    assert "delete</button>" not in client.get("/").text  # not offered on others' entries
    submit(client, "/logout", {}, page="/")
    submit(client, "/login", {"username": "ada", "password": "correct horse battery staple"})
    with client.websocket_connect("/live") as live:
        assert submit(client, "/entries/1/delete", {}, page="/").status_code == 303
        assert json.loads(live.receive_text()) == {"type": "deleted", "id": 1}
    assert client.get("/entries/1").status_code == 404


def test_visitors_read_but_cannot_write(client: TestClient) -> None:
    assert "Log in" in client.get("/").text
    response = submit(client, "/entries", {"body": "hello"}, page="/login")
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=%2Fentries")
    assert client.get("/users/nobody").status_code == 404
    assert client.get("/users/nobody").text.count("Nothing here") == 1


@pytest.mark.parametrize(
    ("path", "status", "media_type"),
    [
        ("/static/live.js", 200, "text/javascript; charset=utf-8"),
        ("/static/style.css", 200, "text/css; charset=utf-8"),
        ("/static/app.py", 404, "text/html; charset=utf-8"),
        ("/static/..%2fapp.py", 404, "text/html; charset=utf-8"),
        ("/static/%2e%2e%2f%2e%2e%2fpyproject.toml", 404, "text/html; charset=utf-8"),
    ],
)
def test_static_serves_only_its_two_files(
    client: TestClient, path: str, status: int, media_type: str
) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (status, media_type)


def test_health_and_a_websocket_from_another_site(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "sqlite"}
    headers = {"origin": "https://evil.example"}  # cross-site WebSocket hijacking
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/live", headers=headers),
    ):
        pass
    assert refused.value.code == 1008
