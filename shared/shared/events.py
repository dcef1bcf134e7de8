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

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema as cs

_NAME = re.compile(r"^[a-z]+(\.[a-z][a-z0-9-]*)+$")


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, with a correlation id extension."""

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    specversion: Literal["1.0"] = "1.0"
    """The CloudEvents specification version: always ``1.0``."""
    id: str = Field(min_length=1)
    """The event's unique id (a UUID). Delivery is at least once: a subscriber ignores an id it has already handled."""
    source: str = Field(min_length=1)
    """The publishing service, ``/qa/<publisher>``: the only source a consumer accepts for the type."""
    type: str = Field(min_length=1)
    """The event's versioned type, e.g. ``audit.audit.allocated.v1``; also its routing key."""
    subject: str | None = None
    """What the event is about inside its source, e.g. ``audit/<audit_id>``, ``exemplar/<exemplar_id>``, ``form/<form_id>``."""
    time: AwareDatetime
    """When it happened: an RFC 3339 timestamp in UTC."""
    datacontenttype: Literal["application/json"] = "application/json"
    """The media type of ``data``: always ``application/json``."""
    dataschema: str | None = None
    """The type's schema as a URN, ``urn:qa-platform:event:<type>``."""
    correlationid: str | None = None
    """Extension attribute: the id that ties this event to the request that caused it."""
    data: dict[str, Any]
    """The event's facts: identifiers, dates and grades, as the type's data schema describes."""

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)


#: What a field of an event's data means, by its name, for names that mean the same in every
#: event (the fallback of the JSON Schema when the field has no description of its own; a field's
#: own ``Field(description=...)`` or attribute docstring wins). Events carry identifiers only: a
#: ``*_id`` of a person is their id in the directory, never their name.
FIELD_GLOSSARY: dict[str, str] = {
    "audit_id": "The audit's id in the audit service.",
    "case_id": "The child's case id in the directory (an identifier only: the child's name never leaves the directory).",
    "case_ref": (
        "How the case is named: its directory case id, or, in a multi-agency audit, its code (e.g. MA-3F9A1C2E), "
        "the case id then never being published."
    ),
    "case_type": "The case's type code in the directory: CIN (child in need), CP (child protection) or CIC (child in care).",
    "team_id": "The team's id in the directory (see directory.team.changed).",
    "team_ids": "Ids of teams in the directory.",
    "month": "The calendar month it belongs to, as YYYY-MM.",
    "due_on": "The local date by which it is due (YYYY-MM-DD).",
    "exemplar_id": "The exemplar's id in the sign-off service.",
    "form_id": "The form's id (a resolution form in resolution.* events).",
    "review_id": "The review's id in the audit service.",
    "file_id": "The id of the Hampshire prepared file (one child's case file in a month's quality practice audit).",
    "tool_id": "The audit tool's id (the form the audit is answered on), e.g. kent-online-peer-review.",
    "tool_version": "The version of the audit tool the audit is answered on.",
    "programme": (
        "The audit programme: peer_review (Kent), quality_practice (Hampshire), single_agency (Hillingdon), themed or multi_agency."
    ),
    "type_code": "The exemplar type's code, e.g. INIASS (Initial Assessment).",
    "grade": "A grade on the Ofsted scale: outstanding, good, requires_improvement, inadequate or inadequate_critical.",
    "overall_grade": "The overall grade on the Ofsted scale (outstanding, good, requires_improvement, inadequate, inadequate_critical).",
    "moderated_grade": "The moderated overall grade on the Ofsted scale (outstanding, good, requires_improvement, inadequate, inadequate_critical).",
    "agreed_grade": "The grade agreed at the multi-agency meeting, on the Ofsted scale.",
    "grades": "How many audits had each grade, by grade (outstanding, good, requires_improvement, inadequate, inadequate_critical).",
    "stage": "The resolution stage: informal, stage-1 (team manager) to stage-4 (executive director), or stage-5 (CAFCASS).",
    "stage_title": "The stage's heading, e.g. 'Stage 1 (team manager)'.",
    "delegation_number": "Which delegation of the section this is (1 for the first; each re-delegation counts one more).",
    "auditor_id": "The auditor's person id in the directory.",
    "peer_reviewer_id": "The peer reviewer's person id (stage 2 of a peer-review audit); null when the audit has none.",
    "coordinator_id": "The person id of the multi-agency audit's coordinator; null otherwise.",
    "officer_id": "The person id of the practice development officer.",
    "service_manager_id": "The service manager's person id in the directory.",
    "assistant_director_id": "The assistant director's person id in the directory.",
    "team_manager_id": "The team manager's person id in the directory.",
    "social_worker_id": "The social worker's person id in the directory.",
    "allocated_worker_id": "The person id of the worker allocated to the case.",
    "line_manager_id": "The person id of the line manager.",
    "delegate_id": "The person id of the delegate.",
    "worker_id": "The person id of the case's worker, who prepared the file with their supervisor.",
    "supervisor_id": "The person id of the worker's supervisor.",
    "author_id": "The person id of the author.",
    "person_id": "A person's id in the directory.",
    "delegation_id": "The id of the service manager's delegation of the month's selection.",
    "pdf_path": "Where the PDF is read: a path of the audit service (through the gateway: ``/api/v1/audit`` + this path without ``/v1``).",
    "period": "The report's period: its month (YYYY-MM), or the first month of a bi-monthly themed period.",
    "version": "The version number of the record the event is about.",
    "start_date": "The exemplar's start date (the day timeliness is counted from).",
    "action_number": "The action's number in the team's improvement plan.",
    "reported_by": "The person who reported it (a directory person id).",
    "issued_by": "The person who issued it (a directory person id).",
    "note_type": "The note type as written on the child's record in the case-management system.",
}


def field_description(name: str) -> str | None:
    """The glossary's meaning of a data field's name: by the exact name, else ``<verb>_at`` /
    ``<verb>_by`` as when and by whom it happened; None when the glossary cannot say."""
    if name in FIELD_GLOSSARY:
        return FIELD_GLOSSARY[name]
    if name.endswith("_at"):
        return f"When it was {name.removesuffix('_at').replace('_', ' ')}: an RFC 3339 timestamp in UTC."
    if name.endswith("_by"):
        return f"The person who {name.removesuffix('_by').replace('_', ' ')} it (a directory person id)."
    return None


class EventData(BaseModel):
    """Base of every event's data model: strict about unknown fields when we publish.

    A field's meaning is its ``Field(description=...)`` or a docstring placed right after it
    (``use_attribute_docstrings``); a field without one is described by ``FIELD_GLOSSARY``. Only
    the JSON Schema carries descriptions: the data on the wire is the same either way."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(core_schema)
        target = handler.resolve_ref_schema(json_schema)
        for name, prop in target.get("properties", {}).items():
            if "description" not in prop and (meaning := field_description(name)) is not None:
                prop["description"] = meaning
        return json_schema


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
        traceparent: str | None = None,
    ) -> Envelope:
        if not isinstance(data, self.data_model):
            raise TypeError(f"{self.type} carries {self.data_model.__name__}, not {type(data).__name__}")
        if time.tzinfo is None:
            raise ValueError("event time must be timezone-aware")
        # The CloudEvents distributed-tracing extension: the span that recorded the event.
        extensions: dict[str, Any] = {"traceparent": traceparent} if traceparent else {}
        return Envelope(
            id=event_id or str(uuid.uuid4()),
            source=source,
            type=self.type,
            subject=subject,
            time=time.astimezone(UTC),
            dataschema=self.dataschema,
            correlationid=correlation_id,
            data=data.model_dump(mode="json"),
            **extensions,
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
