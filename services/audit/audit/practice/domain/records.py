"""The other operational quality assurance records (Hillingdon 4.3-4.5 and Appendix C), as plain
rules over small plain records:

- **Monitoring forms**: IROs and CP chairs complete one for each conference / review and each
  mid-point review, on the report, the process, the preparation of parents and children and the
  quality of practice; collated monthly per team for the quality assurance liaison meeting.
  A conference report is on time when the family and chair had it 24 hours before an initial
  conference and 5 working days before a review conference (Appendix A, 6).
- **Service-user feedback**: the feedback form at the end of each meeting, consultation forms and
  questionnaires; from children, parents and carers, partner agencies and social workers.
- **Lessons learned from complaints and members' enquiries** (Appendix C) and **compliments**.

The entries are plain values here; the API's request bodies (``practice.schemas``) hold their
limits and descriptions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from shared.calendar import working_days_between

from ...common.errors import InvalidEntries
from ...common.roles import Role

#: Appendix A, 6: the initial conference report a minimum of 24 hours before, the review's 5 working days.
INITIAL_CONFERENCE_REPORT_DAYS = 1
REVIEW_CONFERENCE_REPORT_WORKING_DAYS = 5


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# --- monitoring forms ----------------------------------------------------------------------------


class MonitoringKind(StrEnum):
    INITIAL_CP_CONFERENCE = "initial_cp_conference"
    REVIEW_CP_CONFERENCE = "review_cp_conference"
    LOOKED_AFTER_REVIEW = "looked_after_review"
    CP_MIDPOINT_REVIEW = "cp_midpoint_review"
    LOOKED_AFTER_MIDPOINT_REVIEW = "looked_after_midpoint_review"

    @property
    def completed_by_role(self) -> str:
        """CP chairs for conferences, IROs for looked after reviews (and their mid-points)."""
        return Role.CP_CHAIR if self in _CP_KINDS else Role.IRO

    @property
    def midpoint(self) -> bool:
        return self in (MonitoringKind.CP_MIDPOINT_REVIEW, MonitoringKind.LOOKED_AFTER_MIDPOINT_REVIEW)


_CP_KINDS = frozenset({MonitoringKind.INITIAL_CP_CONFERENCE, MonitoringKind.REVIEW_CP_CONFERENCE, MonitoringKind.CP_MIDPOINT_REVIEW})


class Aspect(StrEnum):
    """What the form rates (4.3.2)."""

    REPORT = "report"
    PROCESS = "process"
    PARENTS_PREPARED = "parents_prepared"
    CHILDREN_PREPARED = "children_prepared"
    QUALITY_OF_PRACTICE = "quality_of_practice"


class Rating(StrEnum):
    GOOD = "good"
    ADEQUATE = "adequate"
    POOR = "poor"


@dataclass(frozen=True, kw_only=True)
class MonitoringEntries:
    kind: MonitoringKind
    case_id: str
    meeting_on: date
    #: When the chair had the social worker's report.
    report_received_on: date | None = None
    #: Aspects not rated are left out.
    ratings: dict[Aspect, Rating] = field(default_factory=dict)
    #: Mid-point reviews: is the CP plan or care plan progressing?
    plan_progressing: bool | None = None
    comments: str = ""


def report_on_time(kind: MonitoringKind, meeting_on: date, received_on: date | None) -> bool | None:
    """Whether a conference report came in time (None where the rule does not apply)."""
    if kind is MonitoringKind.INITIAL_CP_CONFERENCE:
        return received_on is not None and (meeting_on - received_on).days >= INITIAL_CONFERENCE_REPORT_DAYS
    if kind is MonitoringKind.REVIEW_CP_CONFERENCE:
        return received_on is not None and working_days_between(received_on, meeting_on) >= REVIEW_CONFERENCE_REPORT_WORKING_DAYS
    return None


def check_monitoring(entries: MonitoringEntries, *, author_roles: frozenset[str], today: date) -> None:
    errors = []
    if entries.kind.completed_by_role not in author_roles:
        who = "a CP chair" if entries.kind.completed_by_role == Role.CP_CHAIR else "an IRO"
        errors.append({"field": "kind", "message": f"a {entries.kind.value.replace('_', ' ')} form is completed by {who}"})
    if entries.meeting_on > today:
        errors.append({"field": "meeting_on", "message": "a form is completed after the meeting"})
    if entries.report_received_on and entries.report_received_on > entries.meeting_on:
        errors.append({"field": "report_received_on", "message": "recorded as received after the meeting: leave it out if there was none"})
    if entries.plan_progressing is not None and not entries.kind.midpoint:
        errors.append({"field": "plan_progressing", "message": "only a mid-point review records the plan's progress"})
    if errors:
        raise InvalidEntries("This monitoring form cannot be accepted.", errors)


@dataclass(frozen=True)
class FormFacts:
    """One monitoring form as the collation reads it."""

    form_id: str
    kind: str
    report_on_time: bool | None
    ratings: dict[str, str]
    plan_progressing: bool | None


@dataclass(frozen=True)
class Collation:
    """A team's monitoring forms of a month, for the monthly quality assurance liaison meeting."""

    team_id: str
    month: str
    forms: int
    by_kind: dict[str, int]
    reports_on_time: int
    reports_late: int
    ratings: dict[str, dict[str, int]]
    plans_not_progressing: int
    form_ids: list[str] = field(default_factory=list)


