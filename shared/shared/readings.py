"""Readings: gauges read from the database and the broker on a slow cadence.

Counting things (the outbox backlog, a queue's depth, a service's open work) costs a command
each time, so it is not done on every request or every relay pass: one ``Readings`` worker per
process reads them every ``METRICS_INTERVAL_S`` seconds (30 by default) and sets the gauges that
``/metrics`` serves. Every replica reads the same database, so a dashboard or alert takes the
``max`` of a reading across replicas, never the sum.

Each service adds its own readings (``create_service_app(readings=...)``): an async function of
the running service that sets its gauges. A reading that fails is logged and the others still
run; its gauges keep their last value until the next pass succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .worker import BackgroundWorker

log = logging.getLogger(__name__)

#: One reading: sets its gauges from what the running service (a ``shared.app.Runtime``) can see.
#: (``Any``, not ``Runtime``: the app factory runs the readings, so this module must not import it.)
Reading = Callable[[Any], Awaitable[None]]
Runtime = Any


class Readings(BackgroundWorker):
    def __init__(self, runtime: Runtime, readings: Sequence[Reading], *, interval_s: float) -> None:
        super().__init__(f"{runtime.settings.service_name}-readings", interval_s=interval_s, stop_timeout_s=5.0)
        self.runtime = runtime
        self.readings = list(readings)

    async def run_once(self) -> bool:
        for reading in self.readings:
            if self.stopping:
                break
            try:
                await reading(self.runtime)
            except Exception:  # a reading is advisory: the others still run
                log.warning("reading %s failed", getattr(reading, "__name__", reading), exc_info=True)
        return False


async def read_outbox(runtime: Runtime) -> None:
    """The outbox: how many events wait for the broker, and how long the oldest has waited."""
    await runtime.relay.read_backlog()


async def read_queues(runtime: Runtime) -> None:
    """Each of the service's consumer queues: messages ready, and messages dead-lettered."""
    for consumer in runtime.consumers:
        await consumer.read_depths()


#: What every service reads, before its own readings.
COMMON_READINGS: tuple[Reading, ...] = (read_outbox, read_queues)
