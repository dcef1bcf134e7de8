"""The tools API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ToolSummaryOut(BaseModel):
    tool_id: str
    latest_version: int
    title: str
    programme: str
    updated_at: datetime
    updated_by: str


class ToolOut(BaseModel):
    tool_id: str
    version: int
    definition: dict[str, Any]
    created_by: str
    created_at: datetime
