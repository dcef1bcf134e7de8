"""The event catalogue page (``/docs/events``): the AsyncAPI document rendered on the server as
plain HTML with its own small stylesheet, so it needs no script and nothing from a CDN."""

from __future__ import annotations

import json
from html import escape
from typing import Any

REF = "#/components/schemas/"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#0b0c0c;color:#fff;padding:1rem 2rem}header a{color:#fff}
main{display:flex;gap:2rem;padding:1rem 2rem}nav{min-width:18rem;position:sticky;top:1rem;align-self:flex-start}
nav ul{list-style:none;padding:0}nav li{margin:.25rem 0}section.event{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem 1.5rem;margin-bottom:1.5rem}
code{background:#eef;padding:0 .25rem;border-radius:3px}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #e5e5e5;text-align:left;padding:.3rem .5rem;vertical-align:top}th{background:#f3f3f3}
.req{color:#b00;font-weight:bold}.muted{color:#666}
pre{background:#f6f8fa;border:1px solid #e5e5e5;border-radius:4px;padding:.5rem;overflow-x:auto;font-size:.85rem}
"""


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].removeprefix(REF)
    if "const" in schema:
        return f"= {schema['const']}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _properties(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        mark = '<span class="req" title="required">*</span>' if name in required else ""
        rows.append(
            f"<tr><td><code>{escape(name)}</code>{mark}</td><td>{escape(_type_of(prop))}</td>"
            f"<td>{escape(prop.get('description', prop.get('title', '')))}</td></tr>"
        )
    if not rows:
        return '<p class="muted">No fields.</p>'
    return "<table><thead><tr><th>field</th><th>type</th><th>meaning</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref", "")
    return ref.removeprefix(REF) if ref.startswith(REF) else None


def data_schema_name(message: dict[str, Any], schemas: dict[str, Any]) -> str | None:
    """The component name of a message's data: its payload's ``data`` property refers to it."""
    payload = message.get("payload", {})
    name = _ref_name(payload)
    if name is not None:
        payload = schemas.get(name, {})
    return _ref_name(payload.get("properties", {}).get("data", {}))


def _nested(schema: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    """The named models a data schema's fields refer to (directly, in arrays or in unions)."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            name = _ref_name(node)
            if name is not None and name in schemas and name not in found:
                found.append(name)
                visit(schemas[name].get("properties", {}))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema.get("properties", {}))
    return found


def _example(message: dict[str, Any]) -> str:
    examples = message.get("examples", [])
    if not examples:
        return ""
    return f"<h3>example</h3><pre><code>{escape(json.dumps(examples[0].get('payload', {}), indent=2))}</code></pre>"


def render(document: dict[str, Any]) -> str:
    """The whole page for an AsyncAPI 3 document."""
    info = document.get("info", {})
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    messages = components.get("messages", {})
    publishers = {}
    for operation in document.get("operations", {}).values():
        channel = operation.get("channel", {}).get("$ref", "").rsplit("/", 1)[-1]
        publishers[channel] = operation.get("title", "")
    title = escape(info.get("title", "Events"))
    nav = "".join(f'<li><a href="#{escape(key)}"><code>{escape(key)}</code></a></li>' for key in sorted(messages))
    sections = []
    for key, message in sorted(messages.items()):
        channel = document.get("channels", {}).get(key, {})
        data_name = data_schema_name(message, schemas)
        data_schema = schemas.get(data_name or "", {})
        nested = "".join(f"<h4><code>{escape(n)}</code></h4>{_properties(schemas[n])}" for n in _nested(data_schema, schemas))
        sections.append(
            f'<section class="event" id="{escape(key)}"><h2><code>{escape(key)}</code></h2>'
            f"<p>{escape(message.get('summary', ''))}</p>"
            f"<p class=\"muted\">{escape(publishers.get(key, ''))} · {escape(channel.get('description', ''))} · "
            f"content type <code>{escape(message.get('contentType', document.get('defaultContentType', '')))}</code></p>"
            f"<h3>data (<code>{escape(data_name or '')}</code>, payload <code>{escape(message.get('name', ''))}</code>)</h3>"
            f"{_properties(data_schema)}{nested}{_example(message)}</section>"
        )
    envelope = schemas.get("CloudEventEnvelope", {})
    servers = "".join(
        f"<li><code>{escape(name)}</code>: {escape(s.get('protocol', ''))} {escape(s.get('protocolVersion', ''))} at "
        f"<code>{escape(s.get('host', ''))}</code> — {escape(s.get('description', ''))}</li>"
        for name, s in document.get("servers", {}).items()
    )
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{title} <small>v{escape(info.get('version', ''))}</small></h1>"
        '<p><a href="/docs">HTTP API</a> · <a href="/api/asyncapi.json">AsyncAPI document (JSON)</a></p></header>'
        f"<main><nav><h2>Events ({len(messages)})</h2><ul>{nav}</ul></nav><div>"
        f"<p>{escape(info.get('description', ''))}</p><h2>Broker</h2><ul>{servers}</ul>"
        f'<section class="event" id="envelope"><h2>The envelope (every event)</h2>{_properties(envelope)}</section>'
        f"{''.join(sections)}</div></main></body></html>"
    )
