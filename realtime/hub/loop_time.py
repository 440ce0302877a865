"""A timeout that a late event loop does not run down.

A plain timeout counts wall-clock seconds, but a reply that has come in still
needs turns of the event loop to be read. When the loop is far behind (a
loaded 2-core machine, thousands of sockets opening at once, or one callback
that blocks for seconds) the timeout expires over a reply that is already
waiting in a socket, and a healthy channel layer looks failed. This wait
counts only the time in which the loop ran on schedule: it wakes every tick,
and however late a wake-up comes, it counts one tick.
"""

import asyncio
import math

# The wait is cut into at least this many ticks, and each tick is at least one
# turn of the loop: under any lag the reply gets that many turns to come in.
MIN_TICKS = 20
# Seconds; short enough that one late turn does not hide in a tick: the ticks
# only run while a reply is awaited, which normally takes milliseconds.
MAX_TICK = 0.1


async def wait_in_loop_time(task: asyncio.Future, timeout: float) -> bool:
    """Wait for ``task`` up to ``timeout`` seconds that the loop was on time
    for; whether it finished. Without lag that is ``timeout`` seconds; each
    wake-up that comes late extends the wait by its lateness. ``task`` is
    neither cancelled nor awaited: its outcome is the caller's."""
    ticks = max(MIN_TICKS, math.ceil(timeout / MAX_TICK))
    for _ in range(ticks):
        done, _ = await asyncio.wait({task}, timeout=timeout / ticks)
        if done:
            return True
    return task.done()
