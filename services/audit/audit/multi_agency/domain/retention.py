"""How long a multi-agency audit is held, and what is kept once it is destroyed (Hillingdon QAF
Appendix E 6: "The HSCB will hold the audits for three years for inspection purposes before
destroying them.").

A multi-agency audit is held for three years from the day it was set up; on that day's third
anniversary (28 February for one set up on 29 February) the scheduled pass destroys it: the audit,
its case audit (the case id, the answers, the drafts), their PDFs. The one thing kept is a record
in the retention log: the audit's id, when and as of which day it was destroyed, by the scheduled
pass, and its anonymous counts (stage, agreed grade, how many agencies, consultations, actions and
reports), so the reports on multi-agency audits still count it. No person's id, no case, no code,
no free text is kept: the counts are numbers and the seeds' own words (a grade, a stage).

This is the only deletion the seeds ask for; nothing else is deleted.

Plain Python: ``destroy`` checks the rule, records the domain event, and returns the log record
the store keeps in the same transaction as the deletion and the outbox.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.calendar import local_date

from ...common.errors import WrongStage
from .audit import MultiAgencyAudit
from .events import AuditDestroyed

#: "hold the audits for three years for inspection purposes before destroying them" (Appendix E 6).
RETENTION_YEARS = 3


def destroy_on(set_up_on: date) -> date:
    """The day the audit has been held for three years: the third anniversary of its set-up
    (28 February for an audit set up on 29 February)."""
    try:
        return set_up_on.replace(year=set_up_on.year + RETENTION_YEARS)
    except ValueError:  # 29 February, and the third year after has none
        return set_up_on.replace(year=set_up_on.year + RETENTION_YEARS, day=28)


def set_up_on(audit: MultiAgencyAudit) -> date:
    """The day in England the audit was set up."""
    return local_date(audit.created_at)


def due_for_destruction(audit: MultiAgencyAudit, today: date) -> bool:
    """Held for three years as of ``today`` (a day in England)."""
    return today >= destroy_on(set_up_on(audit))


@dataclass(frozen=True, kw_only=True)
class RetainedCounts:
    """What the reports still count of a destroyed audit: numbers and grades, nobody's id."""

    #: The month the audit was set up (YYYY-MM), which the reports group by.
    month: str
    #: Its ``Stage`` when destroyed.
    stage: str
    #: The Ofsted grade agreed at the meeting (None: no meeting held).
    agreed_grade: str | None
    agencies: int
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int
    reports: int

    @property
    def year(self) -> int:
        return int(self.month[:4])


def counts_of(audit: MultiAgencyAudit) -> RetainedCounts:
    """The anonymous counts of an audit, live or about to be destroyed (the same for both)."""
    obtained = sum(1 for c in audit.consultations.values() if c.input.obtained)
    actions = audit.plan.actions if audit.plan else []
    return RetainedCounts(
        month=set_up_on(audit).strftime("%Y-%m"),
        stage=audit.stage.value,
        agreed_grade=audit.meeting.agreed_grade.value if audit.meeting else None,
        agencies=len(audit.partners),
        consultations_obtained=obtained,
        consultations_not_obtained=len(audit.consultations) - obtained,
        actions_total=len(actions),
        actions_done=sum(1 for a in actions if a.done),
        reports=len(audit.reports),
    )


@dataclass(frozen=True, kw_only=True)
class Destruction:
    """The retention log's record of one destroyed audit: ids, dates and counts only."""

    audit_id: str
    set_up_on: date
    #: The third anniversary: held until then.
    held_until: date
    #: The day the scheduled pass ran as (its own day, or the day named to ``POST /v1/scheduler/runs``).
    as_of: date
    destroyed_at: datetime
    #: Who destroyed it: the scheduled pass, never a person.
    by: str
    counts: RetainedCounts
    #: How many stored records of each kind were deleted (filled in by the store).
    removed: dict[str, int] = field(default_factory=dict)


def destroy(audit: MultiAgencyAudit, *, as_of: date, by: str, at: datetime) -> Destruction:
    """The audit has been held three years: destroy it, keeping only its counts and the log record."""
    started = set_up_on(audit)
    until = destroy_on(started)
    if as_of < until:
        raise WrongStage(f"A multi-agency audit is held for three years: this one until {until.isoformat()}.")
    audit.events.append(AuditDestroyed(at=at, as_of=as_of, by=by))
    return Destruction(
        audit_id=audit.id,
        set_up_on=started,
        held_until=until,
        as_of=as_of,
        destroyed_at=at,
        by=by,
        counts=counts_of(audit),
    )


# --- the reports' counts ----------------------------------------------------------------------


@dataclass(frozen=True)
class YearFigures:
    """Multi-agency audits set up in a year, held and destroyed alike."""

    year: int
    audits: int
    held: int
    destroyed: int
    by_grade: dict[str, int]
    by_stage: dict[str, int]
    agencies: int
    consultations_obtained: int
    consultations_not_obtained: int
    actions_total: int
    actions_done: int
    reports: int


def figures(year: int, held: Iterable[RetainedCounts], destroyed: Iterable[RetainedCounts]) -> YearFigures:
    """Counted the same way whether an audit is still held or destroyed, so destroying one changes
    only which column it is counted in."""
    live = [c for c in held if c.year == year]
    gone = [c for c in destroyed if c.year == year]
    every = [*live, *gone]
    return YearFigures(
        year=year,
        audits=len(every),
        held=len(live),
        destroyed=len(gone),
        by_grade=dict(sorted(Counter(c.agreed_grade or "not_graded" for c in every).items())),
        by_stage=dict(sorted(Counter(c.stage for c in every).items())),
        agencies=sum(c.agencies for c in every),
        consultations_obtained=sum(c.consultations_obtained for c in every),
        consultations_not_obtained=sum(c.consultations_not_obtained for c in every),
        actions_total=sum(c.actions_total for c in every),
        actions_done=sum(c.actions_done for c in every),
        reports=sum(c.reports for c in every),
    )
