"""`verify_server`: check every scenario of one app on one running server before any load.

For each HTTP scenario: send its request, apply the general header checks and the scenario's
rule. Then, once per call (not per scenario), wait until at least `DATE_REFRESH_WAIT_S` has
passed since the last scenario's first response and request every HTTP scenario again: a `Date`
that did not change is stale (TechEmpower waits 3 s; servers refresh a cached Date about once a
second, so 2.1 s after an answer a correct Date has always moved on).

    records = verify_server(srv.base_url, "raw", "uvicorn", [get_scenario("json")])
    [r.status for r in records]  # ["pass"]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import httpx

from covetbench.records import VerifyRecord
from covetbench.scenarios import KIND_HTTP, ScenarioSpec, get_scenario
from covetbench.servers.tls import TLSFiles, client_context
from covetbench.verify.checks import Outcome, check_date, check_headers
from covetbench.verify.rules import DatabaseCheck, RuleContext, get_rule

DATE_REFRESH_WAIT_S = 2.1
REQUEST_TIMEOUT_S = 10.0
#: Sent like a load generator would: no compression, keep-alive.
REQUEST_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity", "User-Agent": "covet-bench"}


def _send(client: httpx.Client, base_url: str, spec: ScenarioSpec) -> httpx.Response:
    return client.request(
        spec.method,
        spec.url(base_url),
        headers=spec.headers,
        content=spec.body or None,
    )


def verify_server(
    base_url: str,
    app: str,
    server: str,
    scenarios: Sequence[ScenarioSpec | str],
    *,
    date_refresh_wait_s: float = DATE_REFRESH_WAIT_S,
    database: DatabaseCheck | None = None,
    tls: TLSFiles | None = None,
) -> list[VerifyRecord]:
    """One `VerifyRecord` per scenario (pass / warn / fail with the reasons).

    Unknown scenario or rule names raise UnknownNameError before any request is made.
    `date_refresh_wait_s` 0 skips the Date refresh check (the record then warns).
    `database`: the database the app uses, for the rules that look into it (`dbrules`).
    `tls`: the run's own certificate, the only one trusted (an https `base_url`).
    """
    specs = [get_scenario(s) if isinstance(s, str) else s for s in scenarios]
    rules = [get_rule(spec.verify_rule) for spec in specs]
    outcomes = [Outcome() for _ in specs]
    first_dates: dict[int, datetime] = {}
    last_answer_at: float | None = None

    context = client_context(tls) if tls else None
    with httpx.Client(
        timeout=REQUEST_TIMEOUT_S,
        headers=REQUEST_HEADERS,
        trust_env=False,
        verify=context if context else True,
    ) as client:
        for i, (spec, rule, outcome) in enumerate(zip(specs, rules, outcomes, strict=True)):
            ctx = RuleContext(
                spec, base_url, client, outcome, database=database, tls_context=context
            )
            if rule.kind != KIND_HTTP:
                rule.check(ctx)
                continue
            try:
                response = _send(client, base_url, spec)
            except httpx.HTTPError as exc:
                outcome.fail(f"{spec.method} {spec.path} failed: {type(exc).__name__}: {exc}")
                continue
            # the last first answer: the database rules take seconds, so the first one's time
            # would leave no wait before re-asking the scenarios verified last
            last_answer_at = time.monotonic()
            date = check_headers(response, rule.content_type, outcome)
            if date is not None:
                first_dates[i] = date
            ctx.response = response
            rule.check(ctx)

        if first_dates and last_answer_at is not None:
            if date_refresh_wait_s <= 0:
                for i in first_dates:
                    outcomes[i].warn("Date refresh not checked")
            else:
                remaining = last_answer_at + date_refresh_wait_s - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)  # the one wait of this call: Date has 1 s granularity
                for i, before in first_dates.items():
                    _check_refreshed(
                        client, base_url, specs[i], before, outcomes[i], date_refresh_wait_s
                    )

    return [
        VerifyRecord(app=app, server=server, scenario=spec.name, status=o.status, reasons=o.reasons)
        for spec, o in zip(specs, outcomes, strict=True)
    ]


def _check_refreshed(
    client: httpx.Client,
    base_url: str,
    spec: ScenarioSpec,
    before: datetime,
    outcome: Outcome,
    waited_s: float,
) -> None:
    try:
        response = _send(client, base_url, spec)
    except httpx.HTTPError as exc:
        outcome.fail(f"second {spec.method} {spec.path} failed: {type(exc).__name__}: {exc}")
        return
    after = check_date(response.headers.get_list("date"), outcome)
    if after is not None and after <= before:
        outcome.fail(
            f"Date did not change after {waited_s:.1f}s "
            f"({response.headers.get('date')!r}): stale Date"
        )
