"""The sequence-lock measurement's bookkeeping: best round per case and one
topic's share of 16 topics'; no database, no timing."""

from bench.seq_lock import best_rounds, lock_case, seq_lock_markdown, shares


def result(per_second: float) -> dict:
    return {"transactions": int(per_second), "per_second": per_second,
            "ms": {"p99": 1.0}}  # fmt: skip


def test_the_best_round_of_each_case_is_kept():
    one, many = lock_case("after", 1, 4), lock_case("after", 16, 4)
    rounds = [
        {one: result(100), many: result(500)},
        {one: result(150), many: result(400)},
    ]
    best = best_rounds(rounds)
    assert (best[one]["per_second"], best[many]["per_second"]) == (150, 500)
    assert shares(best) == {"after: 4 threads": 0.3}


def test_markdown_shows_every_case_and_its_share():
    best = {
        lock_case("none", 1, 16): result(700),
        lock_case("none", 16, 16): result(2800),
    }
    lines = seq_lock_markdown({"best": best, "one_topic_share": shares(best)})
    assert "| none | 16 | 700 | 1.0 | 2800 | 1.0 | 0.25 |" in lines
    assert "| after | 4 | None | None | None | None | None |" in lines
    assert seq_lock_markdown({"skipped": "no PostgreSQL"})[0].endswith("no PostgreSQL")
