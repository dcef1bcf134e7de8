"""The platform's event types as the gateway knows them: from the AsyncAPI document it serves
(``gateway/static/asyncapi.json``, generated from every service's registry and kept current by
tests), so the gateway needs none of the other services' code to grant or forward their events."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from shared.events import EventType

from .domain import KnownType

DOCUMENT = Path(__file__).resolve().parents[1] / "static" / "asyncapi.json"


class ForwardedData(BaseModel):
    """An event's data as published: forwarded to webhooks unchanged, never interpreted here."""

    model_config = ConfigDict(extra="allow", frozen=True)


@cache
def known_types() -> dict[str, KnownType]:
    messages = json.loads(DOCUMENT.read_text())["components"]["messages"]
    return {
        key: KnownType(type=key, publisher=m["x-qa-publisher"], grantable=bool(m["x-qa-grantable"]), summary=m.get("summary", ""))
        for key, m in messages.items()
    }


def grantable() -> list[KnownType]:
    return [t for t in known_types().values() if t.grantable]


def event_type(known: KnownType) -> EventType:
    """A consumable ``EventType`` for a catalogue entry: the consumer still checks its publisher."""
    name, _, version = known.type.rpartition(".v")
    return EventType(name, int(version), ForwardedData, known.summary, known.publisher)
