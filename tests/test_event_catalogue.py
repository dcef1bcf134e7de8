"""The AsyncAPI document integrators read is the one the code defines."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devstack import asyncapi

DOC = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.json"


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
        assert message["payload"]["allOf"][1]["properties"]["type"]["const"] == event_type.type
        data_schema = document["components"]["schemas"][f"{key}.data"]
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
        data = schemas[f"{key}.data"]
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
    data = document["components"]["schemas"][f"{key}.data"]
    for field, expected in [
        ("pdf_base64", "can carry a document"),
        ("child_name", "a child's identity"),
        ("date_of_birth", "a child's identity"),
        ("home_address", "a child's identity"),
        ("worker_email", "a person's name"),
        ("case_id", "joins a multi-agency code"),
    ]:
        changed = copy.deepcopy(document)
        changed["components"]["schemas"][f"{key}.data"] = {**data, "properties": {**data["properties"], field: {"type": "string"}}}
        found = catalogue_problems(changed)
        assert any(expected in p and key in p for p in found), (field, found)
    changed = copy.deepcopy(document)
    changed["components"]["schemas"][f"{key}.data"]["properties"]["grade"] = {"type": "string", "contentEncoding": "base64"}
    assert any("can carry a document" in p for p in catalogue_problems(changed))


def test_the_readmes_event_table_lists_every_event_as_the_code_defines_it() -> None:
    from devstack import eventtable

    readme = (DOC.parents[1] / "README.md").read_text()
    start, end = readme.index(eventtable.BEGIN), readme.index(eventtable.END) + len(eventtable.END)
    assert readme[start:end] == eventtable.table(), "regenerate: python -m devstack.eventtable, and paste it into the README"
