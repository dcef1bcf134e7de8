"""Domain events of a month's cycle, in plain Python: the sample drawn, and one allocation work item
per auditor. Each carries the facts it reports, so ``cycles.events.record`` turns it into its
integration event without reading anything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ...tools.domain.definition import ProgrammeKind
from .sampling import Assignment


@dataclass(frozen=True)
class DomainEvent:
    at: datetime


@dataclass(frozen=True)
class CycleDrawn(DomainEvent):
    """A month's sample was drawn for a programme."""

    by: str
    cycle_id: str
    tool_id: str
    programme: ProgrammeKind
    month: str
    seed: str
    audits: int
    eligible_cases: int
    uncovered_team_ids: tuple[str, ...]
    dispensed_ids: tuple[str, ...]
    draw_on: date
    due_on: date


@dataclass(frozen=True)
class AllocationRequested(DomainEvent):
    """One auditor's audit of the month is to be allocated (a work item any replica may take)."""

    by: str
    cycle_id: str
    tool_id: str
    tool_version: int
    month: str
    assignment: Assignment
    allocation_key: str
