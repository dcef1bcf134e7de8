"""Tasks and preferences in notify's database: documents, indexes, version-guarded writes.

``tasks`` holds the current state of each task (its ``version`` is the ETag), ``task_history``
every status change and reminder, ``preferences`` each person's email choices. Dates are stored
as ISO strings (``YYYY-MM-DD``): they sort and compare as dates do, and ``due_key`` puts tasks
without a due date last.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import insert_versioned, replace_versioned, replace_versioned_at_end

from .domain.kinds import TaskKind
from .domain.preferences import Preferences
from .domain.tasks import Link, Origin, StatusChange, Task, TaskNotFound, TaskStatus

TASKS = "tasks"
TASK_HISTORY = "task_history"
PREFERENCES = "preferences"
PREFERENCES_HISTORY = "preferences_history"

NO_DUE = "9999-12-31"

INDEXES = [
    Indexes(
        TASKS,
        [
            # The tray: the caller's tasks by status / kind, in due order (the cursor follows it).
            IndexModel([("assignee_id", ASCENDING), ("status", ASCENDING), ("due_key", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("assignee_id", ASCENDING), ("kind", ASCENDING), ("status", ASCENDING), ("due_key", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("assignee_id", ASCENDING), ("due_key", ASCENDING), ("_id", ASCENDING)]),
            # The event that satisfies a task finds it by its key.
            IndexModel([("closes_on", ASCENDING), ("status", ASCENDING)], sparse=True),
            # The scheduler: open chased tasks whose next reminder is due.
            IndexModel([("status", ASCENDING), ("next_reminder_on", ASCENDING)]),
            # The digest: open tasks of a kind (incomplete audits).
            IndexModel([("kind", ASCENDING), ("status", ASCENDING)]),
            # The readings: open and overdue tasks (``notify.readings``).
            IndexModel([("status", ASCENDING), ("due_key", ASCENDING)]),
        ],
    ),
    Indexes(TASK_HISTORY, [IndexModel([("task_id", ASCENDING), ("version", ASCENDING), ("seq", ASCENDING)], unique=True)]),
]


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def to_document(task: Task) -> Document:
    return {
        "_id": task.id,
        "version": task.version,
        "assignee_id": task.assignee_id,
        "kind": task.kind.value,
        "subject": task.subject,
        "action": task.action,
        "due_on": _d(task.due_on),
        "due_key": _d(task.due_on) or NO_DUE,
        "assigned_by": task.assigned_by,
        "origin": task.origin.value,
        "link": {"service": task.link.service, "path": task.link.path},
        "created_at": task.created_at,
        "source_event_id": task.source_event_id,
        "source_event_type": task.source_event_type,
        "closes_on": task.closes_on,
        "status": task.status.value,
        "status_changed_at": task.status_changed_at,
        "status_changed_by": task.status_changed_by,
        "next_reminder_on": _d(task.next_reminder_on),
        "reminders_sent": task.reminders_sent,
        "last_reminded_on": _d(task.last_reminded_on),
        "context": task.context,
    }


def from_document(doc: Document, history: list[Document] | None = None) -> Task:
    return Task(
        id=doc["_id"],
        assignee_id=doc["assignee_id"],
        kind=TaskKind(doc["kind"]),
        subject=doc["subject"],
        action=doc["action"],
        due_on=_date(doc.get("due_on")),
        assigned_by=doc.get("assigned_by"),
        origin=Origin(doc["origin"]),
        link=Link(**doc["link"]),
        created_at=doc["created_at"],
        source_event_id=doc["source_event_id"],
        source_event_type=doc["source_event_type"],
        closes_on=doc.get("closes_on"),
        status=TaskStatus(doc["status"]),
        status_changed_at=doc.get("status_changed_at"),
        status_changed_by=doc.get("status_changed_by"),
        version=doc["version"],
        next_reminder_on=_date(doc.get("next_reminder_on")),
        reminders_sent=doc.get("reminders_sent", 0),
        last_reminded_on=_date(doc.get("last_reminded_on")),
        context=doc.get("context") or {},
        history=[_change(h) for h in history or []],
    )


def _change(doc: Document) -> StatusChange:
    return StatusChange(doc["version"], TaskStatus(doc["status"]), doc["at"], doc.get("by"), doc["reason"], doc.get("event_id"))


async def _append_history(db: AsyncDatabase[Document], tx: Transaction, *tasks: Task) -> None:
    """The tasks' new history entries, in one insert."""
    entries = [entry for task in tasks for entry in _new_history(task)]
    if entries:
        await db[TASK_HISTORY].insert_many(entries, session=tx.session)
    for task in tasks:
        task.new_history.clear()


def _leave_history(db: AsyncDatabase[Document], tx: Transaction, *tasks: Task) -> None:
    """``_append_history``, left for the end of ``tx``'s work."""
    for task in tasks:
        for entry in _new_history(task):
            tx.insert_at_end(db[TASK_HISTORY], entry)
        task.new_history.clear()


def _new_history(task: Task) -> list[Document]:
    base = len(task.history) - len(task.new_history)
    return [
        {"task_id": task.id, "seq": base + i, "version": h.version, "status": h.status.value, "at": h.at, "by": h.by,
         "reason": h.reason, "event_id": h.event_id}
        for i, h in enumerate(task.new_history)
    ]


