"""The event catalogue page shows, for each event, its data schema (found through the named
payload), the models that data nests, every field's meaning and the event's example."""

from __future__ import annotations

import json
from html import escape

from gateway.docs.events_page import data_schema_name, render

from devstack import asyncapi


def test_each_event_shows_its_fields_meanings_nested_models_and_example() -> None:
    document = asyncapi.document()
    schemas = document["components"]["schemas"]
    html = render(document)
    for key, message in document["components"]["messages"].items():
        name = data_schema_name(message, schemas)
        assert name == f"{message['name']}Data", key
        section = html[html.index(f'id="{key}"'):]
        section = section[: section.index("</section>")]
        for field, prop in schemas[name]["properties"].items():
            assert f"<code>{escape(field)}</code>" in section, (key, field)
            assert escape(prop["description"]) in section, (key, field)
        assert escape(json.dumps(message["examples"][0]["payload"], indent=2)) in section, key
    routed = html[html.index('id="audit.copy.routed.v2"'):]
    assert "<h4><code>CopyRecipient</code></h4>" in routed[: routed.index("</section>")]


def test_a_message_without_a_named_payload_has_no_data_schema() -> None:
    assert data_schema_name({"payload": {"type": "object"}}, {}) is None
