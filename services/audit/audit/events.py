"""Every event the audit service publishes, one registry over its bounded contexts (read by the
AsyncAPI generator, the event table and the broker's topic permissions as ``audit.events.EVENTS``)."""

from __future__ import annotations

from shared.directory_sync import applied_type
from shared.events import EventRegistry

from .case_audit import events as case_audit_events
from .cycles import events as cycles_events
from .hampshire import events as hampshire_events
from .hillingdon import events as hillingdon_events
from .multi_agency import events as multi_agency_events
from .practice import events as practice_events
from .team_review import events as team_review_events

SERVICE = case_audit_events.SERVICE

EVENTS = EventRegistry(
    [
        *case_audit_events.EVENTS, *cycles_events.EVENTS, *multi_agency_events.EVENTS, *hampshire_events.EVENTS,
        *hillingdon_events.EVENTS, *practice_events.EVENTS, *team_review_events.EVENTS,
    ]
)
EVENTS.register(applied_type(SERVICE))  # the directory sync signal (shared.directory_sync)
