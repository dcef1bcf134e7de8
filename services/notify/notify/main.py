"""The notify service's app factory: ``uvicorn notify.main:create_app --factory --port 8004``."""

from __future__ import annotations

from fastapi import FastAPI
from shared.app import ConsumerSpec, Runtime, create_service_app
from shared.clock import Clock
from shared.errors import Problem

from . import api, consumers, directory, store
from .domain.preferences import StatutoryEmail
from .domain.tasks import TaskClosed, TaskNotFound
from .mail.outbox import INDEXES as MAIL_INDEXES
from .mail.relay import MailRelay
from .mail.render import Templates
from .mail.smtp import SmtpSender
from .push import TaskHub
from .readings import READINGS
from .scheduler import SchedulerLoop
from .settings import NotifySettings
from .usecases import Notifier


def _errors() -> dict[type[Exception], object]:
    return {
        TaskNotFound: lambda e: Problem(404, "not-found", "Not found", str(e)),
        TaskClosed: lambda e: Problem(409, "task-closed", "Task already closed", str(e)),
        StatutoryEmail: lambda e: Problem(422, "statutory-email", "This email cannot be turned off", str(e),
                                          kinds=sorted(k.value for k in e.kinds)),
    }


def create_app(settings: NotifySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()

    async def on_startup(runtime: Runtime) -> None:
        notifier = Notifier(runtime.db, settings, Templates(), runtime.clock)
        relay = MailRelay(runtime.db, SmtpSender(settings), runtime.clock, settings)
        hub = TaskHub(runtime.db)
        scheduler = SchedulerLoop(notifier, runtime.uow, settings.reminder_interval_s, on_mail=relay.wake)
        runtime.extra.update(notifier=notifier, mail_relay=relay, hub=hub, scheduler=scheduler)
        await consumers.drop_retired_bindings(runtime)
        hub.start()
        await hub.wait_ready()
        if settings.mail_relay_enabled:
            relay.start()
        if settings.reminder_scheduler_enabled:
            scheduler.start()

    async def on_shutdown(runtime: Runtime) -> None:
        await runtime.extra["scheduler"].stop()
        await runtime.extra["mail_relay"].stop()
        await runtime.extra["hub"].stop()

    def work_tray(runtime: Runtime) -> list:
        return consumers.subscriptions(runtime.extra["notifier"], runtime.extra["mail_relay"].wake)

    return create_service_app(
        settings,
        title="Notify",
        description="Each person's work tray, email, reminders on working days, real-time push.",
        routers=[api.build_router()],
        indexes=[*directory.INDEXES, *store.INDEXES, *MAIL_INDEXES],
        consumers=[
            ConsumerSpec("directory", lambda runtime: directory.subscriptions(runtime.db), batch=True),
            # The work tray batches too: the events in hand are handled in delivery order, in one
            # transaction with one processed marker (a failing one retried or dead-lettered alone).
            ConsumerSpec(consumers.PURPOSE, work_tray, batch=True, prefetch=settings.consumer_prefetch),
        ],
        domain_errors=_errors(),
        readings=READINGS,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        clock=clock,
    )
