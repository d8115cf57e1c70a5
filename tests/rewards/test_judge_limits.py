"""The answer judge under hostile answers: memory capped, no head-of-line stall, one tolerance."""

from __future__ import annotations

import threading
import time

import pytest

from srlkit.rewards import judge as judge_module
from srlkit.rewards.judge import JudgePool, judge_answer
from srlkit.rewards.outcome import score_answer

MEMORY_BOMB = "2^{3\\cdot 10^{9}}"  # about 1.1 GB of integer within a few seconds
CPU_BOMB = "10^{10^{8}}"  # runs until the time limit


@pytest.fixture
def small_memory_pool(monkeypatch):
    monkeypatch.setenv("SRLKIT_JUDGE_MEMORY_MB", "256")
    pool = JudgePool(max_workers=1)
    yield pool
    pool.close()


def test_memory_bomb_is_a_capped_failure_and_the_child_is_replaced(small_memory_pool):
    # A parent as large as a trainer: Linux hands its peak resident size to the child across
    # fork/exec, which must not hide the child's own growth.
    ballast = b"x" * (200 * 2**20)
    start = time.monotonic()
    verdict = small_memory_pool.judge("1", MEMORY_BOMB, timeout_s=30.0)
    assert verdict == {"score": 0.0, "reason": "memory limit"}
    assert time.monotonic() - start < 30.0  # failed on memory, not on the time limit
    assert small_memory_pool.judge("\\frac{1}{2}", "0.5", 10.0)["score"] == 1.0
    del ballast


def test_easy_answer_does_not_wait_behind_a_slow_one():
    pool = JudgePool(max_workers=1)
    try:
        pool.judge("1", "1+0", 30.0)  # start the one regular child
        slow: dict = {}
        thread = threading.Thread(target=lambda: slow.update(pool.judge("1", CPU_BOMB, 8.0)))
        thread.start()
        time.sleep(0.5)  # the bomb now holds the only child for 8 s + grace
        start = time.monotonic()
        easy = pool.judge("\\frac{1}{2}", "\\frac{2}{4}", 30.0)
        waited = time.monotonic() - start
        thread.join()
        assert easy["score"] == 1.0
        assert waited < 6.0, f"waited {waited:.1f} s behind the slow answer"
        assert slow["score"] == 0.0 and slow["reason"].startswith("timeout")
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("gold", "pred", "equal"),
    [
        pytest.param("1.0000001", "1.0000002", True, id="decimals_within_6_places"),
        pytest.param("2", "2.0000001", True, id="integer_vs_decimal_within_6_places"),
        pytest.param("2.0000001", "2", True, id="symmetric"),
        pytest.param("1,000", "1000.0", True, id="thousands_commas"),
        pytest.param("1234567", "1234568", False, id="integers_exact"),
        pytest.param("0.000001", "0.000002", False, id="sixth_place_counts"),
        pytest.param("1000000", "1000000.4", False, id="large_with_fraction"),
        pytest.param("9" * 40, "9" * 39 + "8", False, id="beyond_float_precision"),
    ],
)
def test_numeric_tolerance_is_one_rule(gold, pred, equal, monkeypatch):
    def no_child(*args):
        raise AssertionError("plain numbers must not need a judge process")

    monkeypatch.setattr(judge_module, "default_pool", no_child)
    assert judge_answer(gold, pred)["score"] == (1.0 if equal else 0.0)
    assert score_answer(f"so \\boxed{{{pred}}}", gold).score == (1.0 if equal else 0.0)
