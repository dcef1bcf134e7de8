"""The event catalogue page (``/docs/events``): the AsyncAPI document rendered on the server as
plain HTML with its own small stylesheet, so it needs no script and nothing from a CDN."""

from __future__ import annotations

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
        data_schema = schemas.get(f"{key}.data", {})
        sections.append(
            f'<section class="event" id="{escape(key)}"><h2><code>{escape(key)}</code></h2>'
            f"<p>{escape(message.get('summary', ''))}</p>"
            f"<p class=\"muted\">{escape(publishers.get(key, ''))} · {escape(channel.get('description', ''))} · "
            f"content type <code>{escape(message.get('contentType', document.get('defaultContentType', '')))}</code></p>"
            f"<h3>data ({escape(message.get('title', ''))})</h3>{_properties(data_schema)}</section>"
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
