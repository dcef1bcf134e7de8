"""What every mapping is: an event type and the function from one event to notify's effects.

Each producer's module declares its table, ``MAPPINGS``: one row per event type. An event that only
says some work is done is a ``closes`` row (which tasks it closes, why, and who did it); an event
that gives someone work is a ``Mapping`` of a function building the task with ``task`` and
``context``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from shared.consumer import ReceivedEvent
from shared.events import EventType

from ..domain.effects import CloseTasks, Effects, EmailSpec, OpenTask
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, Origin, TaskStatus


class People(Protocol):
    """What a mapping may ask of notify's copy of the directory."""

    async def line_manager_of(self, person_id: str) -> str | None: ...


Translate = Callable[[ReceivedEvent, People], Awaitable[Effects]]


@dataclass(frozen=True)
class Mapping:
    event_type: EventType
    translate: Translate


def pure(fn: Callable[[ReceivedEvent], Effects]) -> Translate:
    """A mapping that needs nothing but the event."""

    async def translate(event: ReceivedEvent, people: People) -> Effects:
        return fn(event)

    translate.__name__ = fn.__name__
    return translate


def closes(
    event_type: EventType, key: Callable[[Any], str], reason: str, *, by: str | None = None, outcome: TaskStatus = TaskStatus.DONE
) -> Mapping:
    """A row for an event that closes every open task waiting on ``key(data)`` (done, or
    ``outcome``) for ``reason``; ``by`` names the event's field holding who did it."""

    def translate(event: ReceivedEvent) -> Effects:
        return Effects(close=[CloseTasks(key(event.data), outcome, reason, getattr(event.data, by) if by else None)])

    translate.__name__ = f"closes_{event_type.name}"
    return Mapping(event_type, pure(translate))


#: The email that goes with most tasks: the "task" template, telling the assignee what to do.
TASK_EMAIL = EmailSpec("task")


def task(
    assignee_id: str,
    kind: TaskKind,
    *,
    subject: str,
    action: str,
    link: Link,
    assigned_by: str | None = None,
    origin: Origin | None = None,
    due_on: date | None = None,
    closes_on: str | None = None,
    context: dict[str, str] | None = None,
    email: EmailSpec | None = TASK_EMAIL,
) -> OpenTask:
    """A task to open, sent by the person ``assigned_by`` names, else by the system (unless
    ``origin`` says), with the "task" email unless ``email`` says otherwise."""
    return OpenTask(
        assignee_id=assignee_id, kind=kind, subject=subject, action=action, link=link,
        origin=origin or (Origin.PERSON if assigned_by else Origin.SYSTEM), assigned_by=assigned_by,
        due_on=due_on, closes_on=closes_on, context=context or {}, email=email,
    )


def context(data: BaseModel, *fields: str, **more: str | None) -> dict[str, str]:
    """A task's context: the event's ``fields`` as text (a date as ISO), an optional one left out
    when not set (absent or empty), then ``more`` (those that are None left out)."""
    declared = type(data).model_fields
    values = {name: getattr(data, name) for name in fields}
    texts = {
        name: value.isoformat() if isinstance(value, date) else str(value)
        for name, value in values.items()
        if declared[name].is_required() or value not in (None, "")
    }
    return {**texts, **{name: value for name, value in more.items() if value is not None}}


class Reader(BaseModel):
    """notify's reader model of a producer's event: the fields it uses; any others are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def event_of(publisher: str, name: str, model: type[BaseModel], summary: str, *, internal: bool = False) -> EventType:
    """Version 1 of ``publisher``'s event ``name``, read with ``model``."""
    return EventType(name, 1, model, summary, publisher, internal=internal)


def audit_event(name: str, model: type[BaseModel], summary: str) -> EventType:
    """Version 1 of an audit-service event, read with ``model``."""
    return event_of("audit", name, model, summary)
