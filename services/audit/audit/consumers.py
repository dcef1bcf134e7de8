"""The events the audit service listens to: the directory (people, teams, cases), projected into
its own collections (``audit.directory``), and the monthly allocation's work items
(``audit.allocation.requested``) on their own quorum queue, ``<ns>.audit.allocation``, which
every replica consumes (competing consumers).

The allocation queue is a batch consumer with its own prefetch (``AUDIT_ALLOCATION_PREFETCH``):
the work items a replica holds are allocated together, one transaction per batch of up to that
many (one processed marker listing them, their audits and outbox events each one bulk insert), and a batch that
fails is handled again one item at a time, each retried or dead-lettered on its own. One batch
at a time per replica: many transactions at once on one database conflict and retry more than
they gain (on SecantusDB, 600 items one per transaction: prefetch 8 took 24 s, 32 took 146 s;
``bench/audit_cycle``)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.app import ConsumerSpec, Runtime
from shared.consumer import Subscription

from .common import directory
from .cycles import usecases as cycles
from .hillingdon import consumers as hillingdon_consumers


def _directory(runtime: Runtime) -> Sequence[Subscription]:
    return directory.subscriptions(runtime.db)


CONSUMERS = [
    ConsumerSpec("directory", _directory, batch=True),
    ConsumerSpec(hillingdon_consumers.PURPOSE, hillingdon_consumers.subscriptions),
]

ALLOCATION = "allocation"


def allocation(prefetch: int) -> ConsumerSpec:
    """The consumer of the allocation work items: batches of up to ``prefetch``."""
    return ConsumerSpec(ALLOCATION, lambda runtime: cycles.subscriptions(runtime.extra["audit"]), batch=True, prefetch=prefetch)
