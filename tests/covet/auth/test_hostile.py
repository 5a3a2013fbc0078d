"""Arbitrary credentials never crash the app: every cookie, token and header gets 200/401/403."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covet.testclient import TestClient
from tests.covet.auth.auth_app import make_app

CLIENT = TestClient(make_app())
# Header values a client can put on the wire: latin-1 without CR, LF or NUL.
header_text = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=255, blacklist_characters="\r\n"),
    max_size=300,
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def get(headers: dict[bytes, bytes]) -> int:
    return CLIENT.get("/me", headers=headers).status_code


@SETTINGS
@given(header_text)
def test_any_session_cookie_is_anonymous(value: str) -> None:
    assert get({b"cookie": b"session=" + value.encode("latin-1")}) == 401


@SETTINGS
@given(header_text)
def test_any_authorization_header_is_401(value: str) -> None:
    assert get({b"authorization": value.encode("latin-1")}) == 401


@SETTINGS
@given(st.binary(max_size=200))
def test_any_basic_credentials_are_401(raw: bytes) -> None:
    assert get({b"authorization": b"Basic " + base64.b64encode(raw)}) == 401


@SETTINGS
@given(header_text, header_text)
def test_any_csrf_token_or_origin_is_403(token: str, origin: str) -> None:
    headers = {b"x-csrf-token": token.encode("latin-1"), b"origin": origin.encode("latin-1")}
    response = CLIENT.post("/logout", headers=headers)
    assert response.status_code == 403 and response.content == b'{"detail":"Forbidden"}'
