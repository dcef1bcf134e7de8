"""The background worker: passes, waits, wake-ups, back-off after failures, and a stop that lets
the pass in hand finish. Every wait here is on a condition (an event), never on the clock."""

from __future__ import annotations

import asyncio
import logging

import pytest
from shared.worker import BackgroundWorker

#: Long enough that a test only passes if the worker did not wait it out.
FOREVER = 3600.0
#: A safety net on every condition awaited, so a broken worker fails the test instead of hanging it.
LIMIT = 5.0


async def _yield(times: int = 20) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


class Counting:
    """A pass that counts itself and lets the test await the n-th one."""

    def __init__(self, results: list[bool | None] | None = None) -> None:
        self.calls = 0
        self.results = results or []
        self._changed = asyncio.Condition()

    async def __call__(self) -> bool | None:
        self.calls += 1
        async with self._changed:
            self._changed.notify_all()
        return self.results[self.calls - 1] if self.calls <= len(self.results) else None

    async def reach(self, calls: int) -> None:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.calls >= calls)

        await asyncio.wait_for(reached(), LIMIT)


async def test_stop_lets_the_pass_in_hand_finish_and_runs_no_other() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def run() -> None:
        entered.set()
        await release.wait()
        finished.append("done")

    worker = BackgroundWorker("draining", interval_s=FOREVER, run=run)
    worker.start()
    await asyncio.wait_for(entered.wait(), LIMIT)

    stopping = asyncio.create_task(worker.stop())
    await _yield()
    assert worker.stopping and not stopping.done()  # still waiting for the pass

    release.set()
    await asyncio.wait_for(stopping, LIMIT)
    assert finished == ["done"]
    assert not worker.running


async def test_stop_cancels_a_pass_that_does_not_finish_in_time() -> None:
    entered = asyncio.Event()
    outcome: list[str] = []

    async def run() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    worker = BackgroundWorker("stuck", interval_s=FOREVER, run=run, stop_timeout_s=0)
    worker.start()
    await asyncio.wait_for(entered.wait(), LIMIT)

    await asyncio.wait_for(worker.stop(), LIMIT)
    assert outcome == ["cancelled"]
    assert not worker.running


async def test_stop_of_a_worker_never_started_returns() -> None:
    await asyncio.wait_for(BackgroundWorker("idle", interval_s=FOREVER, run=Counting()).stop(), LIMIT)


async def test_wake_runs_the_next_pass_before_the_interval() -> None:
    run = Counting()
    worker = BackgroundWorker("woken", interval_s=FOREVER, run=run)
    worker.start()
    try:
        await run.reach(1)
        await _yield()
        assert run.calls == 1  # waiting out the interval

        worker.wake()
        await run.reach(2)
        assert run.calls == 2
    finally:
        await worker.stop()


async def test_a_wake_during_a_pass_is_not_lost() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    calls: list[int] = []

    async def run() -> None:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            entered.set()
            await release.wait()

    more = Counting()

    async def counted() -> None:
        await run()
        await more()

    worker = BackgroundWorker("woken-mid-pass", interval_s=FOREVER, run=counted)
    worker.start()
    try:
        await asyncio.wait_for(entered.wait(), LIMIT)
        worker.wake()  # something to do arrived while the pass was busy
        release.set()
        await more.reach(2)
        assert calls == [1, 2]
    finally:
        await worker.stop()


async def test_a_pass_that_says_more_is_waiting_is_followed_by_another_at_once() -> None:
    run = Counting(results=[True, True, None])
    worker = BackgroundWorker("batches", interval_s=FOREVER, run=run)
    worker.start()
    try:
        await run.reach(3)
        await _yield()
        assert run.calls == 3  # then it waits the interval
    finally:
        await worker.stop()


class Scripted(BackgroundWorker):
    """Passes that fail or succeed as scripted; records each wait instead of waiting it."""

    def __init__(self, script: list[str]) -> None:
        super().__init__("scripted", interval_s=1.0, max_backoff_s=5.0, logger=logging.getLogger("test.scripted"))
        self.script = list(script)
        self.waits: list[float] = []
        self.done = asyncio.Event()

    async def run_once(self) -> None:
        step = self.script.pop(0)
        if step == "healthy, then fail":
            self.healthy()
            raise RuntimeError("lost after a good start")
        if step == "fail":
            raise RuntimeError("boom")

    async def pause(self, delay_s: float) -> None:
        self.waits.append(delay_s)
        if not self.script:
            self.done.set()
            await super().pause(FOREVER)  # until stopped


async def test_failures_in_a_row_back_off_exponentially_up_to_the_most_and_a_success_resets_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = Scripted(["fail", "fail", "fail", "fail", "fail", "ok", "fail", "fail", "healthy, then fail", "ok"])
    with caplog.at_level(logging.ERROR, logger="test.scripted"):
        worker.start()
        await asyncio.wait_for(worker.done.wait(), LIMIT)
        await worker.stop()

    #              1st  2nd  3rd  4th  5th  (capped)  ok   fail fail  healthy: from the start  ok
    assert worker.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    failures = [r for r in caplog.records if r.name == "test.scripted"]
    assert len(failures) == 8
    assert all(r.message == "scripted pass failed; retrying" and r.exc_info for r in failures)


def test_the_back_off_never_goes_below_the_interval() -> None:
    worker = BackgroundWorker("slow", interval_s=60.0, max_backoff_s=30.0, run=Counting())
    assert [worker.backoff_s(n) for n in range(4)] == [60.0, 60.0, 60.0, 60.0]


async def test_a_stopped_worker_can_start_again() -> None:
    run = Counting()
    worker = BackgroundWorker("again", interval_s=FOREVER, run=run)
    worker.start()
    await run.reach(1)
    await worker.stop()
    worker.start()
    try:
        await run.reach(2)
        assert not worker.stopping
    finally:
        await worker.stop()
