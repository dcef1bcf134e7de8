"""The per-person token bucket (kept per gateway replica)."""

from __future__ import annotations

import pytest
from gateway.limits import RateLimiter
from shared.errors import Problem


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_with_the_seconds_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 3, clock=clock)  # one a second, three at once
    assert [limiter.take("P-1") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("P-1") == pytest.approx(1.0)


def test_tokens_come_back_at_the_configured_pace_but_never_above_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, 2, clock=clock)  # two a second
    limiter.take("P-1")
    limiter.take("P-1")
    assert limiter.take("P-1") > 0
    clock.now += 0.5  # one token back
    assert limiter.take("P-1") == 0
    assert limiter.take("P-1") > 0
    clock.now += 3600  # a long pause refills to the burst, not beyond
    assert [limiter.take("P-1") for _ in range(3)][-1] > 0


def test_each_person_has_their_own_bucket() -> None:
    limiter = RateLimiter(60, 1, clock=FakeClock())
    assert limiter.take("P-1") == 0
    assert limiter.take("P-1") > 0
    assert limiter.take("P-2") == 0


def test_check_refuses_with_429_and_a_whole_number_retry_after() -> None:
    limiter = RateLimiter(6, 1, clock=FakeClock())  # one every ten seconds
    limiter.check("P-1")
    with pytest.raises(Problem) as refused:
        limiter.check("P-1")
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "10"


def test_a_limit_of_zero_turns_limiting_off() -> None:
    limiter = RateLimiter(0, 1, clock=FakeClock())
    assert all(limiter.take("P-1") == 0 for _ in range(1000))


def test_idle_buckets_are_forgotten_when_too_many_people_are_tracked() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 5, clock=clock, max_tracked=10)
    for i in range(10):
        limiter.take(f"P-{i}")
    clock.now += 60  # all full again
    limiter.take("P-new")
    assert set(limiter._buckets) == {"P-new"}


def test_an_exempt_caller_is_never_limited_while_others_still_are() -> None:
    limiter = RateLimiter(60, 2, clock=lambda: 0.0, exempt=frozenset({"P-FUZZ"}))
    assert all(limiter.take("P-FUZZ") == 0 for _ in range(1000))
    assert limiter.take("P-1") == 0 and limiter.take("P-1") == 0
    assert limiter.take("P-1") > 0