def collate(team_id: str, month: str, forms: list[FormFacts]) -> Collation:
    kinds = Counter(f.kind for f in forms)
    ratings = {a.value: {r.value: sum(f.ratings.get(a.value) == r.value for f in forms) for r in Rating} for a in Aspect}
    return Collation(
        team_id=team_id, month=month, forms=len(forms), by_kind={k.value: kinds.get(k.value, 0) for k in MonitoringKind},
        reports_on_time=sum(f.report_on_time is True for f in forms), reports_late=sum(f.report_on_time is False for f in forms),
        ratings=ratings, plans_not_progressing=sum(f.plan_progressing is False for f in forms), form_ids=sorted(f.form_id for f in forms),
    )


# --- service-user feedback ----------------------------------------------------------------------


class FeedbackKind(StrEnum):
    MEETING_FEEDBACK = "meeting_feedback"  # the form given at the end of each meeting
    CONSULTATION = "consultation"  # consultation forms before reviews and conferences; questionnaires


class Respondent(StrEnum):
    CHILD = "child"
    PARENT = "parent"  # parents and carers
    PARTNER_AGENCY = "partner_agency"
    SOCIAL_WORKER = "social_worker"


class View(StrEnum):
    POSITIVE = "positive"
    MIXED = "mixed"
    NEGATIVE = "negative"


@dataclass(frozen=True, kw_only=True)
class FeedbackEntries:
    kind: FeedbackKind
    respondent: Respondent
    team_id: str
    received_on: date
    #: The respondent's overall view of the service.
    view: View
    case_id: str | None = None
    comments: str = ""


# --- complaints, members' enquiries and compliments ---------------------------------------------


class ComplaintKind(StrEnum):
    COMPLAINT = "complaint"
    MEMBERS_ENQUIRY = "members_enquiry"


class Outcome(StrEnum):
    UPHELD = "upheld"
    PART_UPHELD = "part_upheld"
    NOT_UPHELD = "not_upheld"


class ActionTaken(StrEnum):
    APOLOGY = "apology"
    EXPLANATION = "explanation"
    PROVIDE_SERVICE = "provide_service"
    REVIEW_PROCEDURE = "review_procedure"
    REVIEW_POLICY = "review_policy"
    COMPENSATION = "compensation"


@dataclass(frozen=True, kw_only=True)
class ComplaintLessonsEntries:
    """Appendix C. The complainant's name stays with the complaints team: the reference finds it."""

    kind: ComplaintKind = ComplaintKind.COMPLAINT
    complaint_ref: str
    team_id: str
    date_responded: date
    #: Summary of the complaint / member's enquiry (the complaints team).
    summary: str
    outcome: Outcome
    actions_taken: list[ActionTaken] = field(default_factory=list)
    #: When compensation was paid: its cost.
    compensation_cost: float | None = None
    #: Action to improve service or performance, issues for service planning or development, changes to procedures.
    lessons_learned: str
    #: 4.5.2: the complaint's level (1, 2 or 3); a member's enquiry has none. None: not stated.
    level: int | None = None
    #: When the complaint was received: with ``date_responded``, whether it was resolved in a timely way.
    date_received: date | None = None


