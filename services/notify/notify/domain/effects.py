"""What an incoming event asks of notify, as plain values: tasks to open (each perhaps with an
email to its assignee), tasks to close, and emails on their own.

The event mappings produce these from an event's data without touching anything; one use case
applies them in the consumer's transaction. So every mapping is a pure function, tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .kinds import TaskKind
from .tasks import Link, Origin, TaskStatus


@dataclass(frozen=True)
class EmailSpec:
    """An email to send: which template, with which facts (identifiers, no child names).

    Never a document: a document the producer keeps (an audit's PDF) is linked, at
    ``FRONTEND_BASE_URL`` + ``document_path`` (``document_url`` in the template), where the
    producer lets only the people entitled to it read it.
    """

    template: str
    context: dict[str, str] = field(default_factory=dict)
    #: The gateway path of a document the email links to (``/api/v1/<service>/...``).
    document_path: str | None = None


@dataclass(frozen=True)
class OpenTask:
    assignee_id: str
    kind: TaskKind
    subject: str
    action: str
    link: Link
    origin: Origin
    assigned_by: str | None = None
    due_on: date | None = None
    closes_on: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    #: The email to the assignee that goes with the task, if the event calls for one.
    email: EmailSpec | None = None


@dataclass(frozen=True)
class CloseTasks:
    """Close every open task waiting on ``key``: done when satisfied, cancelled when withdrawn."""

    key: str
    outcome: TaskStatus
    reason: str
    by: str | None = None


@dataclass(frozen=True)
class Effects:
    close: list[CloseTasks] = field(default_factory=list)
    open: list[OpenTask] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.close or self.open)
