"""Conditional and range request rules for file responses (RFC 9110 §13, §14), kept apart from
the response classes so they can be read and tested on their own (private)."""

from __future__ import annotations

__all__ = ["CHUNK_SIZE", "RangeNotSatisfiable", "etag_matches", "parse_range"]

CHUNK_SIZE = 64 * 1024


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range asked for, ``None`` to serve the whole file.

    Only one ``bytes`` range is honoured; other units and multi-range requests get the full
    file (RFC 9110 lets a server ignore Range). Malformed or unsatisfiable ranges raise.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        raise RangeNotSatisfiable
    first, last = first.strip(), last.strip()
    try:
        if not first:
            suffix = int(last)
            if suffix <= 0 or size == 0:
                raise RangeNotSatisfiable
            return max(0, size - suffix), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        raise RangeNotSatisfiable from None
    if start < 0 or start >= size or end < start:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    weak = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == weak for tag in header.split(","))
