"""The one background loop every service runs its pollers with (outbox relay, mail relay, import
runner, webhook dispatcher, reminder scheduler, change-stream watcher).

A ``BackgroundWorker`` runs one task that repeats a *pass* (``run_once``), then waits:

- ``interval_s`` after a pass that finished;
- not at all when the pass says more is waiting (``run_once`` returned True);
- until ``wake()`` is called, whichever comes first (a wake during a pass runs the next pass at
  once, so none is lost);
- after a pass that raised: the failure is logged and the wait backs off, ``interval_s`` after the
  first failure, doubling with each failure in a row up to ``max_backoff_s`` (never less than
  ``interval_s``), and back to ``interval_s`` after a pass that succeeds (or ``healthy()``).

``stop()`` lets the pass in hand finish (for ``stop_timeout_s``; ``None`` waits as long as it
takes, ``0`` cancels at once), then cancels it. Either subclass and override ``run_once``, or pass
the pass as ``run``::

    class Relay(BackgroundWorker):
        async def run_once(self) -> bool:
            return await self.publish_pending() >= self.batch_size

    worker = BackgroundWorker("sweeper", interval_s=60, run=sweep)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: The longest wait after failures in a row, unless a worker says otherwise.
MAX_BACKOFF_S = 30.0


class BackgroundWorker:
    def __init__(
        self,
        name: str,
        *,
        interval_s: float,
        run: Callable[[], Awaitable[bool | None]] | None = None,
        max_backoff_s: float = MAX_BACKOFF_S,
        stop_timeout_s: float | None = 10.0,
        logger: logging.Logger | None = None,
        failure_message: str | None = None,
        failure_level: int = logging.ERROR,
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.stop_timeout_s = stop_timeout_s
        self._run = run
        self._log = logger or log
        self._failure_message = failure_message or f"{name} pass failed; retrying"
        self._failure_level = failure_level
        self._wake = asyncio.Event()
        self._stopping = False
        self._failures = 0
        self._task: asyncio.Task[None] | None = None

    # --- what a worker does ------------------------------------------------------------------

    async def run_once(self) -> bool | None:
        """One pass. True: more is waiting, run the next pass at once."""
        if self._run is None:
            raise NotImplementedError("override run_once or pass run=")
        return await self._run()

    # --- control -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name=self.name)

    def wake(self) -> None:
        """Run the next pass now rather than at the end of the wait (or right after the pass in hand)."""
        self._wake.set()

    def healthy(self) -> None:
        """A long pass says it is working: a failure after this backs off from ``interval_s`` again."""
        self._failures = 0

    async def stop(self) -> None:
        """Stop after the pass in hand; cancel it if it is not done within ``stop_timeout_s``."""
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        if self.stop_timeout_s is None or self.stop_timeout_s > 0:
            done, _ = await asyncio.wait({task}, timeout=self.stop_timeout_s)
            if done:
                return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called: a long pass checks it to end early."""
        return self._stopping

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def failures(self) -> int:
        """Failed passes in a row."""
        return self._failures

    def backoff_s(self, failures: int) -> float:
        """The wait after ``failures`` failed passes in a row (0: after a pass that succeeded)."""
        if failures <= 0:
            return self.interval_s
        return min(self.interval_s * 2 ** (failures - 1), max(self.max_backoff_s, self.interval_s))

    async def pause(self, delay_s: float) -> None:
        """Wait ``delay_s`` seconds, or less if woken (or stopped)."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=delay_s)
        except TimeoutError:
            pass

    # --- the loop ------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            more: bool | None = False
            try:
                more = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._failures += 1
                self._log.log(self._failure_level, self._failure_message, exc_info=True)
            else:
                self._failures = 0
            if self._stopping:
                break
            if more:
                continue
            await self.pause(self.backoff_s(self._failures))
