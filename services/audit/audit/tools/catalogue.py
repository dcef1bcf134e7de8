"""The audit tools the service ships with (``tooldata/*.json``), seeded as version 1 of each tool
at start-up when absent. Administrators and QA staff add later versions through the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from .domain.definition import ToolDefinition
from .schemas import parse_definition

KENT = "kent-online-peer-review"
HAMPSHIRE = "hampshire-quality-practice"
HILLINGDON = "hillingdon-single-agency"
THEMED = "themed-supervision-and-decisions"
MULTI_AGENCY = "multi-agency"


@dataclass(frozen=True)
class ShippedTool:
    tool_id: str
    definition: ToolDefinition


def shipped_tools() -> list[ShippedTool]:
    tools = []
    for entry in sorted(resources.files("audit.tools").joinpath("tooldata").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            raw = json.loads(entry.read_text(encoding="utf-8"))
            tools.append(ShippedTool(raw["tool_id"], parse_definition(raw["definition"])))
    return tools


def shipped_tool(tool_id: str) -> ToolDefinition:
    return next(t.definition for t in shipped_tools() if t.tool_id == tool_id)
