"""JSON encoding: orjson when installed, else the stdlib with compact separators."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads", "USING_ORJSON"]

loads: Callable[[str | bytes], Any]

orjson: Any
try:
    import orjson
except ImportError:  # pragma: no cover - exercised only without the speed extra
    orjson = None

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_encode = _encoder.encode


def _stdlib_dumps(obj: Any) -> bytes:
    return _encode(obj).encode("utf-8")


if orjson is not None:
    _orjson_dumps = orjson.dumps
    _orjson_error = orjson.JSONEncodeError

    def dumps(obj: Any) -> bytes:
        """Serialize ``obj`` to compact UTF-8 JSON bytes."""
        try:
            return _orjson_dumps(obj)  # type: ignore[no-any-return]
        except _orjson_error:
            # orjson rejects what the stdlib accepts (int keys, big ints): fall back, so that
            # the output never depends on whether the speed extra is installed.
            return _stdlib_dumps(obj)

    loads = orjson.loads
    USING_ORJSON = True
else:  # pragma: no cover
    dumps = _stdlib_dumps
    loads = json.loads
    USING_ORJSON = False