async def existing_task_ids(db: AsyncDatabase[Document], tx: Transaction, task_ids: list[str]) -> set[str]:
    """Which of ``task_ids`` are stored, in one read."""
    if not task_ids:
        return set()
    docs = await db[TASKS].find({"_id": {"$in": sorted(set(task_ids))}}, {"_id": 1}, session=tx.session).to_list()
    return {doc["_id"] for doc in docs}


def insert_tasks(db: AsyncDatabase[Document], tx: Transaction, tasks: list[Task]) -> None:
    """``insert_task`` for several tasks, with their history, left for the end of ``tx``'s work
    (``Transaction.insert_at_end``): written in one command with the transaction's other writes."""
    for task in tasks:
        tx.insert_at_end(db[TASKS], to_document(task))
    _leave_history(db, tx, *tasks)


async def insert_task(db: AsyncDatabase[Document], tx: Transaction, task: Task) -> None:
    await db[TASKS].insert_one(to_document(task), session=tx.session)
    await _append_history(db, tx, task)


async def save_task(db: AsyncDatabase[Document], tx: Transaction, task: Task, *, expected_version: int) -> None:
    """Replace the task if it is still at ``expected_version``; else ``shared.versioned.Stale``."""
    await replace_versioned(db[TASKS], task.id, to_document(task), expected_version, what="task", session=tx.session)
    await _append_history(db, tx, task)


def save_tasks(db: AsyncDatabase[Document], tx: Transaction, changed: list[tuple[Task, int]]) -> None:
    """``save_task`` for several tasks (each with the version it was read at), with their history,
    left for the end of ``tx``'s work: if any has moved by then, the transaction fails with
    ``Stale`` and keeps nothing."""
    for task, expected in changed:
        replace_versioned_at_end(tx, db[TASKS], task.id, to_document(task), expected, what="task")
    _leave_history(db, tx, *(task for task, _ in changed))


async def load_task(db: AsyncDatabase[Document], task_id: str, *, tx: Transaction | None = None, with_history: bool = False) -> Task:
    session = tx.session if tx else None
    doc = await db[TASKS].find_one({"_id": task_id}, session=session)
    if doc is None:
        raise TaskNotFound(task_id)
    history = None
    if with_history:
        history = await db[TASK_HISTORY].find({"task_id": task_id}, session=session).sort([("seq", ASCENDING)]).to_list()
    return from_document(doc, history)


async def open_tasks_closed_by_any(db: AsyncDatabase[Document], tx: Transaction, keys: list[str]) -> dict[str, list[Task]]:
    """The open tasks each of ``keys`` closes, in one read: per key, its tasks (none: left out)."""
    docs = await db[TASKS].find({"closes_on": {"$in": sorted(set(keys))}, "status": TaskStatus.OPEN.value}, session=tx.session).to_list()
    found: dict[str, list[Task]] = {}
    for doc in docs:
        found.setdefault(doc["closes_on"], []).append(from_document(doc))
    return found


async def list_tasks(
    db: AsyncDatabase[Document],
    assignee_id: str,
    *,
    status: TaskStatus | None,
    kind: TaskKind | None,
    origin: Origin | None,
    due_on: str | None,
    due_before: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[Document]:
    """The caller's tasks in due order (those without a due date last), then by id."""
    query: dict[str, Any] = {"assignee_id": assignee_id}
    if kind is not None:
        query["kind"] = kind.value
    if status is not None:
        query["status"] = status.value
    if origin is not None:
        query["origin"] = origin.value
    # Equality and an exclusive upper bound only: SecantusDB 0.7.0b3 drops the keys equal to a
    # ``$lte`` bound on an index field that other fields follow (here ``_id``).
    if due_on is not None:
        query["due_key"] = due_on
    elif due_before is not None:
        query["due_key"] = {"$lt": due_before}
    if after is not None:
        due_key, task_id = after
        query["$or"] = [{"due_key": {"$gt": due_key}}, {"due_key": due_key, "_id": {"$gt": task_id}}]
    return await db[TASKS].find(query).sort([("due_key", ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list()


async def load_preferences(db: AsyncDatabase[Document], person_id: str, *, tx: Transaction | None = None) -> Preferences:
    doc = await db[PREFERENCES].find_one({"_id": person_id}, session=tx.session if tx else None)
    if doc is None:
        return Preferences(person_id)
    return Preferences(
        person_id,
        email_off={TaskKind(k) for k in doc.get("email_off", []) if k in TaskKind.__members__.values()},
        version=doc["version"],
        updated_at=doc.get("updated_at"),
        updated_by=doc.get("updated_by"),
    )


async def save_preferences(db: AsyncDatabase[Document], tx: Transaction, prefs: Preferences, *, expected_version: int) -> None:
    doc = {
        "_id": prefs.person_id,
        "version": prefs.version,
        "email_off": sorted(k.value for k in prefs.email_off),
        "updated_at": prefs.updated_at,
        "updated_by": prefs.updated_by,
    }
    if expected_version == 0:
        await insert_versioned(db[PREFERENCES], doc, what="preferences", session=tx.session)
    else:
        await replace_versioned(db[PREFERENCES], prefs.person_id, doc, expected_version, what="preferences", session=tx.session)
    await db[PREFERENCES_HISTORY].insert_one({**doc, "_id": f"{prefs.person_id}:{prefs.version}", "person_id": prefs.person_id}, session=tx.session)

