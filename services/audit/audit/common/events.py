"""The one way a bounded context of audit declares its domain events: each is a frozen dataclass,
a plain record of what happened (no framework import), written as a class body of its fields.

``Event`` makes every subclass a frozen dataclass, so a package's events read as their fields and
docstrings only. ``kw_only=True`` in a base's class statement makes its fields, and its
subclasses', keyword-only (a package whose events name every field where they are recorded);
``DomainEvent`` is the common case whose first field is when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, dataclass_transform


@dataclass_transform(frozen_default=True)
class Event:
    """A domain event: subclasses are frozen dataclasses of their fields."""

    _kw_only = False

    def __init_subclass__(cls, *, kw_only: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kw_only is not None:
            cls._kw_only = kw_only
        dataclass(frozen=True, kw_only=cls._kw_only)(cls)


class DomainEvent(Event):
    """Something that happened, at ``at``."""

    at: datetime
