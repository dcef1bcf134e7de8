"""Every event notify publishes (read by the AsyncAPI generator, the event table and the broker's
topic permissions as ``notify.events.EVENTS``): only the directory sync signal, which says how far
notify's copy of the staff directory has caught up (``shared.directory_sync``)."""

from __future__ import annotations

from shared.directory_sync import applied_type
from shared.events import EventRegistry

PUBLISHER = "notify"

EVENTS = EventRegistry([applied_type(PUBLISHER)])
