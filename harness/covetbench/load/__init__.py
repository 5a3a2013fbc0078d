"""Load generators behind one contract (`LoadDriver` -> `LoadResult`), registered by name.

from covetbench.load import get_loadgen, LoadRequest
driver = get_loadgen("wrk")
if not driver.is_installed():
    print(driver.install_hint)
"""

from __future__ import annotations

from covetbench.exceptions import UnknownNameError
from covetbench.load.base import (
    DEFAULT_TIMEOUT_S,
    LoadDriver,
    LoadRequest,
    RequestShape,
)
from covetbench.load.locust_driver import LocustDriver
from covetbench.load.open_loop import OpenLoopDriver
from covetbench.load.wrk import WrkDriver
from covetbench.records import LoadResult

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "LOAD_DRIVERS",
    "LoadDriver",
    "LoadRequest",
    "LoadResult",
    "LocustDriver",
    "OpenLoopDriver",
    "RequestShape",
    "WrkDriver",
    "get_loadgen",
    "loadgen_names",
]

#: every load generator by name; a new driver registers here
LOAD_DRIVERS: dict[str, LoadDriver] = {
    "wrk": WrkDriver(),
    "locust": LocustDriver(),
    "open": OpenLoopDriver(),
}


def loadgen_names() -> list[str]:
    return sorted(LOAD_DRIVERS)


def get_loadgen(name: str) -> LoadDriver:
    """The driver registered as `name`; UnknownNameError listing the valid names otherwise."""
    try:
        return LOAD_DRIVERS[name]
    except KeyError:
        raise UnknownNameError("load generator", name, LOAD_DRIVERS) from None
