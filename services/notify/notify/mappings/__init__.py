"""The table from event type to what notify does with it.

Each producer's module (``signoff``, ``resolution``, ``audit``) declares notify's own tolerant
reader models of the events it reads (never the producer's package) and a function per event
type from the event to its ``Effects`` (pure, except that it may ask who someone's line manager
is). ``MAPPINGS`` gathers them; one consumer (purpose
``work-tray``) subscribes to every type in it and applies the effects.
"""

from __future__ import annotations

from . import audit, hampshire, hillingdon, qa_framework, resolution, signoff
from .base import Mapping, People, Translate, pure

__all__ = ["Mapping", "People", "Translate", "all_mappings", "pure"]


def all_mappings() -> list[Mapping]:
    return [*signoff.MAPPINGS, *resolution.MAPPINGS, *audit.MAPPINGS, *qa_framework.MAPPINGS, *hampshire.MAPPINGS, *hillingdon.MAPPINGS]
