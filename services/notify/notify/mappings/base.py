"""What every mapping is: an event type and the function from one event to notify's effects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict
from shared.consumer import ReceivedEvent
from shared.events import EventType

from ..domain.effects import Effects


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


class Reader(BaseModel):
    """notify's reader model of a producer's event: the fields it uses; any others are ignored."""

    model_config = ConfigDict(extra="ignore")


def audit_event(name: str, model: type[BaseModel], summary: str) -> EventType:
    """Version 1 of an audit-service event, read with ``model``."""
    return EventType(name, 1, model, summary, "audit")
