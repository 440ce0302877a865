"""S6's bookkeeping: which lists the writers aim at, best of the rounds, and one
topic's share of 16 topics' writes; no servers, no timing."""

import pytest

from bench.hot_topics import case_key, hot_topics_markdown, spread_over, summarize


def sample(rate: float, p99: float | None, failed: int = 0) -> dict:
    return {"writes_per_second": rate, "write_ms": {"p99": p99}, "failed": failed}


def test_writers_aim_at_the_first_lists_only():
    seeded = {"writer_token": "t", "lists": [11, 12, 13, 14]}
    assert spread_over(seeded, 1)["lists"] == [11]
    assert spread_over(seeded, 3)["lists"] == [11, 12, 13]
    assert seeded["lists"] == [11, 12, 13, 14]  # the seeded site is left alone
    with pytest.raises(ValueError, match="5 topics need 5 seeded gift lists"):
        spread_over(seeded, 5)


def test_summary_keeps_the_best_round_and_shares_by_writer_count():
    samples = {
        "with_realtime": {
            case_key(1, 4): [sample(60, 90.0), sample(80, 120.0, failed=1)],
            case_key(16, 4): [sample(100, 50.0), sample(90, 40.0)],
        },
        "without_realtime": {
            case_key(1, 4): [sample(100, None)],
            case_key(16, 4): [sample(125, 30.0)],
        },
    }
    summary = summarize(samples, (4,), (1, 16))
    one = summary["cases"]["1 topic x 4 writers"]["with_realtime"]
    assert one == {"writes_per_second": 80, "p99_ms": 90.0, "failed": 1}
    assert summary["cases"]["1 topic x 4 writers"]["without_realtime"]["p99_ms"] is None
    assert summary["one_topic_share"]["4 writers"] == {
        "with_realtime": 0.8,
        "without_realtime": 0.8,
    }


def test_markdown_flags_a_share_below_the_target():
    samples = {
        "with_realtime": {
            case_key(1, 16): [sample(30, 400.0)],
            case_key(16, 16): [sample(100, 100.0)],
        }
    }
    lines = hot_topics_markdown({"summary": summarize(samples, (16,), (1, 16))})
    assert "| 1 topic x 16 writers | None | None | 30 | 400.0 | 0 |" in lines
    assert "| 16 writers | None | 0.3 | NO |" in lines
