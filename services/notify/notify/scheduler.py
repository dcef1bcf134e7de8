"""The scheduler: reminders every N working days for open chased tasks, and the mid-month digest
of incomplete audits to assistant directors and service managers.

``send_due_reminders(now)`` is one pass; any number of replicas may run it at the same moment.
The background loop runs it with the clock's time, and ``POST /v1/scheduler/runs`` (``scheduler_api``,
where ``SCHEDULER_AS_OF_ENABLED`` allows it) with a moment an administrator names: the same pass,
through ``SchedulerLoop.run_at``.
Each reminder is recorded under the id ``<task>:<reminder date>`` in the same transaction as its
email and the task's update, and each digest under ``<month>:<recipient>``, so whichever replica
commits first sends it and the others find it done.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError
from shared.calendar import is_working_day, local_date
from shared.mongo import Document, Transaction, UnitOfWork
from shared.roles import Role
from shared.versioned import Stale
from shared.worker import BackgroundWorker

from . import store
from .directory import RECIPIENTS
from .domain.kinds import TaskKind, is_chased_when_overdue, reminder_interval
from .domain.schedule import chase_due, digest_day
from .domain.tasks import Link, Origin, Task, TaskStatus
from .mail.outbox import queue_email
from .usecases import Notifier

log = logging.getLogger(__name__)

REMINDERS = "reminders"
DIGESTS = "digests"
#: Roles that receive the mid-month list (seed 004: assistant area directors and service managers).
DIGEST_ROLES = frozenset({Role.ASSISTANT_DIRECTOR, Role.SERVICE_MANAGER})
#: How far up the line-management chain a digest recipient is looked for.
CHAIN_DEPTH = 6
DIGEST_EVENT_TYPE = "notify.digest.incomplete-audits"

@dataclass
class SchedulerPass:
    reminders: int = 0
    digests: int = 0
    #: False on a weekend or bank holiday: nothing was looked at.
    working_day: bool = True


async def send_due_reminders(n: Notifier, uow: UnitOfWork, now: datetime, *, batch: int = 500) -> SchedulerPass:
    """Send every reminder and digest due at ``now`` that no replica has sent yet."""
    today = local_date(now)
    result = SchedulerPass()
    if not is_working_day(today):
        result.working_day = False
        return result  # reminders and digests go on working days only
    # "On or before today" as "before tomorrow": SecantusDB 0.7.0b3 can miss keys equal to a $lte bound.
    tomorrow = (today + timedelta(days=1)).isoformat()
    due = await n.db[store.TASKS].find(
        {"status": TaskStatus.OPEN.value, "next_reminder_on": {"$lt": tomorrow}}, {"_id": 1}
    ).sort([("next_reminder_on", ASCENDING)]).limit(batch).to_list()
    for doc in due:
        if await _remind(n, uow, doc["_id"], now):
            result.reminders += 1
    result.digests = await _send_digests(n, uow, now)
    return result


async def _remind(n: Notifier, uow: UnitOfWork, task_id: str, now: datetime) -> bool:
    today = local_date(now)

    async def work(tx: Transaction) -> bool:
        task = await store.load_task(n.db, task_id, tx=tx, with_history=True)
        if not task.is_open or task.next_reminder_on is None or task.next_reminder_on > today:
            return False
        interval = reminder_interval(task.kind, n.settings.reminder_working_days)
        due = chase_due(is_chased_when_overdue(task.kind), local_date(task.created_at), task.due_on, today, interval)
        if due is None:
            return False
        reminder_id = f"{task.id}:{due.on.isoformat()}"
        if await n.db[REMINDERS].find_one({"_id": reminder_id}, {"_id": 1}, session=tx.session) is not None:
            return False
        # The unique _id is what makes a reminder go once when several replicas race to send it.
        await n.db[REMINDERS].insert_one(
            {"_id": reminder_id, "task_id": task.id, "on": due.on.isoformat(), "number": due.number, "sent_at": now,
             "assignee_id": task.assignee_id},
            session=tx.session,
        )
        expected = task.version
        task.remind(on=due.on, number=due.number, next_on=due.next_on, at=now)
        await store.save_task(n.db, tx, task, expected_version=expected)
        await _reminder_email(n, tx, task, due.number, reminder_id, now)
        return True

    try:
        return await uow.run(work)
    except (DuplicateKeyError, Stale):
        return False  # another replica sent it first


async def _reminder_email(n: Notifier, tx: Transaction, task: Task, number: int, key: str, now: datetime) -> None:
    person = await n.email_recipient(tx, task)
    if person is None:
        return
    rendered = n.templates.render("reminder", {
        **n.task_facts(task, person),
        "number": number,
        "assigned_on": local_date(task.created_at).strftime("%d/%m/%Y"),
        "interval": reminder_interval(task.kind, n.settings.reminder_working_days),
    })
    await queue_email(n.db, tx, key=f"reminder:{key}", recipient_id=task.assignee_id, to=person.get("email"),
                      template="reminder", rendered=rendered, now=now, kind=task.kind.value, task_id=task.id)


async def _send_digests(n: Notifier, uow: UnitOfWork, now: datetime) -> int:
    today = local_date(now)
    if today < digest_day(today.year, today.month, n.settings.digest_day_of_month):
        return 0
    month = today.strftime("%Y-%m")
    incomplete = await n.db[store.TASKS].find({"kind": TaskKind.AUDIT.value, "status": TaskStatus.OPEN.value}).to_list()
    incomplete = [t for t in incomplete if t.get("context", {}).get("month") in (None, month)]
    if not incomplete:
        return 0
    per_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    people: dict[str, Document | None] = {}
    for task in sorted(incomplete, key=lambda t: t["_id"]):
        auditor = await _person(n, people, task["assignee_id"])
        item = {
            "audit_id": task.get("context", {}).get("audit_id", task["_id"]),
            "auditor_id": task["assignee_id"],
            "auditor_name": (auditor or {}).get("name") or task["assignee_id"],
            "due_on": date_text(task.get("due_on")),
            "url": n.url(Link(**task["link"])),
        }
        for manager_id in await _digest_managers(n, people, task["assignee_id"]):
            per_recipient[manager_id].append(item)
    sent = 0
    for recipient_id, items in sorted(per_recipient.items()):
        if await _digest(n, uow, month, recipient_id, items, people.get(recipient_id), now):
            sent += 1
    return sent


def date_text(iso: str | None) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if iso else ""


async def _person(n: Notifier, cache: dict[str, Document | None], person_id: str) -> Document | None:
    if person_id not in cache:
        cache[person_id] = await n.db[RECIPIENTS].find_one({"_id": person_id})
    return cache[person_id]


async def _digest_managers(n: Notifier, cache: dict[str, Document | None], auditor_id: str) -> list[str]:
    """Assistant directors and service managers up the auditor's line-management chain."""
    found: list[str] = []
    seen = {auditor_id}
    current = await _person(n, cache, auditor_id)
    for _ in range(CHAIN_DEPTH):
        manager_id = (current or {}).get("line_manager_id")
        if not manager_id or manager_id in seen:
            break
        seen.add(manager_id)
        current = await _person(n, cache, manager_id)
        if current is not None and current.get("active", True) and DIGEST_ROLES.intersection(current.get("roles", [])):
            found.append(manager_id)
    return found


