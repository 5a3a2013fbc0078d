"""Raw network clients (HTTP/1.1 bytes, WebSocket frames) for conformance, soak and fuzz:
no library between the harness and the bytes it judges."""
