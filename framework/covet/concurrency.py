"""Running blocking code from async code without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ["iterate_in_threadpool", "run_in_threadpool"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``func`` in the loop's default executor, keeping the caller's context variables.

    Example::

        data = await run_in_threadpool(path.read_bytes)
    """
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


class _Exhausted(Exception):
    pass


def _next(iterator: Iterator[T]) -> T:
    # StopIteration cannot cross a Future, so it is turned into an exception we own.
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterable, each ``next()`` in a worker thread."""
    iterator = iter(iterable)
    while True:
        try:
            yield await run_in_threadpool(_next, iterator)
        except _Exhausted:
            return
