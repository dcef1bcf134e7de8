"""The task: one item in a person's work tray (seed 000's "My Home Page": subject, task, due,
assigned by, whether a person or the system sent it, assigned on).

A task is created from an event of another service, opens the item it links to, and ends done
(by its assignee, or by the event that satisfies it: a counter-signature closes the counter-sign
task), or cancelled. Every status change is kept with who and when; the version number is the
task's ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from .kinds import TaskKind, is_chased


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Origin(StrEnum):
    """Whether a person sent the task (the tray's "Post" column) or the system generated it."""

    PERSON = "person"
    SYSTEM = "system"


@dataclass(frozen=True)
class Link:
    """The item a task opens: the owning service and the resource path within it."""

    service: str
    path: str


@dataclass(frozen=True)
class StatusChange:
    """One entry of a task's history."""

    version: int
    status: TaskStatus
    at: datetime
    #: The person who made the change, or None when an event or the scheduler made it.
    by: str | None
    #: Why: "created", "marked done", "counter-signed", "reminder 2 sent", ...
    reason: str
    #: The event that caused it, where one did.
    event_id: str | None = None


class TaskNotFound(Exception):
    """No such task in the caller's tray (also what a task of someone else's tray looks like)."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(f"There is no task {task_id!r} in your work tray.")


class TaskClosed(Exception):
    """A change that needs an open task, on a task already done or cancelled."""

    def __init__(self, task_id: str, status: TaskStatus) -> None:
        self.task_id = task_id
        self.status = status
        super().__init__(f"Task {task_id!r} is already {status.value}; only an open task can be marked done or cancelled.")


def task_id_for(event_id: str, assignee_id: str, kind: TaskKind) -> str:
    """The id of the task an event creates for a person: the same event replayed can only ever
    produce the same id, so it can never create the task twice."""
    return hashlib.sha256(f"{event_id}\x1f{assignee_id}\x1f{kind.value}".encode()).hexdigest()[:32]


@dataclass
class Task:
    id: str
    assignee_id: str
    kind: TaskKind
    subject: str
    action: str
    due_on: date | None
    assigned_by: str | None
    origin: Origin
    link: Link
    created_at: datetime
    source_event_id: str
    source_event_type: str
    #: The key of the event that satisfies this task and closes it.
    closes_on: str | None = None
    status: TaskStatus = TaskStatus.OPEN
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    version: int = 1
    #: Reminders: when the next falls due, how many went, the last one's date.
    next_reminder_on: date | None = None
    reminders_sent: int = 0
    last_reminded_on: date | None = None
    #: Facts about the item the task is about (identifiers only), e.g. the audit month.
    context: dict[str, str] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)
    #: History entries added since the task was loaded; the store appends them.
    new_history: list[StatusChange] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        *,
        event_id: str,
        event_type: str,
        assignee_id: str,
        kind: TaskKind,
        subject: str,
        action: str,
        due_on: date | None,
        assigned_by: str | None,
        origin: Origin,
        link: Link,
        at: datetime,
        closes_on: str | None = None,
        first_reminder_on: date | None = None,
        context: dict[str, str] | None = None,
    ) -> Task:
        task = cls(
            id=task_id_for(event_id, assignee_id, kind),
            assignee_id=assignee_id,
            kind=kind,
            subject=subject,
            action=action,
            due_on=due_on,
            assigned_by=assigned_by,
            origin=origin,
            link=link,
            created_at=at,
            source_event_id=event_id,
            source_event_type=event_type,
            closes_on=closes_on,
            status_changed_at=at,
            status_changed_by=assigned_by,
            next_reminder_on=first_reminder_on if is_chased(kind) else None,
            context=dict(context or {}),
        )
        task._record(TaskStatus.OPEN, at=at, by=assigned_by, reason="created", event_id=event_id, bump=False)
        return task

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.OPEN

    def ensure_assignee(self, person_id: str) -> None:
        if person_id != self.assignee_id:
            raise TaskNotFound(self.id)

    def mark_done(self, *, by: str, at: datetime, note: str | None = None) -> None:
        self._require_open()
        self._change(TaskStatus.DONE, at=at, by=by, reason=note or "marked done")

    def cancel(self, *, by: str, at: datetime, reason: str | None = None) -> None:
        self._require_open()
        self._change(TaskStatus.CANCELLED, at=at, by=by, reason=reason or "cancelled")

    def close_by_event(self, *, outcome: TaskStatus, reason: str, by: str | None, at: datetime, event_id: str) -> bool:
        """The event that satisfies (or withdraws) this task arrived. A task already closed
        stays as it is: returns whether anything changed."""
        if not self.is_open:
            return False
        if outcome is TaskStatus.OPEN:
            raise ValueError("an event closes a task as done or cancelled")
        self._change(outcome, at=at, by=by, reason=reason, event_id=event_id)
        return True

    def remind(self, *, on: date, number: int, next_on: date, at: datetime) -> None:
        """A reminder for ``on`` was sent; the next one falls due ``next_on``."""
        self._require_open()
        self.reminders_sent = number
        self.last_reminded_on = on
        self.next_reminder_on = next_on
        self._record(self.status, at=at, by=None, reason=f"reminder {number} sent")

    def _require_open(self) -> None:
        if not self.is_open:
            raise TaskClosed(self.id, self.status)

    def _change(self, status: TaskStatus, *, at: datetime, by: str | None, reason: str, event_id: str | None = None) -> None:
        self.status = status
        self.status_changed_at = at
        self.status_changed_by = by
        self.next_reminder_on = None
        self._record(status, at=at, by=by, reason=reason, event_id=event_id)

    def _record(self, status: TaskStatus, *, at: datetime, by: str | None, reason: str, event_id: str | None = None, bump: bool = True) -> None:
        if bump:
            self.version += 1
        entry = StatusChange(self.version, status, at, by, reason, event_id)
        self.history.append(entry)
        self.new_history.append(entry)
