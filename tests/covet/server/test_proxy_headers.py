"""`--proxy-headers`: bytes in, bytes out through `covet.server.testing` with chosen peers, once
per parser, and over real sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from covet.server.config import ServerConfig
from covet.server.exceptions import ServerConfigError
from covet.server.proxy_headers import parse_networks
from covet.server.testing import TestConnection
from tests.covet.server.deploy_apps import scope_app
from tests.covet.server.deploy_support import launch

PEER = ("127.0.0.1", 50000)


def _seen(
    http: str,
    headers: bytes,
    peer: tuple[str, int] = PEER,
    proxy_headers: bool = True,
    allow: str = "127.0.0.1",
) -> dict[str, Any]:
    config = ServerConfig(
        http=http,  # type: ignore[arg-type]
        access_log=False,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=allow,
    )

    async def main() -> bytes:
        conn = TestConnection(scope_app, config, client=peer)
        return await conn.request(b"GET /p HTTP/1.1\r\nHost: origin.test\r\n" + headers + b"\r\n")

    out = asyncio.run(main())
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), out
    return dict(json.loads(body))


def test_trusted_proxy_sets_client_scheme_and_host(http_impl: str) -> None:
    seen = _seen(
        http_impl,
        b"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n"
        b"X-Forwarded-Host: shop.example:8443\r\n",
    )
    assert seen["client"] == ["203.0.113.7", 0]
    assert seen["scheme"] == "https" and seen["host"] == "shop.example:8443"


def test_right_most_untrusted_address_wins(http_impl: str) -> None:
    allow = "127.0.0.1, 10.0.0.0/8"
    xff = b"X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\nX-Forwarded-For: 10.1.2.3\r\n"
    seen = _seen(http_impl, xff, allow=allow)
    assert seen["client"] == ["203.0.113.7", 0]  # 6.6.6.6 was written by the client itself
    seen = _seen(http_impl, b"X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n", allow=allow)
    assert seen["client"] == ["10.0.0.1", 0]  # every hop ours: the left-most
    seen = _seen(http_impl, b"X-Forwarded-For: 1.1.1.1\r\n", ("8.8.8.8", 1), allow="*")
    assert seen["client"] == ["1.1.1.1", 0]


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n",
        b"Forwarded: for=6.6.6.6;proto=https;host=evil.test\r\n",
    ],
    ids=["x-forwarded", "forwarded"],
)
def test_untrusted_peer_cannot_spoof(http_impl: str, headers: bytes) -> None:
    spoofer = ("198.51.100.9", 4000)
    seen = _seen(http_impl, headers, peer=spoofer)
    assert seen["client"] == list(spoofer)
    assert seen["scheme"] == "http" and seen["host"] == "origin.test"
    seen = _seen(http_impl, headers, proxy_headers=False)  # off: nobody is believed
    assert seen["client"] == list(PEER) and seen["scheme"] == "http"


def test_rfc7239_forwarded(http_impl: str) -> None:
    seen = _seen(
        http_impl, b'Forwarded: for="[2001:db8::1]:4711";proto=https;host=shop.example\r\n'
    )
    assert seen["client"] == ["2001:db8::1", 4711]
    assert seen["scheme"] == "https" and seen["host"] == "shop.example"
    seen = _seen(
        http_impl,
        b"Forwarded: for=6.6.6.6;proto=http, For=203.0.113.7;Proto=https\r\n"
        b"Forwarded: for=10.9.9.9\r\n",
        allow="127.0.0.1,10.0.0.0/8",
    )
    assert seen["client"] == ["203.0.113.7", 0] and seen["scheme"] == "https"


def test_x_forwarded_wins_over_forwarded(http_impl: str) -> None:
    seen = _seen(http_impl, b"Forwarded: for=6.6.6.6\r\nX-Forwarded-For: 203.0.113.7\r\n")
    assert seen["client"] == ["203.0.113.7", 0]


@pytest.mark.parametrize(
    "value",
    [
        b"for=",
        b'for="1.2.3.4',
        b";;;",
        b"for=1.2.3.4;for=5.6.7.8",
        b"for=1.2.3.4, garbage",
        b"for=1.2.3.4;proto=https;host=a b",
        b"for=\xff\xfe;proto=https",
        b"for=unknown;proto=gopher;host=evil/.example.org",
        b'for="[::1"',
        b'for="[2001:db8::1]:99999999"',
        b"=" * 5000,
        b'for="' + b"\\" * 3000 + b'"',
    ],
)
def test_malformed_forwarded_is_ignored(http_impl: str, value: bytes) -> None:
    seen = _seen(http_impl, b"Forwarded: " + value + b"\r\n")
    assert seen["client"] == list(PEER)
    assert seen["scheme"] == "http" and seen["host"] == "origin.test"


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Forwarded-For: not-an-ip\r\n",
        b"X-Forwarded-For: 203.0.113.7:notaport\r\n",
        b"X-Forwarded-For: ,,,\r\n",
        b"X-Forwarded-Proto: javascript\r\n",
        b"X-Forwarded-Host: evil/.example.org\r\n",
        b"X-Forwarded-Host: a b\r\n",
    ],
)
def test_malformed_x_forwarded_values_are_ignored(http_impl: str, headers: bytes) -> None:
    seen = _seen(http_impl, headers)
    assert seen["client"] == list(PEER)
    assert seen["scheme"] == "http" and seen["host"] == "origin.test"


def test_websocket_scheme_from_proxy_is_wss(http_impl: str) -> None:
    config = ServerConfig(http=http_impl, access_log=False, proxy_headers=True)  # type: ignore[arg-type]
    asyncio.run(_websocket_through_proxy(config))


async def _websocket_through_proxy(config: ServerConfig) -> None:
    conn = TestConnection(scope_app, config)
    out = await conn.request(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n"
    )
    assert out.startswith(b"HTTP/1.1 101 ")
    mask = b"\x01\x02\x03\x04"
    conn.feed(b"\x81\x82" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"hi")))
    await conn.settle()
    frame = conn.transport.take()
    seen = json.loads(frame[frame.index(b"{") :])
    assert seen["scheme"] == "wss" and seen["client"] == ["203.0.113.7", 0]


def test_forwarded_allow_ips_is_checked_at_start() -> None:
    assert "10.1.2.3" in parse_networks("127.0.0.1, 10.0.0.0/8")
    assert "::ffff:127.0.0.1" in parse_networks("127.0.0.1")
    assert "anything" in parse_networks("*")
    assert "10.1.2.3" not in parse_networks("127.0.0.1")
    with pytest.raises(ServerConfigError, match="'10.0.0.0/33'"):
        ServerConfig(proxy_headers=True, forwarded_allow_ips="127.0.0.1,10.0.0.0/33")


def test_proxy_headers_over_real_sockets() -> None:
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with launch("scope_app", "--proxy-headers") as served:
        seen = httpx.get(f"http://127.0.0.1:{served.port}/", headers=headers).json()
        assert seen["client"] == ["203.0.113.7", 0] and seen["scheme"] == "https"
    # The same peer, no longer trusted.
    with launch("scope_app", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8") as served:
        seen = httpx.get(f"http://127.0.0.1:{served.port}/", headers=headers).json()
        assert seen["client"][0] == "127.0.0.1" and seen["scheme"] == "http"
