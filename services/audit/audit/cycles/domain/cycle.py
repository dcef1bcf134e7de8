"""A programme's monthly cycle: the sample drawn for one month, with its seed and timetable.

One cycle per programme (the tool that runs it) and month: drawing again returns the cycle
already drawn. Drawing records one allocation work item per auditor; the audits themselves are
created by whichever audit-service replica takes each item (``allocation_key`` makes each one
at most one audit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ...tools.domain.definition import ProgrammeKind
from .events import AllocationRequested, CycleDrawn, DomainEvent
from .sampling import Sample
from .timetable import Month, Timetable

#: Programmes whose auditors audit a case they line-manage, drawn monthly. Themed and
#: multi-agency audits are organised case by case (a coordinator, a theme), not drawn.
DRAWN_PROGRAMMES = frozenset({ProgrammeKind.PEER_REVIEW, ProgrammeKind.QUALITY_PRACTICE, ProgrammeKind.SINGLE_AGENCY})


def cycle_id(tool_id: str, month: Month) -> str:
    return f"{tool_id}:{month}"


def allocation_key(tool_id: str, month: Month, auditor_id: str) -> str:
    """What makes an auditor's audit of the month one audit, however often its work item runs."""
    return f"{tool_id}:{month}:{auditor_id}"


@dataclass
class Cycle:
    id: str
    tool_id: str
    tool_version: int
    programme: ProgrammeKind
    month: Month
    sample: Sample
    timetable: Timetable
    drawn_by: str
    drawn_at: datetime
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def draw(
        cls, *, tool_id: str, tool_version: int, programme: ProgrammeKind, month: Month, sample: Sample, timetable: Timetable, by: str, at: datetime
    ) -> Cycle:
        cycle = cls(
            id=cycle_id(tool_id, month), tool_id=tool_id, tool_version=tool_version, programme=programme, month=month,
            sample=sample, timetable=timetable, drawn_by=by, drawn_at=at,
        )
        cycle.events.append(CycleDrawn(
            at=at, by=by, cycle_id=cycle.id, tool_id=tool_id, programme=programme, month=str(month), seed=sample.seed,
            audits=len(sample.assignments), eligible_cases=sample.eligible_cases, uncovered_team_ids=tuple(sample.uncovered_team_ids),
            dispensed_ids=tuple(sample.dispensed_ids), draw_on=timetable.draw_on, due_on=timetable.due_on,
        ))
        for assignment in sample.assignments:
            cycle.events.append(AllocationRequested(
                at=at, by=by, cycle_id=cycle.id, tool_id=tool_id, tool_version=tool_version, month=str(month), assignment=assignment,
                allocation_key=allocation_key(tool_id, month, assignment.auditor_id),
            ))
        return cycle

    def allocation_key(self, auditor_id: str) -> str:
        return allocation_key(self.tool_id, self.month, auditor_id)