async def _digest(n: Notifier, uow: UnitOfWork, month: str, recipient_id: str, items: list[dict[str, Any]],
                  person: Document | None, now: datetime) -> bool:
    digest_id = f"{month}:{recipient_id}"
    key = f"digest:{digest_id}"

    async def work(tx: Transaction) -> bool:
        if await n.db[DIGESTS].find_one({"_id": digest_id}, {"_id": 1}, session=tx.session) is not None:
            return False
        await n.db[DIGESTS].insert_one({"_id": digest_id, "month": month, "recipient_id": recipient_id, "items": items, "sent_at": now},
                                       session=tx.session)
        task = Task.open(
            event_id=key, event_type=DIGEST_EVENT_TYPE, assignee_id=recipient_id, kind=TaskKind.INCOMPLETE_AUDITS_DIGEST,
            subject=f"Audits not yet completed for {month}: {len(items)}",
            action="Establish why each audit is delayed and support its completion by the end of the month",
            due_on=None, assigned_by=None, origin=Origin.SYSTEM, link=Link("audit", f"/audits?month={month}&status=incomplete"),
            at=now, context={"month": month, "audits": str(len(items))},
        )
        await store.insert_task(n.db, tx, task)
        rendered = n.templates.render("incomplete_audits_digest", {
            "recipient_name": (person or {}).get("name") or "colleague", "month": month, "items": items, "tray_url": n.tray_url,
        })
        await queue_email(n.db, tx, key=key, recipient_id=recipient_id, to=(person or {}).get("email"),
                          template="incomplete_audits_digest", rendered=rendered, now=now,
                          kind=TaskKind.INCOMPLETE_AUDITS_DIGEST.value, task_id=task.id)
        return True

    try:
        return await uow.run(work)
    except DuplicateKeyError:
        return False


class SchedulerLoop(BackgroundWorker):
    """Runs ``send_due_reminders`` every ``REMINDER_INTERVAL_S`` seconds (``run_at`` the clock's time)."""

    def __init__(self, n: Notifier, uow: UnitOfWork, interval_s: float, on_mail: Any = None) -> None:
        super().__init__(
            "reminder-scheduler", interval_s=interval_s, logger=log,
            failure_message="scheduler pass failed; trying again at the next interval",
        )
        self.n = n
        self.uow = uow
        self.on_mail = on_mail

    async def run_once(self) -> None:
        await self.run_at(self.n.clock.now())

    async def run_at(self, now: datetime) -> SchedulerPass:
        """One pass as of ``now``: what the loop runs each interval, and what an administrator runs
        "as of" a date (``POST /v1/scheduler/runs``). Each reminder and digest goes once whichever runs it."""
        done = await send_due_reminders(self.n, self.uow, now)
        if (done.reminders or done.digests) and self.on_mail is not None:
            self.on_mail()
        return done
