"""The event envelope (CloudEvents 1.0, structured JSON) and the registry of event types.

An event type is a name (``signoff.exemplar.counter-signed``) and a version; its routing key on
the one topic exchange is ``<name>.v<version>`` and its CloudEvents ``type`` is the same string,
so an integrator binds a queue with exactly the type they read in the AsyncAPI document.
Changing what a field means is a new version, never an edit of the old one.

Events carry identifiers and facts, not copies of records (Caldecott principle 3): the data
model of each type is a pydantic model, and its JSON Schema is exported from that model.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

_NAME = re.compile(r"^[a-z]+(\.[a-z][a-z0-9-]*)+$")


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, with a correlation id extension."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str | None = None
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    #: Extension attribute: the id that ties this event to the request that caused it.
    correlationid: str | None = None
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)


class EventData(BaseModel):
    """Base of every event's data model: strict about unknown fields when we publish."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EventType:
    """One versioned event type: its name, version, data model and what it means."""

    name: str
    version: int
    data_model: type[BaseModel]
    summary: str
    #: The publishing service: the only ``source`` (``/qa/<publisher>``) a consumer accepts for it.
    publisher: str
    #: Platform-internal: travels on ``<ns>.platform``, which only the services' own broker users
    #: may read, never on the integrator-visible ``<ns>.events`` (it carries what only the
    #: platform's services need to see: staff contact details, free text written to a person,
    #: internal work items). Such a type can never be granted to an integrator.
    internal: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"event name {self.name!r} must be dotted lower-case words")
        if self.version < 1:
            raise ValueError("event versions start at 1")

    @property
    def routing_key(self) -> str:
        return f"{self.name}.v{self.version}"

    @property
    def type(self) -> str:
        return self.routing_key

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of this type's only legitimate publisher."""
        return f"/qa/{self.publisher}"

    @property
    def dataschema(self) -> str:
        return f"urn:qa-platform:event:{self.routing_key}"

    def json_schema(self) -> dict[str, Any]:
        schema = self.data_model.model_json_schema()
        schema.setdefault("title", self.data_model.__name__)
        schema["$id"] = self.dataschema
        return schema

    def envelope(
        self,
        data: BaseModel,
        *,
        source: str,
        subject: str | None,
        time: datetime,
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        if not isinstance(data, self.data_model):
            raise TypeError(f"{self.type} carries {self.data_model.__name__}, not {type(data).__name__}")
        if time.tzinfo is None:
            raise ValueError("event time must be timezone-aware")
        return Envelope(
            id=event_id or str(uuid.uuid4()),
            source=source,
            type=self.type,
            subject=subject,
            time=time.astimezone(UTC),
            dataschema=self.dataschema,
            correlationid=correlation_id,
            data=data.model_dump(mode="json"),
        )

    def parse_data(self, envelope: Envelope) -> BaseModel:
        """The envelope's data as this type's model; raises ``UnreadableEvent`` if it is not."""
        try:
            return self.data_model.model_validate(envelope.data)
        except ValidationError as exc:
            raise UnreadableEvent(f"data of {envelope.type} {envelope.id} is invalid: {exc}") from exc


class UnreadableEvent(Exception):
    """A message that can never be handled: not an envelope, an unknown type, or invalid data."""


class EventRegistry:
    """The event types known to one process, by routing key."""

    def __init__(self, types: Iterable[EventType] = ()) -> None:
        self._types: dict[str, EventType] = {}
        for event_type in types:
            self.register(event_type)

    def register(self, event_type: EventType) -> EventType:
        existing = self._types.get(event_type.routing_key)
        if existing is not None and existing != event_type:
            raise ValueError(f"event type {event_type.routing_key} is already registered differently")
        self._types[event_type.routing_key] = event_type
        return event_type

    def get(self, routing_key: str) -> EventType:
        try:
            return self._types[routing_key]
        except KeyError:
            raise UnreadableEvent(f"unknown event type {routing_key!r}") from None

    def __contains__(self, routing_key: object) -> bool:
        return routing_key in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter(sorted(self._types.values(), key=lambda t: t.routing_key))

    def __len__(self) -> int:
        return len(self._types)

    def merged(self, other: EventRegistry) -> EventRegistry:
        return EventRegistry([*self, *other])


def parse_envelope(raw: bytes) -> Envelope:
    """Parse a message body as a CloudEvents envelope, or raise ``UnreadableEvent``."""
    try:
        return Envelope.from_json(raw)
    except (ValidationError, ValueError) as exc:
        raise UnreadableEvent(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc
