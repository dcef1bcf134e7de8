"""From a package's domain events to its integration events, written once for every package of
audit: the service's event types, the leading facts of an event about one audit, and the one loop
that stages them in the transaction that wrote the change (the outbox; ``stage``, the platform's
``shared.event_translation.stage``). An integration event is built from the facts its domain event
carries by ``shared.event_translation.carried``.

A package keeps its own translator (which domain event publishes which integration event, about
which subject); this module holds only what every translator did the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.event_translation import stage as stage
from shared.events import EventData, EventType

#: The publisher of every event type audit declares.
SERVICE = "audit"

#: A package's translator: the integration event a domain event publishes, with its subject
#: (None: not published).
Translator = Callable[[Any], "tuple[EventType, EventData, str] | None"]


class AuditEvent(EventData):
    """The data of an event about one audit: its id, and its case's reference (the case id, or its
    code in a multi-agency audit), first."""

    audit_id: str
    case_ref: str


def event_type(name: str, model: type[EventData], summary: str) -> EventType:
    """One of audit's event types, at version 1."""
    return EventType(name, 1, model, summary, SERVICE)
