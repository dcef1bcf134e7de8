"""The AsyncAPI document integrators read is the one the code defines."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import asyncapi

DOC = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"
REF = "#/components/schemas/"


def data_name(document: dict[str, Any], key: str) -> str:
    """The component name of an event type's data schema: its payload's ``data`` refers to it."""
    schemas = document["components"]["schemas"]
    payload = schemas[document["components"]["messages"][key]["payload"]["$ref"].removeprefix(REF)]
    return str(payload["properties"]["data"]["$ref"].removeprefix(REF))


def test_the_committed_asyncapi_document_is_current() -> None:
    assert DOC.read_text() == asyncapi.render(), "regenerate: python -m devstack.asyncapi > docs/asyncapi.json"


def test_every_published_event_type_has_a_channel_message_and_data_schema() -> None:
    document = json.loads(DOC.read_text())
    published = [t for registry in asyncapi.registries().values() for t in registry]
    assert published, "no service publishes anything?"
    for event_type in published:
        key = event_type.routing_key
        assert document["channels"][key]["address"] == key
        message = document["components"]["messages"][key]
        payload = document["components"]["schemas"][message["payload"]["$ref"].removeprefix(REF)]
        assert payload["properties"]["type"]["const"] == event_type.type
        assert payload["properties"]["source"]["const"] == event_type.source
        data_schema = document["components"]["schemas"][data_name(document, key)]
        assert set(data_schema["required"]) == {n for n, f in event_type.data_model.model_fields.items() if f.is_required()}


def test_no_event_carries_a_childs_name_or_date_of_birth() -> None:
    """Caldecott principle 3: events carry identifiers, not personal details of children."""
    text = DOC.read_text()
    assert "child_name" not in text and "date_of_birth" not in text


# --- What an event's schema may carry --------------------------------------------------------------

#: A field that can hold a document (or part of one).
DOCUMENT_FIELD = re.compile(r"(^|_)(base64|blob|bytes|attachment|attachments|body|content|document|file_data|pdf|pdf_data)$")
#: A field that can hold who a child is, or where they live.
CHILD_IDENTITY_FIELD = re.compile(
    r"(^|_)(child_name|first_name|last_name|surname|forename|forenames|full_name|date_of_birth|dob|birth_date|address|postcode|"
    r"nhs_number|upn|ethnicity|gender)$"
)
#: A field that can hold a person's name or contact details: only on platform-internal types.
PERSONAL_FIELD = re.compile(r"(^|_)(name|email|phone|telephone|mobile)$")
#: Reviewed exceptions: (event type, field) with why it is not a person's name.
NOT_A_PERSON = {("directory.team.changed.v1", "name"): "a team's name"}
#: Fields that may hold a multi-agency audit's code (``case_ref``), and those that identify the child.
CODE_FIELDS = {"case_ref", "case_code"}
CHILD_FIELDS = {"case_id", "child_id", "case_ids", "sibling_case_ids", "index_case_id"}


def _properties(schema: dict[str, Any], schemas: dict[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of a schema, followed through $ref, arrays and unions."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _properties(schemas[name], schemas, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _properties(option, schemas, seen)
    if "items" in schema and isinstance(schema["items"], dict):
        yield from _properties(schema["items"], schemas, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _properties(schema["additionalProperties"], schemas, seen)
    for name, prop in schema.get("properties", {}).items():
        yield name, prop
        yield from _properties(prop, schemas, seen)


def catalogue_problems(document: dict[str, Any]) -> list[str]:
    """What in the event catalogue could carry a document, a child's identity, a person's name on
    the integrator-visible exchange, or a multi-agency code beside the child's case."""
    schemas = document["components"]["schemas"]
    problems = []
    for key, message in document["components"]["messages"].items():
        internal = message["x-qa-exchange"] == "platform"
        if message["x-qa-grantable"] == internal:
            problems.append(f"{key}: grantable must mean on the integrator-visible exchange")
        data = schemas[data_name(document, key)]
        names = set()
        for name, prop in _properties(data, schemas):
            names.add(name)
            if DOCUMENT_FIELD.search(name) or {"contentEncoding", "contentMediaType"} & set(prop) or prop.get("format") == "binary":
                problems.append(f"{key}: {name} can carry a document")
            if CHILD_IDENTITY_FIELD.search(name):
                problems.append(f"{key}: {name} can carry a child's identity")
            if PERSONAL_FIELD.search(name) and not internal and (key, name) not in NOT_A_PERSON:
                problems.append(f"{key}: {name} can carry a person's name or contact details on the integrator-visible exchange")
        if names & CODE_FIELDS and names & CHILD_FIELDS:
            problems.append(f"{key}: {sorted(names & CODE_FIELDS)} beside {sorted(names & CHILD_FIELDS)} joins a multi-agency code to the child")
    return problems


