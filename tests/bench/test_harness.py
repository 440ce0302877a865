"""The benchmark harness end to end at a tiny scale, on real server processes:
every change reaches every subscriber exactly once, on the real path and on
both floors; in S5 every connection's view of presence comes to agree with who is
there; in S10 every client comes back after the restart on the limit floor and
on the real path, and the real path's resumes lose and repeat nothing; and the
report has the keys docs/performance.md is built from. Nothing about timing is
asserted: the machine is shared and timings are the bench's job.
"""

import os

import pytest

from bench.harness import PresenceScenario, Scenario
from bench.run import markdown, run_bench
from bench.storm import RESUME_FIGURES
from realtime.policies.registry import policy_for

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
    for mode in ("limit", "real", "naive"):
        run = result[mode]
        assert RUN_KEYS <= set(run), mode
        assert run["connections_held"] == 20, run
        assert run["deliveries_expected"] == 20 * 3, run
        assert run["deliveries_received"] == 20 * 3, run
        assert run["lost"] == 0 and run["duplicated"] == 0, run
        assert run["changes_failed"] == 0, run
    for floor in ("vs_limit", "vs_naive"):
        assert result[floor]["all_delivered"] is True
        assert {"p99_ratio", "deliveries_per_second_ratio"} <= set(result[floor])
    # Every result says what it measured: the commit, the machine, the settings.
    config = report["config"]
    assert len(config["commit"].split("-")[0]) == 40, config
    assert config["machine"]["cpu_count"] and config["machine"]["memory_mib"]
    summary = report["writes"]["summary"]
    assert summary["writes_per_second_without"] > 0
    assert summary["writes_per_second_with"] > 0
    table = markdown(report, "make bench")
    assert "| tiny | real |" in table and "| tiny | limit |" in table
    assert config["commit"] in table


def test_tiny_presence_storm_every_view_agrees_and_reports_it(tmp_path):
    if not getattr(policy_for("gift-list"), "presence", False):
        pytest.skip("gift-list topics have no presence (giftlists/realtime.py)")
    workers = 2 if os.environ.get("REDIS_URL") else 1
    report = run_bench(
        [],
        workers=workers,
        presence=PresenceScenario("S5", connections=20, observers=5),
        workdir=tmp_path,
    )

    result = report["presence"]
    with_presence, without = result["with_presence"], result["without_presence"]
    for run in (with_presence, without):
        assert run["connections_held"] == 20 and run["users_held"] == 20, run
        assert run["leave"]["leavers"] == 15 and run["leave"]["users_left"] == 15
    join, leave = with_presence["join"], with_presence["leave"]
    # Each of the 20 got the state, and its view ended holding all 20 users;
    # then each observer's view lost the 15 who left, one leave entry each.
    assert join["presence_states"] == 20, join
    assert join["failures"] == 0 and leave["failures"] == 0, with_presence
    assert join["diffs"] > 0 and join["join_entries"] > 0, join
    assert leave["observer_leave_entries"] == 5 * 15, leave
    assert leave["observer_leave_entries_expected"] == 5 * 15, leave
    assert with_presence["anomalies"]["malformed_entries"] == 0
    assert result["all_agreed"] is True
    # The family's topic has no presence: nothing of it arrives there.
    assert without["join"]["presence_states"] == 0
    assert without["anomalies"]["unexpected_presence"] == 0
    assert {"join_server_cpu_ratio", "kib_per_connection_added"} <= set(result["cost"])
    table = markdown(report, "BENCH_SCENARIOS=S5 make bench")
    assert "| with presence |" in table and "| without presence |" in table


def test_tiny_reconnect_storm_brings_every_client_back_on_both_paths(tmp_path):
    workers = 2 if os.environ.get("REDIS_URL") else 1
    report = run_bench(
        [],
        workers=workers,
        storm={"connections": 20, "topics": 2, "rate": 10.0},
        workdir=tmp_path,
    )

    result = report["storm"]
    for mode in ("limit", "real"):
        run = result[mode]
        assert run["mode"] == mode
        assert run["connections_held"] == 20, run
        # Every client subscribed again on the new processes, each after at
        # least one attempt, and the storm has an end to report.
        assert run["resubscribed_in_time"] == 20, run
        assert run["reconnect_attempts"] >= 20, run
        assert run["last_resubscribed_seconds"] is not None, run
        assert run["changes_made"] > 0, run
        assert run["server_cpu_seconds_storm"] > 0, run
    # The floor cannot resume: what only resuming shows is left empty for it.
    limit, real = result["limit"], result["real"]
    assert all(limit[key] is None for key in RESUME_FIGURES), limit
    # The real path resumed with since: every change made while the clients
    # were connected or away reached each of its topic's clients once.
    assert real["lost"] == 0 and real["duplicated"] == 0, real
    assert real["unrecovered"] == 0, real
    assert real["caught_up_seconds"] is not None, real
    ratios = result["vs_limit"]
    assert ratios["all_back"] is True, ratios
    assert {"last_resubscribed_ratio", "server_cpu_ratio"} <= set(ratios)
    table = markdown(report, "BENCH_SCENARIOS=S10 make bench")
    assert "| 2 topics | limit | 20 | 20 (20) |" in table
    assert "| 2 topics | real | 20 | 20 (20) |" in table
    assert "| - | - | - | - |" in table  # the floor's resume figures
