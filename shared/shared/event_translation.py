"""From a service's domain events to its integration events, by a table instead of a constructor
call written out per event.

An integration event mostly carries the facts its domain event holds under the same names; what
differs is said once per event in a ``Publishes`` row: the event type, the facts the domain names
differently (``{"by": "delegated_by", "at": "delegated_at"}``: the domain's ``by`` is published as
``delegated_by``) and those derived from it (``{"stage_title": lambda e: e.stage.title}``). Enum
members are published as their values by the data model itself (a ``str`` field takes a
``StrEnum``). Which domain event publishes which row is the service's ``Translations`` table.

``stage`` is the one loop that turns what an aggregate recorded into its integration events and
stages them, in order, in the transaction that writes the change (the outbox)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel

from .events import EventData, EventType

M = TypeVar("M", bound=BaseModel)

#: What a translator gives for one domain event: the integration event's type and data, with its
#: subject or without it (then ``stage``'s ``subject`` names it); None: not published.
Staged = tuple[EventType, EventData] | tuple[EventType, EventData, str]


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


class Records(Protocol):
    """Where integration events are staged: ``shared.mongo.Transaction``."""

    def record(self, event_type: EventType, data: Any, *, subject: str | None) -> None: ...


def stage(
    tx: Records,
    translate: Callable[[Any], Staged | None],
    happened: Iterable[Any],
    *,
    subject: str | Callable[[Any], str] | None = None,
) -> None:
    """Stage in ``tx``, in order, the integration event ``translate`` gives for each domain event
    that ``happened``. Its subject is the one the translation gives, else ``subject`` (the same for
    every event, or worked out from the domain event). A domain event without a translation is not
    published (a translator that means to publish every one raises instead)."""
    for event in happened:
        staged = translate(event)
        if staged is None:
            continue
        event_type, data, *named = staged
        about = named[0] if named else (subject(event) if callable(subject) else subject)
        tx.record(event_type, data, subject=about)
