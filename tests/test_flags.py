"""Cheating signals: pure functions over response times and join addresses."""

from quiz_engine.game.flags import merge, same_timing, shared_ip, too_fast


def test_too_fast_only_counts_correct_answers_under_threshold() -> None:
    times = {"bot": {0: 120_000, 1: 90_000}, "human": {0: 2_400_000, 1: 280_000}}
    correct = {"bot": {0, 1}, "human": {0}}  # human's fast answer was wrong: no flag
    flags = too_fast(times, correct, 300_000)
    assert set(flags) == {"bot"}
    assert "2 correct answer(s) under 300 ms" in str(flags["bot"][0])


def test_shared_ip_groups() -> None:
    ips = {f"p{i}": "10.0.0.1" for i in range(5)} | {"solo": "10.0.0.2"}
    flags = shared_ip(ips, 5)
    assert set(flags) == {f"p{i}" for i in range(5)}
    assert "5 players joined from 10.0.0.1" in str(flags["p0"][0])


def test_same_timing_pairs_on_enough_questions() -> None:
    times = {
        "a": {0: 1_000_000, 1: 2_000_000, 2: 3_000_000},
        "twin": {0: 1_010_000, 1: 1_990_000, 2: 3_020_000},
        "near-twice": {0: 1_005_000, 1: 2_005_000, 2: 9_000_000},
        "other": {0: 5_000_000, 1: 6_000_000, 2: 7_000_000},
    }
    flags = same_timing(times, ["a", "other"], tolerance_us=30_000, min_questions=3)
    assert set(flags) == {"a"}
    assert "twin" in str(flags["a"][0]) and "near-twice" not in str(flags["a"][0])


def test_merge_keeps_every_flag() -> None:
    merged = merge(shared_ip({"x": "ip", "y": "ip"}, 2), too_fast({"x": {0: 1}}, {"x": {0}}, 300_000))
    assert [f.kind for f in merged["x"]] == ["shared_ip", "too_fast"]
