"""What every context's API does with its own models: turn a request body into the domain's plain
value of the same fields."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

D = TypeVar("D")

#: One adapter per domain value a body becomes (building one is the costly part).
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def to_domain(body: BaseModel, kind: type[D]) -> D:
    """A body as the domain's plain value ``kind`` (``domain.work.StageWork`` for ``StageWork`` ...):
    the same fields, nested values included."""
    adapter = _ADAPTERS.get(kind) or _ADAPTERS.setdefault(kind, TypeAdapter(kind))
    value: D = adapter.validate_python(body.model_dump())
    return value
