"""Domain events the Hillingdon records recorded as they change (turned into integration events
by ``hillingdon.events``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Happened:
    """Something the record's integration event reports; ``name`` says what."""

    name: str
    at: datetime
    by: str
