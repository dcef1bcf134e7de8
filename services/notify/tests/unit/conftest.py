"""What the mapping tests share: an event of a type run through notify's table (``all_mappings``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notify.domain.effects import Effects
from notify.mappings import all_mappings
from shared.consumer import ReceivedEvent
from shared.events import EventType


class People:
    """notify's directory as a mapping sees it: the line managers given, nobody else's."""

    def __init__(self, managers: dict[str, str] | None = None) -> None:
        self.managers = managers or {}

    async def line_manager_of(self, person_id: str) -> str | None:
        return self.managers.get(person_id)


async def effects_of(event_type: EventType, data: dict[str, Any], *, at: datetime, source: str, people: People | None = None) -> Effects:
    """What the mapping of ``event_type`` makes of an event carrying ``data`` (sent by ``source`` at ``at``)."""
    envelope = event_type.envelope(event_type.data_model.model_validate(data), source=source, subject=None, time=at)
    mapping = next(m for m in all_mappings() if m.event_type.routing_key == event_type.routing_key)
    return await mapping.translate(ReceivedEvent(envelope, event_type.parse_data(envelope)), people or People())
