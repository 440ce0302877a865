"""The benchmark harness end to end at a tiny scale, on real server processes:
every change reaches every subscriber exactly once, on the real path and on the
floor, and the report has the keys docs/performance.md is built from. Nothing
about timing is asserted: the machine is shared and timings are the bench's job.
"""

import os

import pytest

from bench.harness import Scenario
from bench.run import markdown, run_bench

pytestmark = pytest.mark.e2e

RUN_KEYS = {
    "connections_held",
    "handshake_ms",
    "deliveries_expected",
    "deliveries_received",
    "lost",
    "duplicated",
    "latency_ms",
    "publish_to_delivery_ms",
    "deliveries_per_second",
    "server_kib_per_connection",
    "cpu_seconds",
}


def test_tiny_benchmark_delivers_everything_once_and_reports_it(tmp_path):
    # The in-memory layer reaches one process only; with Redis use two.
    workers = 2 if os.environ.get("REDIS_URL") else 1
    scenario = Scenario("tiny", connections=20, topics=2, events_per_topic=3, rate=50)
    report = run_bench(
        [scenario],
        workers=workers,
        writes={"writers": 2, "seconds": 1, "rounds": 1},
        workdir=tmp_path,
    )

    result = report["scenarios"]["tiny"]
    for mode in ("floor", "real"):
        run = result[mode]
        assert RUN_KEYS <= set(run), mode
        assert run["connections_held"] == 20, run
        assert run["deliveries_expected"] == 20 * 3, run
        assert run["deliveries_received"] == 20 * 3, run
        assert run["lost"] == 0 and run["duplicated"] == 0, run
        assert run["changes_failed"] == 0, run
    assert result["vs_floor"]["all_delivered"] is True
    assert {"p99_ratio", "deliveries_per_second_ratio"} <= set(result["vs_floor"])
    summary = report["writes"]["summary"]
    assert summary["writes_per_second_without"] > 0
    assert summary["writes_per_second_with"] > 0
    assert "| tiny | real |" in markdown(report, "make bench")
