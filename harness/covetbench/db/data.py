"""The TechEmpower database: what World and Fortune hold, and what the database tests expect.

The texts are TechEmpower's (`toolset/databases/*/create*.sql`), byte for byte: one message
carries a `<script>` that must come out escaped, one is Japanese, two hold an em dash.

    expected_fortunes()[0]   # (11, '<script>alert("This should not be ...");</script>')
    clamp_queries("foo")     # 1
"""

from __future__ import annotations

#: rows of World: ids 1..WORLD_ROWS, each randomNumber in 1..MAX_RANDOM
WORLD_ROWS = 10_000
MAX_RANDOM = 10_000
#: the `queries` / `count` parameter is clamped to 1..MAX_QUERIES
MAX_QUERIES = 500

#: the 12 canonical Fortune rows, by id
FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)
#: the row every /fortunes answer adds in memory, at request time
EXTRA_FORTUNE: tuple[int, str] = (0, "Additional fortune added at request time.")

#: `queries` parameter -> number of rows a correct answer holds, and whether a wrong answer
#: fails or only warns (TechEmpower's cases; 501 is a warning there)
QUERY_CASES: tuple[tuple[str, int, str], ...] = (
    ("2", 2, "fail"),
    ("0", 1, "fail"),
    ("foo", 1, "fail"),
    ("501", MAX_QUERIES, "warn"),
    ("", 1, "fail"),
)
#: hostile values that must stay data: not an integer, so one row
INJECTION_CASES: tuple[str, ...] = (
    "1; DROP TABLE world",
    "1 OR 1=1",
    "1' OR '1'='1",
)


def expected_fortunes() -> list[tuple[int, str]]:
    """The 13 rows of a correct /fortunes page, in order (sorted by message, code points)."""
    return sorted([*FORTUNES, EXTRA_FORTUNE], key=lambda row: row[1])


def clamp_queries(raw: str | None) -> int:
    """TechEmpower's rule for `queries` / `count`: not an integer -> 1, then 1..MAX_QUERIES."""
    try:
        value = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return min(max(value, 1), MAX_QUERIES)
