"""The AsyncAPI document integrators read is the one the code defines."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_the_readmes_event_table_lists_every_event_as_the_code_defines_it() -> None:
    from devstack import eventtable

    readme = (DOC.parents[1] / "README.md").read_text()
    start, end = readme.index(eventtable.BEGIN), readme.index(eventtable.END) + len(eventtable.END)
    assert readme[start:end] == eventtable.table(), "regenerate: python -m devstack.eventtable, and paste it into the README"
