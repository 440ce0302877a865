"""The benchmark's application with Python's allocations traced, for
``bench/memory_profile.py``. Never deploy this module.

``tracemalloc`` starts before anything is imported; SIGUSR1 writes a snapshot
of what is allocated now to ``$BENCH_SNAPSHOT_DIR/<pid>-<n>.snap`` (after a
garbage collection) and then an empty ``.done`` file beside it.
"""

import gc
import os
import signal
import tracemalloc

tracemalloc.start(int(os.environ.get("BENCH_TRACE_FRAMES", "10")))

from bench.floor_asgi import application  # noqa: E402

__all__ = ["application"]
_taken = [0]


def _snapshot(signum: int, frame: object) -> None:
    gc.collect()
    _taken[0] += 1
    path = os.path.join(
        os.environ["BENCH_SNAPSHOT_DIR"], f"{os.getpid()}-{_taken[0]}.snap"
    )
    tracemalloc.take_snapshot().dump(path)
    with open(path.removesuffix(".snap") + ".done", "w"):
        pass


signal.signal(signal.SIGUSR1, _snapshot)
