"""The work-tray consumer: every event type of the mapping table, one queue (purpose
``work-tray``), each event's effects applied in the transaction that marks it processed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aio_pika.exceptions import ChannelNotFoundEntity
from shared.app import Runtime
from shared.consumer import BatchHandler, Handler, ReceivedEvent, Subscription
from shared.mongo import Transaction

from .directory import RECIPIENTS
from .domain.effects import Effects
from .mappings import Mapping, all_mappings
from .usecases import Applied, Notifier, apply_closings, apply_effects, apply_openings

PURPOSE = "work-tray"

#: Routing keys the work-tray queue was once bound to and no longer handles (the consumer would
#: dead-letter them). ``signoff.exemplar.first-signed.v1``: sign-off's own "ready for counter-sign"
#: message is the counter-sign task, so a first signature no longer opens a second one.
RETIRED_BINDINGS = ("signoff.exemplar.first-signed.v1",)

log = logging.getLogger(__name__)


class TransactionPeople:
    """Notify's copy of the directory, read inside the consumer's transaction."""

    def __init__(self, notifier: Notifier, tx: Transaction) -> None:
        self.notifier = notifier
        self.tx = tx

    async def line_manager_of(self, person_id: str) -> str | None:
        doc = await self.notifier.db[RECIPIENTS].find_one({"_id": person_id}, {"line_manager_id": 1}, session=self.tx.session)
        return (doc or {}).get("line_manager_id")


async def drop_retired_bindings(runtime: Runtime) -> None:
    """Unbind ``RETIRED_BINDINGS`` from the work-tray queue, before its consumer starts.

    A durable queue keeps its bindings across restarts and the consumer only ever adds them, so
    a queue declared by an earlier release would still receive the retired types. Unbinding is
    idempotent: every start does it, on every replica.
    """
    async with runtime.amqp.channel() as channel:
        try:
            queue = await channel.get_queue(runtime.settings.queue_name(PURPOSE), ensure=True)
        except ChannelNotFoundEntity:
            return  # the queue's first start: nothing was ever bound
        for routing_key in RETIRED_BINDINGS:
            await queue.unbind(runtime.settings.exchange_name, routing_key=routing_key)
            log.info("retired binding removed", extra={"queue": queue.name, "routing_key": routing_key})


def subscriptions(notifier: Notifier, on_mail: Callable[[], None], mappings: list[Mapping] | None = None) -> list[Subscription]:
    """One subscription per mapping, each event's effects applied in the consumer's transaction.

    A run of consecutive events of one type (the batch consumer hands them over together) whose
    effects only close tasks is applied at once (``apply_closings``: one read of the tasks), and so
    is one whose effects only open tasks (``apply_openings``: one read, then their emails); the
    tasks and their history are left for the end of the transaction, written in one command with
    the processed marker. A run that does both is applied event by event, each event's writes
    written before the next reads (``Transaction.flush``)."""

    def mail_queued(applied: Applied) -> None:
        if applied.emails:
            # An email is waiting once this commits: the relay looks shortly after instead of at
            # its next poll (looking early is harmless: it only finds what committed). An event
            # that queued none (most close tasks only) costs the relay no look.
            asyncio.get_running_loop().call_later(0.05, on_mail)

    async def apply(event: ReceivedEvent, effects: Effects, tx: Transaction) -> None:
        if effects:
            mail_queued(await apply_effects(notifier, tx, event, effects))

    def handler(mapping: Mapping) -> Handler:
        async def handle(event: ReceivedEvent, tx: Transaction) -> None:
            await apply(event, await mapping.translate(event, TransactionPeople(notifier, tx)), tx)

        return handle

    def batch_handler(mapping: Mapping) -> BatchHandler:
        async def handle_run(events: Sequence[ReceivedEvent], tx: Transaction) -> None:
            people = TransactionPeople(notifier, tx)
            translated = [(event, effects) for event in events if (effects := await mapping.translate(event, people))]
            if not translated:
                return
            if not any(effects.open for _, effects in translated):
                await apply_closings(notifier, tx, translated)
            elif not any(effects.close for _, effects in translated):
                mail_queued(await apply_openings(notifier, tx, translated))
            else:  # a run that both opens and closes: what one event opens, a later one may close
                for event, effects in translated:
                    await tx.flush()  # what the events before left for the end: written, so this one reads it
                    await apply(event, effects, tx)

        return handle_run

    chosen = mappings if mappings is not None else all_mappings()
    return [Subscription(m.event_type, handler(m), batch_handler=batch_handler(m)) for m in chosen]
