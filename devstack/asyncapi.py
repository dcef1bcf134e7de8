"""The AsyncAPI 3.0 document of every event the platform publishes, built from each service's
``<service>.events.EVENTS`` registry and the pydantic models behind it.

``python -m devstack.asyncapi > docs/asyncapi.json`` writes it, and also writes the copy the
gateway serves (``services/gateway/gateway/static/asyncapi.json``, inside the gateway package so
its image has it). Tests keep both copies current.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.events import Envelope, EventRegistry, EventType

from . import asyncapi_examples as examples

PUBLISHERS = ("gateway", "signoff", "resolution", "audit", "notify")
REF = "#/components/schemas/{model}"
#: The copy the gateway serves at ``/api/asyncapi.json`` and renders at ``/docs/events``.
GATEWAY_COPY = Path(__file__).resolve().parents[1] / "services" / "gateway" / "gateway" / "static" / "asyncapi.json"


def registries() -> dict[str, EventRegistry]:
    found = {}
    for service in PUBLISHERS:
        try:
            module = importlib.import_module(f"{service}.events")
        except ModuleNotFoundError as exc:
            if exc.name == f"{service}.events":
                continue
            raise
        found[service] = module.EVENTS
    return found


def _hoist(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    """Move a schema's ``$defs`` (its nested models, named by their class) into the components."""
    for name, definition in schema.pop("$defs", {}).items():
        if name in into and into[name] != definition:
            raise ValueError(f"two different nested models are both called {name}: rename one")
        into[name] = definition
    return schema


def payload_name(event_type: EventType) -> str:
    """The component name of a type's payload (envelope and data): its routing key in PascalCase,
    with a word repeated next to itself said once (``audit.audit.allocated.v1`` -> ``AuditAllocatedV1``)."""
    words: list[str] = []
    for part in event_type.routing_key.replace("-", ".").split("."):
        word = part[:1].upper() + part[1:]
        if not words or words[-1] != word:
            words.append(word)
    return "".join(words)


def _wire(prop: dict[str, Any]) -> dict[str, Any]:
    """An envelope attribute as it is on the wire: ``None`` is left out (``Envelope.to_json``), never null."""
    options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return prop


def _envelope() -> dict[str, Any]:
    schema = Envelope.model_json_schema(ref_template=REF)
    schema["properties"] = {name: _wire(prop) for name, prop in schema["properties"].items()}
    schema["title"] = "CloudEventEnvelope"
    return schema


