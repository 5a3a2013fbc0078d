"""Registering and signing in, in-process: what each form accepts and refuses, and how."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from covet.auth import PasswordHasher
from covet.testclient import TestClient
from examples.guestbook.accounts import WRONG_LOGIN
from examples.guestbook.tests.browser import PASSWORD, csrf_token, register, submit


@pytest.mark.parametrize(
    ("username", "password", "status", "message"),
    [
        ("ab", PASSWORD, 400, "3 to 32 letters"),
        ("<b>x</b>", PASSWORD, 400, "3 to 32 letters"),
        ("a" * 33, PASSWORD, 400, "3 to 32 letters"),
        ("ada", "short", 400, "8 to 1024 characters"),
        ("ada", "x" * 1025, 400, "8 to 1024 characters"),
        ("ada", "nul\x00inside", 400, "control characters"),
    ],
)
def test_registration_refuses_bad_names_and_passwords(
    client: TestClient, username: str, password: str, status: int, message: str
) -> None:
    response = submit(client, "/register", {"username": username, "password": password})
    assert response.status_code == status and message in response.text
    assert "<b>x</b>" not in response.text  # the echoed name is escaped too


def test_a_taken_name_is_409_and_names_are_case_insensitive(client: TestClient) -> None:
    register(client, "Ada")  # stored as "ada"
    submit(client, "/logout", {}, page="/")
    again = submit(client, "/register", {"username": "ADA", "password": PASSWORD})
    assert again.status_code == 409 and "That username is taken." in again.text


def test_missing_fields_and_uploads_are_refused(client: TestClient) -> None:
    empty = submit(client, "/login", {})
    assert empty.status_code == 401 and WRONG_LOGIN in empty.text
    token = csrf_token(client, "/register")
    upload = client.post(
        "/register",
        data={"csrf_token": token, "username": "ada"},
        files={"password": ("pw.txt", b"secret-secret")},
    )
    assert upload.status_code == 413  # the form takes no files at all
    assert (
        client.post("/register", content=b"{}", headers={"x-csrf-token": token}).status_code == 415
    )


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/users/ada", "/users/ada"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
    ],
)
def test_login_goes_back_only_to_this_site(client: TestClient, target: str, landing: str) -> None:
    register(client, "ada")
    submit(client, "/logout", {}, page="/")
    fields = {"username": "ada", "password": PASSWORD, "next": target}
    response = submit(client, "/login", fields)
    assert (response.status_code, response.headers["location"]) == (303, landing)


def test_an_old_hash_is_upgraded_at_login(client: TestClient, sqlite_file: Path) -> None:
    register(client, "ada")
    submit(client, "/logout", {}, page="/")
    weak = PasswordHasher(ln=10).hash(PASSWORD)
    with sqlite3.connect(sqlite_file) as db:
        db.execute("UPDATE guestbook_users SET password_hash = ? WHERE username = 'ada'", (weak,))
    assert submit(client, "/login", {"username": "ada", "password": PASSWORD}).status_code == 303
    with sqlite3.connect(sqlite_file) as db:
        (stored,) = db.execute("SELECT password_hash FROM guestbook_users").fetchone()
    assert stored.startswith("$scrypt$ln=15,") and stored != weak


def test_a_deleted_account_is_signed_out(client: TestClient, sqlite_file: Path) -> None:
    register(client, "ada")
    assert "Log out" in client.get("/").text
    with sqlite3.connect(sqlite_file) as db:
        db.execute("DELETE FROM guestbook_users")
    page = client.get("/")
    assert page.status_code == 200 and "Log out" not in page.text
