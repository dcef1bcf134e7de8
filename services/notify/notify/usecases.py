"""What people and events do to tasks: open and close them from an event's effects (with their
emails, in the consumer's transaction), mark one done or cancel it, change email preferences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.calendar import local_date
from shared.clock import Clock
from shared.consumer import ReceivedEvent
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import check_version

from . import store
from .directory import RECIPIENTS
from .domain.effects import Effects, OpenTask
from .domain.kinds import FORMERLY, LABELS, TaskKind, is_chased_when_overdue, reminder_interval
from .domain.preferences import Preferences
from .domain.schedule import first_chase_on
from .domain.tasks import Link, Task, task_id_for
from .mail.outbox import queue_email
from .mail.render import Templates
from .settings import NotifySettings


@dataclass
class Notifier:
    """What the use cases need besides a transaction: the database, settings, templates, clock."""

    db: AsyncDatabase[Document]
    settings: NotifySettings
    templates: Templates
    clock: Clock

    def url(self, link: Link) -> str:
        return f"{self.settings.frontend_base_url.rstrip('/')}/{link.service}{link.path}"

    def document_url(self, document_path: str) -> str:
        """A document a producer keeps, through the gateway (``/api/v1/...``) beside the front end."""
        return f"{self.settings.frontend_base_url.rstrip('/')}/{document_path.lstrip('/')}"

    @property
    def tray_url(self) -> str:
        return f"{self.settings.frontend_base_url.rstrip('/')}/tasks"

    async def person(self, tx: Transaction | None, person_id: str | None) -> Document | None:
        if person_id is None:
            return None
        return await self.db[RECIPIENTS].find_one({"_id": person_id}, {"name": 1, "email": 1, "active": 1, "roles": 1,
                                                                      "line_manager_id": 1}, session=tx.session if tx else None)

    async def email_recipient(self, tx: Transaction, task: Task) -> Document | None:
        """The task's assignee as the directory knows them (``{}`` if it does not), if an email
        about the task goes to them: they want emails of its kind and have not left; else None."""
        prefs = await store.load_preferences(self.db, task.assignee_id, tx=tx)
        if not prefs.wants_email(task.kind):
            return None
        person = await self.person(tx, task.assignee_id)
        if person is not None and person.get("active") is False:
            return None
        return person or {}

    def task_facts(self, task: Task, recipient: Document) -> dict[str, Any]:
        """What every email about a task tells of it (the templates' shared context)."""
        return {
            "recipient_name": recipient.get("name") or "colleague",
            "kind_label": LABELS[task.kind],
            "subject": task.subject,
            "action": task.action,
            "due_on": task.due_on.strftime("%d/%m/%Y") if task.due_on else "",
            "url": self.url(task.link),
            "tray_url": self.tray_url,
        }


@dataclass(frozen=True)
class Applied:
    """What an event's effects did: the tasks opened and the emails queued (their ids)."""

    opened: list[str]
    emails: list[str]


async def apply_effects(n: Notifier, tx: Transaction, event: ReceivedEvent, effects: Effects) -> Applied:
    """Close what the event satisfies, then open its tasks (with their emails): ``apply_closings``
    then ``apply_openings`` for this one event. Runs inside the consumer's transaction, so all of
    it commits together with the event's "processed" marker, or none of it does."""
    await apply_closings(n, tx, [(event, Effects(close=effects.close))])
    return await apply_openings(n, tx, [(event, Effects(open=effects.open))])


def _task_for(n: Notifier, event: ReceivedEvent, spec: OpenTask, now: datetime) -> Task:
    """The task ``spec`` opens for ``event``, as of ``now``."""
    return Task.open(
        event_id=event.id,
        event_type=event.envelope.type,
        assignee_id=spec.assignee_id,
        kind=spec.kind,
        subject=spec.subject,
        action=spec.action,
        due_on=spec.due_on,
        assigned_by=spec.assigned_by,
        origin=spec.origin,
        link=spec.link,
        at=now,
        closes_on=spec.closes_on,
        first_reminder_on=first_chase_on(
            is_chased_when_overdue(spec.kind), local_date(now), spec.due_on, reminder_interval(spec.kind, n.settings.reminder_working_days)
        ),
        context=spec.context,
    )


async def apply_openings(n: Notifier, tx: Transaction, opening: list[tuple[ReceivedEvent, Effects]]) -> Applied:
    """``apply_effects`` for a run of events whose effects only open tasks: which of their tasks
    are there already read at once (a replayed event's, under its kind or the kind it took over
    from), the others inserted in one command with their history in one more, then their emails
    queued, in the events' order."""
    planned: list[tuple[ReceivedEvent, OpenTask, Task]] = []
    for event, effects in opening:
        now = n.clock.now()
        planned += [(event, spec, _task_for(n, event, spec, now)) for spec in effects.open]
    former = {task.id: task_id_for(event.id, spec.assignee_id, FORMERLY[spec.kind]) for event, spec, task in planned if spec.kind in FORMERLY}
    there = await store.existing_task_ids(n.db, tx, [task.id for _, _, task in planned] + list(former.values()))
    new = [(event, spec, task) for event, spec, task in planned if task.id not in there and former.get(task.id) not in there]
    store.insert_tasks(n.db, tx, [task for _, _, task in new])
    emails: list[str] = []
    for event, spec, task in new:
        if spec.email is not None and (email_id := await _email_for(n, tx, task, spec, event.id)) is not None:
            emails.append(email_id)
    return Applied([task.id for _, _, task in new], emails)


async def apply_closings(n: Notifier, tx: Transaction, closing: list[tuple[ReceivedEvent, Effects]]) -> None:
    """``apply_effects`` for a run of events whose effects only close tasks: their open tasks read
    at once, closed in the events' order (a task two of them close is closed by the first), and
    written back in one command, with their history in one more."""
    keys = [close.key for _, effects in closing for close in effects.close]
    if not keys:
        return
    found = await store.open_tasks_closed_by_any(n.db, tx, keys)
    changed: dict[str, tuple[Task, int]] = {}
    for event, effects in closing:
        now = n.clock.now()
        for close in effects.close:
            for task in found.get(close.key, []):
                expected = task.version
                if task.close_by_event(outcome=close.outcome, reason=close.reason, by=close.by, at=now, event_id=event.id):
                    changed.setdefault(task.id, (task, expected))
    store.save_tasks(n.db, tx, list(changed.values()))


async def _email_for(n: Notifier, tx: Transaction, task: Task, spec: OpenTask, event_id: str) -> str | None:
    """Queue the task's email; its id, or None when none was queued (the assignee does not want
    emails of this kind or has left, or it was queued already)."""
    assert spec.email is not None
    recipient = await n.email_recipient(tx, task)
    if recipient is None:
        return None
    assigner = await n.person(tx, task.assigned_by)
    context: dict[str, Any] = {
        **n.task_facts(task, recipient),
        "assigned_by_name": (assigner or {}).get("name") or ("a colleague" if task.assigned_by else "the system"),
        **spec.email.context,
    }
    if spec.email.document_path is not None:
        context["document_url"] = n.document_url(spec.email.document_path)
    rendered = n.templates.render(spec.email.template, context)
    return await queue_email(
        n.db, tx,
        key=event_id,
        recipient_id=task.assignee_id,
        to=recipient.get("email"),
        template=spec.email.template,
        rendered=rendered,
        now=n.clock.now(),
        kind=task.kind.value,
        task_id=task.id,
        source_event_id=event_id,
    )


async def _change_task(uow: UnitOfWork, db: AsyncDatabase[Document], task_id: str, by: str, if_match: int,
                       change: Callable[[Task, datetime], None]) -> Task:
    """The caller's own task, at the version they saw, changed by ``change`` (given the moment) and saved."""
    async def work(tx: Transaction) -> Task:
        task = await store.load_task(db, task_id, tx=tx, with_history=True)
        task.ensure_assignee(by)
        check_version("task", task.version, if_match, ident=task_id)
        change(task, uow.clock.now())
        await store.save_task(db, tx, task, expected_version=if_match)
        return task

    return await uow.run(work)


async def mark_done(uow: UnitOfWork, db: AsyncDatabase[Document], task_id: str, *, by: str, if_match: int, note: str | None) -> Task:
    return await _change_task(uow, db, task_id, by, if_match, lambda task, at: task.mark_done(by=by, at=at, note=note))


async def cancel_task(uow: UnitOfWork, db: AsyncDatabase[Document], task_id: str, *, by: str, if_match: int, reason: str | None) -> Task:
    return await _change_task(uow, db, task_id, by, if_match, lambda task, at: task.cancel(by=by, at=at, reason=reason))


async def change_preferences(
    uow: UnitOfWork, db: AsyncDatabase[Document], person_id: str, email: dict[TaskKind, bool], *, if_match: int
) -> Preferences:
    async def work(tx: Transaction) -> Preferences:
        prefs = await store.load_preferences(db, person_id, tx=tx)
        check_version("preferences", prefs.version, if_match, ident=person_id)
        prefs.change(email, by=person_id, at=uow.clock.now())
        await store.save_preferences(db, tx, prefs, expected_version=if_match)
        return prefs

    return await uow.run(work)
