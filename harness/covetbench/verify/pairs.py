"""Verify every launched pair of a plan at once: each pair's Date-refresh wait overlaps the
others', so verifying 12 pairs costs about what one does.

    for pair, records in verify_pairs(plan, running_servers):
        ...
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from covetbench.records import VerifyRecord
from covetbench.verify import DatabaseCheck, verify_server

if TYPE_CHECKING:  # the run stage imports this module: types only, no cycle
    from covetbench.run.schedule import Pair, Plan
    from covetbench.servers import RunningServer


def verify_pairs(
    plan: Plan, servers: Mapping[Pair, RunningServer]
) -> list[tuple[Pair, list[VerifyRecord]]]:
    """Verify every running pair's scenarios in `plan`, all pairs at once (their Date-refresh
    waits overlap) unless the plan reads a database; the records per pair, in the order of
    `servers`."""
    pairs = list(servers)
    database = DatabaseCheck(plan.suite.database) if plan.suite.database else None

    def check(pair: Pair) -> list[VerifyRecord]:
        names = list(dict.fromkeys(c.scenario.name for c in plan.configs_of(pair)))
        server = servers[pair]
        return verify_server(
            server.base_url,
            pair.app.name,
            pair.server,
            names,
            database=database,
            tls=server.options.tls,
        )

    # Database pairs one at a time: the query counts read the database's statistics, which
    # another pair's requests would add to.
    workers = 1 if plan.suite.needs_database else max(1, min(8, len(pairs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(zip(pairs, pool.map(check, pairs), strict=True))
