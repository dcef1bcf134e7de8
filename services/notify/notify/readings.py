"""Notify's gauges, read on the readings' slow cadence (``shared.readings``): open and overdue
tasks, emails waiting for the mail server (and the oldest one's age) or given up on, and
reminders that fell due on an earlier day and were not sent — what the operators' alerts and
dashboard read. Every replica reads the same database: dashboards take the ``max`` across replicas."""

from __future__ import annotations

from prometheus_client import Gauge
from shared.app import Runtime
from shared.calendar import local_date
from shared.readings import Reading

from .domain.tasks import TaskStatus
from .mail.outbox import EMAILS, FAILED, PENDING
from .store import TASKS

TASKS_OPEN = Gauge("qa_notify_tasks", "Tasks in people's trays: open, and open past their due date (overdue)", ["state"])
EMAILS_WAITING = Gauge("qa_notify_emails", "Emails waiting for the mail server (pending) or given up on (failed)", ["state"])
EMAILS_OLDEST = Gauge("qa_notify_oldest_pending_email_age_seconds", "How long the oldest email not yet sent has waited (0: none waiting)")
REMINDERS_OVERDUE = Gauge(
    "qa_notify_reminders_overdue", "Open tasks whose reminder fell due on an earlier day and has not been sent"
)


async def tasks(runtime: Runtime) -> None:
    today = local_date(runtime.clock.now()).isoformat()
    open_ = {"status": TaskStatus.OPEN.value}
    TASKS_OPEN.labels("open").set(await runtime.db[TASKS].count_documents(open_))
    TASKS_OPEN.labels("overdue").set(await runtime.db[TASKS].count_documents({**open_, "due_key": {"$lt": today}}))
    REMINDERS_OVERDUE.set(await runtime.db[TASKS].count_documents({**open_, "next_reminder_on": {"$lt": today}}))


async def emails(runtime: Runtime) -> None:
    emails = runtime.db[EMAILS]
    EMAILS_WAITING.labels("pending").set(await emails.count_documents({"status": PENDING}))
    EMAILS_WAITING.labels("failed").set(await emails.count_documents({"status": FAILED}))
    oldest = await emails.find({"status": PENDING}, {"created_at": 1}).sort("created_at", 1).limit(1).to_list()
    age = (runtime.clock.now() - oldest[0]["created_at"]).total_seconds() if oldest else 0.0
    EMAILS_OLDEST.set(max(0.0, age))


READINGS: tuple[Reading, ...] = (tasks, emails)
