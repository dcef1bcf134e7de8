"""Practice observation (Hillingdon, Appendix B): every social worker's practice observed "at
least twice-yearly by their line manager/supervisor", as a formal, pre-negotiated process.

- The observer plans it (the situation, the day, what they expect to observe); the social worker
  agrees it with their own aims and the standards they hope to meet ("discussed and agreed before
  the observation takes place").
- The service user's written agreement is recorded before the day and confirmed verbally on the
  day: a report without both is refused.
- The observer's report follows the appendix's headings; the written feedback is due "within two
  weeks" of the session. The social worker then writes their own reflection, which closes it.

The cadence: the next observation is due six months after the last one observed (so two in any
twelve months), on the working day on or before that date; a social worker never observed is due
six months after the reminders first counted them (a new starter: within their probation). The
reminder goes ``REMINDER_WORKING_DAYS`` working days before the due day.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.calendar import add_months, add_working_days, is_working_day, local_date

from ...common.errors import InvalidEntries, NotAllowed, WrongStage
from ...common.roles import QA_STAFF_ROLES
from . import events as ev

#: "At least twice-yearly": one every six months.
OBSERVATIONS_A_YEAR = 2
INTERVAL_MONTHS = 12 // OBSERVATIONS_A_YEAR
#: The reminder goes this many working days before the due day (notify's cadence).
REMINDER_WORKING_DAYS = 10
#: "A subsequent written record of this feedback given within two weeks".
WRITTEN_FEEDBACK_DAYS = 14


class Situation(StrEnum):
    """The situations the appendix names as suitable for observation."""

    INTERVIEW = "interview"  # interviews with service users and their networks
    GROUP_WORK = "group_work"
    MEETING = "meeting"  # case conference or meeting participation
    PRESENTATION = "presentation"  # verbal presentations


class ObservationStatus(StrEnum):
    PLANNED = "planned"
    AGREED = "agreed"
    REPORTED = "reported"
    REFLECTED = "reflected"
    CANCELLED = "cancelled"


# The entries of each step, as the rules read them (the API's request bodies, ``practice.schemas``,
# hold their limits and descriptions).


@dataclass(frozen=True, kw_only=True)
class Plan:
    situation: Situation
    planned_on: date
    #: The child's case, when the session is about one.
    case_id: str | None = None
    #: The aspects of practice the observer expects to observe.
    observer_focus: str
    #: When the service user gave written agreement to the observation.
    written_consent_on: date | None = None


@dataclass(frozen=True, kw_only=True)
class Agreement:
    #: The social worker's aims of the session.
    aims: str
    #: The practice standards they hope to meet.
    standards: str


@dataclass(frozen=True, kw_only=True)
class Report:
    """The observer's report, under the appendix's headings."""

    observed_on: date
    #: The service user confirmed their agreement verbally on the day.
    verbal_consent_confirmed: bool
    #: When not recorded with the plan.
    written_consent_on: date | None = None
    situation: str
    aim_of_intervention: str
    those_present: str
    standards_observed: str
    feedback_and_evidence: str
    positive_aspects: str
    areas_for_development: str
    reflection: str
    designation: str


@dataclass(frozen=True, kw_only=True)
class Reflection:
    """The social worker's reflection on the direct observation."""

    achieved_aims: str
    did_well: str
    could_improve: str
    how_to_improve: str
    unexpected_problems: str = ""
    other_comments: str = ""


