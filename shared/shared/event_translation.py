"""From a service's domain events to its integration events, by a table instead of a constructor
call written out per event.

An integration event mostly carries the facts its domain event holds under the same names; what
differs is said once per event in a ``Publishes`` row: the event type, the facts the domain names
differently (``{"by": "delegated_by", "at": "delegated_at"}``: the domain's ``by`` is published as
``delegated_by``) and those derived from it (``{"stage_title": lambda e: e.stage.title}``). Enum
members are published as their values by the data model itself (a ``str`` field takes a
``StrEnum``). Which domain event publishes which row is the service's ``Translations`` table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from .events import EventData, EventType

M = TypeVar("M", bound=BaseModel)


def carried(model: type[M], *sources: object, **facts: Any) -> M:
    """``model`` built from ``facts`` (what the domain event names differently, ``planned_at=e.at``,
    or what is derived) and, for its other fields, the value of the same name on the first of
    ``sources`` that has one (the domain event, the record it is about)."""
    same = {}
    for name in model.model_fields:
        if name not in facts:
            source = next((s for s in sources if hasattr(s, name)), None)
            if source is not None:
                same[name] = getattr(source, name)
    return model(**same, **facts)


@dataclass(frozen=True)
class Publishes:
    """A domain event is published as ``event_type``: its data carries the domain event's facts of
    the same names, those in ``renamed`` (domain name → published name) under their published names,
    and the ``derived`` ones (published name → how it is worked out from the domain event)."""

    event_type: EventType
    renamed: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)

    def data(self, event: object) -> EventData:
        facts = {published: getattr(event, name) for name, published in self.renamed.items()}
        facts |= {published: work_out(event) for published, work_out in self.derived.items()}
        return cast(EventData, carried(self.event_type.data_model, event, **facts))


class Translations:
    """Which integration event each domain event class publishes (classes not in the table are kept
    inside the service)."""

    def __init__(self, table: Mapping[type, Publishes]) -> None:
        self._table = dict(table)

    def __call__(self, event: object) -> tuple[EventType, EventData] | None:
        row = self._table.get(type(event))
        return None if row is None else (row.event_type, row.data(event))