def test_no_event_schema_can_carry_a_document_a_childs_identity_or_a_code_beside_the_child() -> None:
    assert catalogue_problems(json.loads(DOC.read_text())) == []


def test_the_catalogue_check_catches_each_kind_of_field_it_forbids() -> None:
    """The check above would fail if a schema gained such a field (it is not a check that cannot fail)."""
    document = json.loads(DOC.read_text())
    key = "audit.audit.completed.v1"
    name = data_name(document, key)
    data = document["components"]["schemas"][name]
    for field, expected in [
        ("pdf_base64", "can carry a document"),
        ("child_name", "a child's identity"),
        ("date_of_birth", "a child's identity"),
        ("home_address", "a child's identity"),
        ("worker_email", "a person's name"),
        ("case_id", "joins a multi-agency code"),
    ]:
        changed = copy.deepcopy(document)
        changed["components"]["schemas"][name] = {**data, "properties": {**data["properties"], field: {"type": "string"}}}
        found = catalogue_problems(changed)
        assert any(expected in p and key in p for p in found), (field, found)
    changed = copy.deepcopy(document)
    changed["components"]["schemas"][name]["properties"]["grade"] = {"type": "string", "contentEncoding": "base64"}
    assert any("can carry a document" in p for p in catalogue_problems(changed))


def test_the_readmes_event_table_lists_every_event_as_the_code_defines_it() -> None:
    from devstack import eventtable

    readme = (DOC.parents[1] / "README.md").read_text()
    start, end = readme.index(eventtable.BEGIN), readme.index(eventtable.END) + len(eventtable.END)
    assert readme[start:end] == eventtable.table(), "regenerate: python -m devstack.eventtable, and paste it into the README"


# --- What an integrator generates from: named payloads, descriptions, one real example each -----


def _published() -> dict[str, Any]:
    return {t.routing_key: t for registry in asyncapi.registries().values() for t in registry}


