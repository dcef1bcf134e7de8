"""The table from event type to what notify does with it.

Each producer's module (``signoff``, ``resolution``, ``audit``) declares notify's own tolerant
reader models of the events it reads (never the producer's package) and a function per event
type from the event to its ``Effects`` (pure, except that it may ask who someone's line manager
is). ``MAPPINGS`` gathers them; one consumer (purpose
``work-tray``) subscribes to every type in it and applies the effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

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


def all_mappings() -> list[Mapping]:
    from . import audit, qa_framework, resolution, signoff

    return [*signoff.MAPPINGS, *resolution.MAPPINGS, *audit.MAPPINGS, *qa_framework.MAPPINGS]