def _payload(service: str, event_type: EventType, envelope: dict[str, Any], data_name: str) -> dict[str, Any]:
    """A type's whole message (envelope and data) as one named object schema: the envelope's
    attributes with this type's fixed values, and ``data`` as the type's data schema."""
    properties = {name: dict(prop) for name, prop in envelope["properties"].items()}
    for name, value in (("type", event_type.type), ("source", f"/qa/{service}"), ("dataschema", event_type.dataschema)):
        properties[name] = {"type": "string", "const": value, "description": properties[name]["description"]}
    properties["data"] = {"$ref": f"#/components/schemas/{data_name}"}
    return {
        "type": "object",
        "title": payload_name(event_type),
        "description": f"{event_type.type}: {event_type.summary} A CloudEvents 1.0 envelope with the event's data.",
        "required": sorted({*envelope["required"], "source", "type", "dataschema", "data"}, key=list(properties).index),
        "properties": properties,
        "additionalProperties": envelope.get("additionalProperties", True),
    }


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    envelope = _envelope()
    schemas["CloudEventEnvelope"] = _hoist(copy.deepcopy(envelope), schemas)
    for service, registry in registries().items():
        for event_type in registry:
            key = event_type.routing_key
            exchange = "platform" if event_type.internal else "events"
            name = payload_name(event_type)
            data_name = f"{name}Data"
            if name in schemas or data_name in schemas:
                raise ValueError(f"{key}: its payload's name {name} is taken")
            data_schema = _hoist(event_type.data_model.model_json_schema(ref_template=REF), schemas)
            data_schema["title"] = data_name
            data_schema["description"] = f"The data of {key} ({event_type.data_model.__name__}): {event_type.summary}"
            schemas[data_name] = data_schema
            schemas[name] = _payload(service, event_type, envelope, data_name)
            sample = examples.example(event_type)
            messages[key] = {
                "name": name,
                "title": key,
                "summary": event_type.summary,
                "contentType": "application/cloudevents+json",
                "correlationId": {"description": "The request that caused the event", "location": "$message.payload#/correlationid"},
                "payload": {"$ref": f"#/components/schemas/{name}"},
                "examples": [{"name": f"{name}Example", "summary": f"An example of {key} as published", "payload": sample}],
                "bindings": {"amqp": {"messageType": key, "bindingVersion": "0.3.0"}},
                # Read by the gateway to know which types exist, who may publish them, and which
                # may be granted to an integrator (only those on the integrator-visible exchange).
                "x-qa-publisher": service,
                "x-qa-exchange": exchange,
                "x-qa-grantable": not event_type.internal,
            }
            channels[key] = {
                "address": key,
                "title": key,
                "description": (
                    f"Routing key {key} on the platform-internal exchange `<QA_NAMESPACE>.platform`: only the "
                    f"platform's own services may read it; it cannot be granted to an integrator. Published by the {service} service."
                    if event_type.internal
                    else f"Routing key {key} on the events exchange `<QA_NAMESPACE>.events`. Published by the {service} service; "
                    "an integrator granted this type receives it."
                ),
                "messages": {key: {"$ref": f"#/components/messages/{key}"}},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {"name": f"<QA_NAMESPACE>.{exchange}", "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                        "bindingVersion": "0.3.0",
                    }
                },
            }
            operations[f"{service}.publishes.{key}"] = {
                "action": "send",
                "title": f"{service} publishes {key}",
                "summary": event_type.summary,
                "channel": {"$ref": f"#/channels/{key}"},
                "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
                # Persistent messages (AMQP delivery mode 2): an operation binding in AsyncAPI 3.
                "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.3.0"}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "QA platform events",
            "version": "1.0.0",
            "description": (
                "Every event the children's social care QA platform publishes. Each is a CloudEvents 1.0 "
                "JSON envelope (structured mode) with the event's versioned type as routing key, on one of two "
                "durable topic exchanges: `<QA_NAMESPACE>.events` (`qa.events`), which integrators may be granted "
                "types of (`x-qa-grantable: true`), and `<QA_NAMESPACE>.platform`, which only the platform's own "
                "services read (staff contact details, text written to a person, internal work items). Messages "
                "are persistent and published from a transactional outbox with publisher confirms: at least once, "
                "so subscribers must ignore an event id they have already handled. Events carry identifiers and "
                "facts, never a document and never a child's name (Caldecott principle 3). Each type has one "
                "publisher (`x-qa-publisher`, the envelope's `source` is `/qa/<publisher>`); the broker refuses "
                "any other publisher, and the platform's consumers dead-letter an event with another source.\n\n"
                "Integrators never publish. An administrator grants one access through the gateway's API: "
                "`POST /api/v1/integrations/amqp-integrators` (a read-only broker login and a queue bound to exactly "
                "the granted types) or `POST /api/v1/integrations/webhooks` (signed HTTPS deliveries, Standard "
                "Webhooks). See the README, 'Integrator access'."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1", "description": "The platform's RabbitMQ"}
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "messages": dict(sorted(messages.items()))},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False, default=str) + "\n"


def write_gateway_copy(text: str | None = None) -> Path:
    """Write the document into the gateway package, where the gateway serves it from."""
    GATEWAY_COPY.parent.mkdir(parents=True, exist_ok=True)
    GATEWAY_COPY.write_text(text if text is not None else render())
    return GATEWAY_COPY


if __name__ == "__main__":
    rendered = render()
    write_gateway_copy(rendered)
    sys.stdout.write(rendered)