def _all_schemas_reachable(schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema reachable from ``schema`` (itself, and each named one it refers to), once."""
    yield "", schema
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF) and (name := ref.removeprefix(REF)) not in seen:
                seen.add(name)
                yield name, schemas[name]
                stack.append(schemas[name])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)


def undescribed_fields(document: dict[str, Any]) -> list[str]:
    """Every field of every message (envelope, data and the models the data nests) without a description."""
    schemas = document["components"]["schemas"]
    missing = []
    for key, message in document["components"]["messages"].items():
        for name, schema in _all_schemas_reachable(message["payload"], schemas, set()):
            for field, prop in schema.get("properties", {}).items():
                target = schemas.get(prop.get("$ref", "").removeprefix(REF), {}) if "$ref" in prop else prop
                if not str(target.get("description", "")).strip():
                    missing.append(f"{key}: {name or 'payload'}.{field}")
    return missing


def test_every_field_of_every_event_has_a_description() -> None:
    document = json.loads(DOC.read_text())
    assert undescribed_fields(document) == []
    # The check can fail: a field without a description is found.
    changed = copy.deepcopy(document)
    name = data_name(changed, "audit.audit.allocated.v1")
    changed["components"]["schemas"][name]["properties"]["auditor_id"].pop("description")
    assert undescribed_fields(changed) == [f"audit.audit.allocated.v1: {name}.auditor_id"]


def test_a_fields_own_description_wins_over_the_glossary() -> None:
    from shared.events import FIELD_GLOSSARY

    document = json.loads(DOC.read_text())
    schemas = document["components"]["schemas"]
    allocated = schemas[data_name(document, "audit.audit.allocated.v1")]["properties"]
    assert allocated["audit_id"]["description"] == FIELD_GLOSSARY["audit_id"]  # the glossary's, as it has none of its own
    assert allocated["auditor_id"]["description"] != FIELD_GLOSSARY["auditor_id"]  # its own docstring
    signed = schemas[data_name(document, "signoff.exemplar.counter-signed.v1")]["properties"]
    assert signed["on_time"]["description"].startswith("Within the type's timescale")  # its own Field(description=...)


def test_every_payload_and_nested_model_is_a_named_component_with_a_clean_name() -> None:
    document = json.loads(DOC.read_text())
    schemas = document["components"]["schemas"]
    published = _published()
    assert set(document["components"]["messages"]) == set(published)
    names = set()
    for key, message in document["components"]["messages"].items():
        name = message["payload"]["$ref"].removeprefix(REF)
        assert name == asyncapi.payload_name(published[key]) == message["name"]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*V[0-9]+", name), name
        assert schemas[name]["title"] == name and schemas[name]["type"] == "object"
        names.add(name)
    assert len(names) == len(published), "two types share a payload name"
    assert asyncapi.payload_name(published["audit.audit.allocated.v1"]) == "AuditAllocatedV1"
    for component, schema in schemas.items():
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", component), component
        assert schema.get("title") == component, component
        # No anonymous object anywhere: every object with properties is a named component.
        inline = [field for field, _ in _nested_objects(schema)]
        assert not inline, f"{component}: inline object schemas at {inline} would be anonymous in generated models"


def _nested_objects(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field, prop in schema.get("properties", {}).items():
        for option in [prop, prop.get("items", {}), *prop.get("anyOf", []), prop.get("additionalProperties")]:
            if isinstance(option, dict) and "properties" in option:
                yield field, option


def test_every_message_has_one_example_that_is_the_event_as_published() -> None:
    from jsonschema import Draft202012Validator
    from shared.events import Envelope

    document = json.loads(DOC.read_text())
    schemas = document["components"]["schemas"]
    for key, event_type in _published().items():
        message = document["components"]["messages"][key]
        assert len(message["examples"]) == 1, key
        example = message["examples"][0]["payload"]
        envelope = Envelope.model_validate(example)
        assert envelope.type == key and envelope.source == event_type.source and envelope.dataschema == event_type.dataschema
        data = event_type.parse_data(envelope)  # valid against the type's data model
        assert data.model_dump(mode="json") == example["data"]
        # ... and against the document's own payload schema, with its components.
        root = {**schemas[message["payload"]["$ref"].removeprefix(REF)], "$defs": schemas}
        validator = Draft202012Validator(json.loads(json.dumps(root).replace(f'"{REF}', '"#/$defs/')))
        assert not list(validator.iter_errors(example)), (key, [e.message for e in validator.iter_errors(example)])
    # The examples carry identifiers only, like the events (no child's name anywhere).
    assert "Child A Example" not in DOC.read_text()


def test_an_example_that_does_not_match_its_model_is_refused() -> None:
    from devstack import asyncapi_examples

    allocated = _published()["audit.audit.allocated.v1"]
    asyncapi_examples.BY_MODEL["AuditAllocated"]["tool_version"] = "three"
    try:
        with pytest.raises(ValueError):
            asyncapi_examples.example(allocated)
    finally:
        asyncapi_examples.BY_MODEL["AuditAllocated"].pop("tool_version")
    assert asyncapi_examples.example(allocated)["data"]["tool_version"] == 3
