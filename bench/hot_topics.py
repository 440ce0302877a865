"""S6, hot topics: how many writes per second one popular topic sustains.

Every write to a topic takes that topic's sequence rows (one per view) in its
transaction, so writers of one topic may queue behind each other where writers
of many topics do not. S6 runs the same closed-loop REST writers (``measure_writes``,
as S4) on ONE gift list and spread over 16, with realtime off and on, on the same
fresh servers, and reports writes/s and p99 write latency for each, and one
topic's writes/s as a share of 16 topics' with the same writers.
"""

import asyncio
from typing import Any

from .harness import measure_writes

HOT_WRITERS = (1, 4, 16)
HOT_TOPIC_COUNTS = (1, 16)
HOT_SECONDS = 5.0
HOT_ROUNDS = 2
MODES = (("without_realtime", "1"), ("with_realtime", "0"))
# The target of the hot-topic scenario; reported, never asserted.
ONE_TOPIC_SHARE_MIN = 0.7


def case_key(topics: int, writers: int) -> str:
    """The name of one measurement: ``"1 topic x 4 writers"``."""
    return f"{topics} topic{'s' if topics != 1 else ''} x {writers} writers"


def spread_over(seeded: dict, topics: int) -> dict:
    """The seeded site with its writes aimed at the first ``topics`` gift lists
    (``measure_writes`` sends writer i to list i modulo the lists)."""
    if topics > len(seeded["lists"]):
        raise ValueError(f"{topics} topics need {topics} seeded gift lists")
    return {**seeded, "lists": seeded["lists"][:topics]}


def measure_hot_topics(
    servers: Any,
    seeded: dict,
    *,
    writers: tuple[int, ...] = HOT_WRITERS,
    topic_counts: tuple[int, ...] = HOT_TOPIC_COUNTS,
    seconds: float = HOT_SECONDS,
    rounds: int = HOT_ROUNDS,
) -> dict[str, Any]:
    """Every (topics, writers) case with realtime off and on, ``rounds`` times,
    interleaved so that a noisy moment hits both modes alike."""
    samples: dict[str, dict[str, list[dict]]] = {mode: {} for mode, _ in MODES}
    for round_number in range(rounds):
        for mode, disabled in MODES:
            group = servers(f"S6-{mode}-{round_number}", REALTIME_DISABLED=disabled)
            try:
                for count in writers:
                    for topics in topic_counts:
                        sample = asyncio.run(
                            measure_writes(
                                group, spread_over(seeded, topics), count, seconds
                            )
                        )
                        samples[mode].setdefault(case_key(topics, count), []).append(
                            {**sample, "topics": topics}
                        )
            finally:
                group.stop()
    return {"samples": samples, "summary": summarize(samples, writers, topic_counts)}


def summarize(
    samples: dict[str, dict[str, list[dict]]],
    writers: tuple[int, ...],
    topic_counts: tuple[int, ...],
) -> dict[str, Any]:
    """Best of the rounds per case (a noisy neighbour only makes a sample
    worse), and one topic's writes/s over the most topics' per writer count."""
    cases: dict[str, dict[str, Any]] = {}
    for mode, by_case in samples.items():
        for key, runs in by_case.items():
            p99s = [run["write_ms"]["p99"] for run in runs if run["write_ms"]["p99"]]
            cases.setdefault(key, {})[mode] = {
                "writes_per_second": max(run["writes_per_second"] for run in runs),
                "p99_ms": min(p99s) if p99s else None,
                "failed": sum(run["failed"] for run in runs),
            }
    fewest, most = min(topic_counts), max(topic_counts)
    shares: dict[str, dict[str, float | None]] = {}
    for count in writers:
        for mode in samples:
            one = cases.get(case_key(fewest, count), {}).get(mode)
            many = cases.get(case_key(most, count), {}).get(mode)
            share = None
            if one and many and many["writes_per_second"]:
                share = round(one["writes_per_second"] / many["writes_per_second"], 3)
            shares.setdefault(f"{count} writers", {})[mode] = share
    return {"cases": cases, "one_topic_share": shares}


def hot_topics_markdown(result: dict[str, Any]) -> list[str]:
    """S6's tables: each case with and without realtime, then the shares."""
    summary = result["summary"]
    lines = [
        "| S6 hot topics | writes/s without realtime | p99 ms without "
        "| writes/s with realtime | p99 ms with | failed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, modes in summary["cases"].items():
        off = modes.get("without_realtime", {})
        on = modes.get("with_realtime", {})
        lines.append(
            f"| {key} | {off.get('writes_per_second')} | {off.get('p99_ms')} "
            f"| {on.get('writes_per_second')} | {on.get('p99_ms')} "
            f"| {off.get('failed', 0) + on.get('failed', 0)} |"
        )
    lines += [
        "",
        "| S6 one topic / 16 topics, writes/s | without realtime | with realtime "
        f"| target >= {ONE_TOPIC_SHARE_MIN} met? |",
        "| --- | --- | --- | --- |",
    ]
    for writers, shares in summary["one_topic_share"].items():
        with_realtime = shares.get("with_realtime")
        met = "-"
        if with_realtime is not None:
            met = "yes" if with_realtime >= ONE_TOPIC_SHARE_MIN else "NO"
        lines.append(
            f"| {writers} | {shares.get('without_realtime')} | {with_realtime} "
            f"| {met} |"
        )
    return lines
