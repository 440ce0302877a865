"""S7's bookkeeping: how the fill spreads events over time and statements, and
how probe samples split around the prune; no database, no timing."""

import pytest

from bench.log_prune import fill_chunks, log_markdown, log_span_seconds, split_by_time


def test_the_span_puts_the_expired_share_behind_the_retention():
    span = log_span_seconds(24 * 3600, 0.8)
    assert span == pytest.approx(120 * 3600)
    # An event at fraction f of the way through the log is (1 - f) * span old.
    assert (1 - 0.8) * span == pytest.approx(24 * 3600)
    with pytest.raises(ValueError, match="expired_share"):
        log_span_seconds(3600, 1.0)


def test_fill_chunks_cover_every_event_once():
    assert fill_chunks(10, 4) == [(0, 3), (4, 7), (8, 9)]
    assert fill_chunks(8, 4) == [(0, 3), (4, 7)]
    covered = [
        i for start, stop in fill_chunks(1234, 100) for i in range(start, stop + 1)
    ]
    assert covered == list(range(1234))


def test_samples_split_at_the_prune_and_later_ones_are_left_out():
    samples = [(5, 1), (9, 2), (10, 3), (19, 4), (20, 5), (30, 6)]
    assert split_by_time(samples, 10, 20) == {"baseline": [1, 2], "during": [3, 4]}


def test_markdown_has_a_row_per_prune_mode():
    ms = {"p50": 1.0, "p95": 2.0, "p99": 3.0, "max": 4.0}
    phase = {"count": 7, "ms": ms}
    sizes = {
        "rows": 5000,
        "table_mib": 1.5,
        "indexes_mib": 0.5,
        "total_mib": 2.0,
        "bytes_per_row": 419,
    }
    run = {
        "filled": sizes,
        "vacuumed": sizes,
        "fill_seconds": 1.0,
        "vacuum_after_prune_seconds": 0.2,
        "prune": {
            "deleted": 4000,
            "seconds": 0.5,
            "rows_per_second": 8000,
            "batches": 5,
            "batch_ms": ms,
        },
        "replay": {"baseline": phase, "during": phase},
        "write": {"baseline": phase, "during": phase},
    }
    lines = log_markdown({"batched": run, "single": run})
    assert sum(line.startswith("| batched | 5,000 |") for line in lines) == 1
    assert sum(line.startswith("| single |") for line in lines) == 2
    assert "| batched | 7 | 1.0 / 3.0 / 4.0 | 7 |" in "\n".join(lines)
    assert log_markdown({"skipped": "no PostgreSQL"}) == ["S7 skipped: no PostgreSQL"]