#: 4.5.2: "A log of the level 2 complaints and above is held".
LOGGED_FROM_LEVEL = 2
COMPLAINT_LEVELS = (1, 2, 3)


def check_complaint(entries: ComplaintLessonsEntries) -> None:
    errors = []
    if entries.level is not None and entries.kind is ComplaintKind.MEMBERS_ENQUIRY:
        errors.append({"field": "level", "message": "a member's enquiry has no complaint level"})
    elif entries.level is not None and entries.level not in COMPLAINT_LEVELS:
        errors.append({"field": "level", "message": "a complaint's level is 1, 2 or 3"})
    if entries.date_received is not None and entries.date_received > entries.date_responded:
        errors.append({"field": "date_received", "message": "the complaint was received before it was responded to"})
    if len(set(entries.actions_taken)) != len(entries.actions_taken):
        errors.append({"field": "actions_taken", "message": "each action is ticked once"})
    paid = ActionTaken.COMPENSATION in entries.actions_taken
    if paid and entries.compensation_cost is None:
        errors.append({"field": "compensation_cost", "message": "state the cost of the compensation"})
    if not paid and entries.compensation_cost is not None:
        errors.append({"field": "compensation_cost", "message": "a cost is stated only when compensation was paid"})
    if errors:
        raise InvalidEntries("This lessons learned form cannot be accepted.", errors)


@dataclass(frozen=True, kw_only=True)
class ComplimentEntries:
    team_id: str
    received_on: date
    respondent: Respondent
    #: The good practice or strength the compliment names.
    summary: str
    social_worker_id: str | None = None


#: The entries of a practice record (each stored with its team, month and who recorded it when).
Entries = MonitoringEntries | FeedbackEntries | ComplaintLessonsEntries | ComplimentEntries


# --- 4.5.2: the log of level 2 complaints and above, and the annual extract of learning ----------


def logged(record: dict[str, Any]) -> bool:
    """4.5.2: a complaint (not a member's enquiry) of level 2 or above."""
    level = record.get("level")
    return record.get("kind") == ComplaintKind.COMPLAINT.value and level is not None and level >= LOGGED_FROM_LEVEL


def complaints_log(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """4.5.2 "A log of the level 2 complaints and above is held to ensure that they are resolved in
    a timely way": each such complaint, oldest response first, with the days it took when the
    date received is known."""
    entries = []
    for r in sorted((r for r in records if logged(r)), key=lambda r: (str(r["date_responded"]), r["complaint_ref"])):
        received, responded = _day(r.get("date_received")), _day(r["date_responded"])
        entries.append({
            "record_id": r["_id"], "complaint_ref": r["complaint_ref"], "team_id": r["team_id"], "level": r["level"],
            "date_received": received, "date_responded": responded, "days_to_respond": (responded - received).days if received else None,
            "outcome": r["outcome"],
        })
    return entries


def lessons_extract(year: int, records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """4.5.2: the log "extracts learning from the report on an Annual basis identifying actions that
    need to be implemented within the service improvement plan": the lessons learned from the
    level 2 complaints and above responded to in ``year``, per team, with their outcomes and the
    actions taken."""
    chosen = [r for r in records if logged(r) and _day(r["date_responded"]).year == year]
    teams: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(chosen, key=lambda r: (r["team_id"], str(r["date_responded"]), r["complaint_ref"])):
        teams.setdefault(r["team_id"], []).append({
            "record_id": r["_id"], "complaint_ref": r["complaint_ref"], "level": r["level"], "outcome": r["outcome"],
            "actions_taken": list(r.get("actions_taken", [])), "lessons_learned": r["lessons_learned"],
        })
    return {
        "year": year,
        "complaints": len(chosen),
        "by_level": dict(sorted(Counter(str(r["level"]) for r in chosen).items())),
        "outcomes": dict(sorted(Counter(r["outcome"] for r in chosen).items())),
        "actions_taken": dict(sorted(Counter(a for r in chosen for a in r.get("actions_taken", [])).items())),
        "teams": [{"team_id": t, "lessons": lessons} for t, lessons in sorted(teams.items())],
    }


def _day(value: Any) -> Any:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
