"""A programme's monthly cycle: the sample drawn for one month, with its seed and timetable.

One cycle per programme (the tool that runs it) and month: drawing again returns the cycle
already drawn. Drawing records one allocation work item per auditor; the audits themselves are
created by whichever audit-service replica takes each item (``allocation_key`` makes each one
at most one audit).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ...tools.domain.definition import ProgrammeKind
from .events import AllocationRequested, CycleDrawn, DomainEvent
from .sampling import Assignment, Sample
from .timetable import Month, Timetable

#: Programmes whose auditors audit a case they line-manage, drawn monthly. Themed and
#: multi-agency audits are organised case by case (a coordinator, a theme), not drawn; Hillingdon's
#: single-agency audit is its own round (``hillingdon.domain.single_agency_round``, Appendix D).
DRAWN_PROGRAMMES = frozenset({ProgrammeKind.PEER_REVIEW, ProgrammeKind.QUALITY_PRACTICE})


def cycle_id(tool_id: str, month: Month) -> str:
    return f"{tool_id}:{month}"


def allocation_key(tool_id: str, month: Month, auditor_id: str) -> str:
    """What makes an auditor's audit of the month one audit, however often its work item runs."""
    return f"{tool_id}:{month}:{auditor_id}"


class PeerReviewerRefused(Exception):
    """QA staff's choice of peer reviewer for an audit awaiting one breaks a rule (409)."""


class DrawnWithAnotherSeed(Exception):
    """A draw asked with a seed other than the one the month was drawn with (409): the request
    is not applied; the month keeps its sample."""

    def __init__(self, cycle: Cycle, asked: str) -> None:
        super().__init__(
            f"{cycle.month} was already drawn for {cycle.tool_id} with seed {cycle.sample.seed!r}; a draw with seed {asked!r} was not applied."
        )
        self.cycle_id = cycle.id
        self.existing_seed = cycle.sample.seed


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
    #: The inputs the draw used (issue 18): how far the directory projection had applied each kind
    #: of change (``team``, ``person``, ``case`` -> sequence), and the dispensations covering the month.
    directory_version: dict[str, int] = field(default_factory=dict)
    dispensation_ids: list[str] = field(default_factory=list)
    #: Auditor -> the peer reviewer QA staff assigned after the draw (the audit awaited one).
    peer_reviewers_assigned: dict[str, str] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def draw(
        cls, *, tool_id: str, tool_version: int, programme: ProgrammeKind, month: Month, sample: Sample, timetable: Timetable, by: str, at: datetime,
        directory_version: dict[str, int] | None = None, dispensation_ids: list[str] | None = None,
    ) -> Cycle:
        cycle = cls(
            id=cycle_id(tool_id, month), tool_id=tool_id, tool_version=tool_version, programme=programme, month=month,
            sample=sample, timetable=timetable, drawn_by=by, drawn_at=at, directory_version=dict(directory_version or {}),
            dispensation_ids=sorted(dispensation_ids or []),
        )
        cycle.events.append(CycleDrawn(
            at=at, by=by, cycle_id=cycle.id, tool_id=tool_id, programme=programme, month=str(month), seed=sample.seed,
            audits=len(sample.assignments), eligible_cases=sample.eligible_cases, uncovered_team_ids=tuple(sample.uncovered_team_ids),
            dispensed_ids=tuple(sample.dispensed_ids), draw_on=timetable.draw_on, due_on=timetable.due_on,
        ))
        awaiting = set(sample.awaiting_peer_reviewer)
        for assignment in sample.assignments:
            if assignment.auditor_id not in awaiting:  # allocated once QA staff assign a peer reviewer
                cycle._request_allocation(assignment, by=by, at=at)
        return cycle

    def _request_allocation(self, assignment: Assignment, *, by: str, at: datetime) -> None:
        self.events.append(AllocationRequested(
            at=at, by=by, cycle_id=self.id, tool_id=self.tool_id, tool_version=self.tool_version, month=str(self.month), assignment=assignment,
            allocation_key=self.allocation_key(assignment.auditor_id),
        ))

    def assign_peer_reviewer(self, auditor_id: str, reviewer_id: str, *, auditors_line_manager: str | None, by: str, at: datetime) -> Assignment:
        """QA staff give an audit left awaiting a peer reviewer one (Kent 2: "Each Team Manager and
        Peer Reviewer will audit one case per month"): never its auditor nor the auditor's own line
        manager, nor anyone already peer reviewing this month. The audit is then allocated."""
        if auditor_id not in self.sample.awaiting_peer_reviewer:
            raise PeerReviewerRefused(f"The audit of {auditor_id} this month is not awaiting a peer reviewer.")
        if reviewer_id in (auditor_id, auditors_line_manager):
            raise PeerReviewerRefused("The peer reviewer must be independent: neither the auditor nor the auditor's own line manager.")
        if any(a.peer_reviewer_id == reviewer_id for a in self.sample.assignments):
            raise PeerReviewerRefused(f"{reviewer_id} already peer reviews an audit this month: a peer reviewer reviews one case per month.")
        old = next(a for a in self.sample.assignments if a.auditor_id == auditor_id)
        new = replace(old, peer_reviewer_id=reviewer_id)
        self.sample = replace(
            self.sample, assignments=[new if a is old else a for a in self.sample.assignments],
            awaiting_peer_reviewer=[a for a in self.sample.awaiting_peer_reviewer if a != auditor_id],
        )
        self.peer_reviewers_assigned = {**self.peer_reviewers_assigned, auditor_id: reviewer_id}
        self._request_allocation(new, by=by, at=at)
        return new

    def drawn_again(self, seed: str | None) -> Cycle:
        """The answer to drawing a month already drawn: without a seed or with its own seed, this
        cycle, unchanged (idempotent); with another seed, a refusal naming the month's seed, so
        the caller knows the request was not applied."""
        if seed is not None and seed != self.sample.seed:
            raise DrawnWithAnotherSeed(self, seed)
        return self

    def allocation_key(self, auditor_id: str) -> str:
        return allocation_key(self.tool_id, self.month, auditor_id)