@dataclass(kw_only=True)
class Observation:
    id: str
    social_worker_id: str
    observer_id: str
    line_manager_id: str | None = None
    team_id: str | None = None
    status: ObservationStatus = ObservationStatus.PLANNED
    plan: Plan
    agreement: Agreement | None = None
    agreed_at: datetime | None = None
    report: Report | None = None
    reported_at: datetime | None = None
    reflection: Reflection | None = None
    reflected_at: datetime | None = None
    cancelled_reason: str = ""
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int = 0
    #: What happened since it was loaded (not stored): ``practice.events`` publishes them.
    events: list[ev.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def plan_with(
        cls, *, observation_id: str, social_worker_id: str, observer_id: str, line_manager_id: str | None, team_id: str | None,
        plan: Plan, at: datetime,
    ) -> Observation:
        if observer_id == social_worker_id:
            raise InvalidEntries("No one observes their own practice.", [{"field": "social_worker_id", "message": "the observer is the social worker"}])
        observation = cls(
            id=observation_id, social_worker_id=social_worker_id, observer_id=observer_id, line_manager_id=line_manager_id, team_id=team_id,
            plan=plan, created_by=observer_id, created_at=at, updated_by=observer_id, updated_at=at,
        )
        observation.events.append(ev.ObservationPlanned(
            observation_id=observation_id, social_worker_id=social_worker_id, observer_id=observer_id, team_id=team_id,
            situation=plan.situation.value, planned_on=plan.planned_on, at=at,
        ))
        return observation

    # --- who ------------------------------------------------------------------------------------

    def viewers(self) -> list[str]:
        return sorted({p for p in (self.social_worker_id, self.observer_id, self.line_manager_id) if p})

    def visible_to(self, person_id: str, roles: frozenset[str]) -> bool:
        return person_id in self.viewers() or not QA_STAFF_ROLES.isdisjoint(roles)

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at

    def _observer(self, by: str) -> None:
        if by != self.observer_id:
            raise NotAllowed("Only the observer does this.")

    def _social_worker(self, by: str) -> None:
        if by != self.social_worker_id:
            raise NotAllowed("Only the social worker observed does this.")

    # --- the steps ------------------------------------------------------------------------------

    def revise_plan(self, *, by: str, plan: Plan, at: datetime) -> None:
        """A changed plan is agreed again."""
        self._observer(by)
        if self.status not in (ObservationStatus.PLANNED, ObservationStatus.AGREED):
            raise WrongStage(f"The observation is {self.status.value}; its plan can no longer change.")
        self.plan, self.agreement, self.agreed_at, self.status = plan, None, None, ObservationStatus.PLANNED
        self._touch(by, at)

    def agree(self, *, by: str, agreement: Agreement, at: datetime) -> None:
        self._social_worker(by)
        if self.status is not ObservationStatus.PLANNED:
            raise WrongStage(f"The observation is {self.status.value}, not planned.")
        self.agreement, self.agreed_at, self.status = agreement, at, ObservationStatus.AGREED
        self._touch(by, at)

    def record_report(self, *, by: str, report: Report, at: datetime) -> None:
        """The observer's report (and its revisions until the social worker has reflected)."""
        self._observer(by)
        if self.status not in (ObservationStatus.AGREED, ObservationStatus.REPORTED):
            raise WrongStage("An observation is reported once its plan is agreed with the social worker, and revised until they reflect on it.")
        consent = report.written_consent_on or self.plan.written_consent_on
        errors = []
        if consent is None:
            errors.append({"field": "written_consent_on", "message": "the service user's written agreement is recorded before the observation"})
        elif consent > report.observed_on:
            errors.append({"field": "written_consent_on", "message": "the written agreement must come before the observation"})
        if not report.verbal_consent_confirmed:
            errors.append({"field": "verbal_consent_confirmed", "message": "the service user confirms their agreement verbally on the day"})
        if report.observed_on > local_date(at):
            errors.append({"field": "observed_on", "message": "an observation is reported after it took place"})
        if errors:
            raise InvalidEntries("This observation cannot be reported.", errors)
        if report.written_consent_on is None:
            report = replace(report, written_consent_on=consent)
        revised = self.report is not None
        self.report, self.status = report, ObservationStatus.REPORTED
        if self.reported_at is None:
            self.reported_at = at
        self._touch(by, at)
        self.events.append(ev.ObservationReported(
            observation_id=self.id, social_worker_id=self.social_worker_id, observer_id=self.observer_id, team_id=self.team_id,
            observed_on=report.observed_on, feedback_due_on=report.observed_on + timedelta(days=WRITTEN_FEEDBACK_DAYS),
            written_late=bool(self.written_late), revised=revised, at=at,
        ))

    def reflect(self, *, by: str, reflection: Reflection, at: datetime) -> None:
        self._social_worker(by)
        if self.status is not ObservationStatus.REPORTED:
            raise WrongStage("The social worker reflects on an observation once it is reported.")
        self.reflection, self.reflected_at, self.status = reflection, at, ObservationStatus.REFLECTED
        self._touch(by, at)

    def cancel(self, *, by: str, reason: str, at: datetime) -> None:
        """E.g. the service user did not agree: the observation does not take place (kept, not deleted)."""
        if by not in (self.observer_id, self.social_worker_id):
            raise NotAllowed("Only the observer or the social worker cancels an observation.")
        if self.status not in (ObservationStatus.PLANNED, ObservationStatus.AGREED):
            raise WrongStage(f"The observation is {self.status.value}; only a planned observation is cancelled.")
        self.status, self.cancelled_reason = ObservationStatus.CANCELLED, reason
        self._touch(by, at)

    # --- facts ----------------------------------------------------------------------------------

    @property
    def observed_on(self) -> date | None:
        return self.report.observed_on if self.report else None

    @property
    def feedback_due_on(self) -> date | None:
        return self.observed_on + timedelta(days=WRITTEN_FEEDBACK_DAYS) if self.observed_on else None

    @property
    def written_late(self) -> bool | None:
        """Whether the written feedback came later than two weeks after the session."""
        if self.reported_at is None or self.feedback_due_on is None:
            return None
        return local_date(self.reported_at) > self.feedback_due_on


# --- the cadence ---------------------------------------------------------------------------------


def working_day_on_or_before(day: date) -> date:
    return day if is_working_day(day) else add_working_days(day, -1)


@dataclass(frozen=True)
class Cadence:
    social_worker_id: str
    last_observed_on: date | None
    due_on: date
    remind_on: date


def cadence(
    social_worker_id: str, *, last_observed_on: date | None, counted_since: date, reminder_working_days: int = REMINDER_WORKING_DAYS
) -> Cadence:
    """When the social worker's next observation is due and when they are reminded of it."""
    base = last_observed_on or counted_since
    due_on = working_day_on_or_before(add_months(base, INTERVAL_MONTHS))
    return Cadence(social_worker_id, last_observed_on, due_on, add_working_days(due_on, -reminder_working_days))


def reminder_due(c: Cadence, today: date) -> bool:
    """A reminder is sent from its day on (once per due day: the caller remembers it)."""
    return today >= c.remind_on


def observed_in_year(observed: list[date], today: date) -> int:
    """Observations in the twelve months to ``today``."""
    since = add_months(today, -12)
    return sum(since < d <= today for d in observed)


def due_reminder(
    social_worker_id: str, *, line_manager_id: str | None, team_id: str | None, observed: list[date], counted_since: date, today: date,
) -> ev.ObservationDue | None:
    """The reminder a social worker is due ``today`` (observed on ``observed``, the latest first
    or in any order), or None when it is not yet their reminder day."""
    due = cadence(social_worker_id, last_observed_on=max(observed, default=None), counted_since=counted_since)
    if not reminder_due(due, today):
        return None
    return ev.ObservationDue(
        social_worker_id=social_worker_id, line_manager_id=line_manager_id, team_id=team_id, due_on=due.due_on, remind_on=due.remind_on,
        last_observed_on=due.last_observed_on, observations_last_12_months=observed_in_year(observed, today), overdue=today > due.due_on,
    )
