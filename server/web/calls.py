"""How routes reach a session, wherever it lives: in this process (one shared session) or in a worker
process of its own (classroom mode, ``training/remote.py``). The surface is the same; these helpers
take care of what differs.

- ``session.read(fn, *args)`` / ``session.call(fn, *args)``: Futures, as always; ``fn`` is a
  module-level function (picklable) and the session itself may be among the arguments.
- ``in_session(session, fn, *args)``: ``fn(*args)`` where the session lives, off its training thread.
- ``settle(result)``: a command method's result (``play()``, ``reset(...)``...). A local session
  validates and answers at once; a remote one answers with a Future, awaited here, so a refused
  command raises its ValueError in the route either way.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future


async def in_session(session, fn, *args):
    """``fn(*args)`` in a thread of the process that trains the session, awaited."""
    return await asyncio.wrap_future(session.compute(fn, *args))


async def settle(result):
    """A command method's result, awaited when it is a Future (a session in a worker process)."""
    if isinstance(result, Future):
        return await asyncio.wrap_future(result)
    return result
