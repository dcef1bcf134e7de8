"""What every context's API does with its own models: take what a client writes the same way
(``InputModel``; ``WrittenValue`` when it is answered back too), and turn a request body into the
domain's plain value of the same fields."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

D = TypeVar("D")


class InputModel(BaseModel):
    """What a client writes (a request body, or a part of one): a field it does not know is refused
    (422, not silently dropped) and text is taken without the white space around it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WrittenValue(InputModel):
    """A value a client writes that is answered back as well: read from the domain's own value by
    attribute (``model_validate(value)``), and never changed once made."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


#: One adapter per domain value a body becomes (building one is the costly part).
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def to_domain(body: BaseModel, kind: type[D]) -> D:
    """A body as the domain's plain value ``kind`` (``domain.work.StageWork`` for ``StageWork`` ...):
    the same fields, nested values included."""
    adapter = _ADAPTERS.get(kind) or _ADAPTERS.setdefault(kind, TypeAdapter(kind))
    value: D = adapter.validate_python(body.model_dump())
    return value
