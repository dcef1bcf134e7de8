"""Request and response bodies of the practice records' API that carry a record's entries: their
limits and descriptions (the OpenAPI document). The rules read the same entries as plain values
(``domain.observation``, ``domain.records``); ``to_domain`` turns a body into them."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from ..common.schemas import InputModel
from .domain.observation import Situation
from .domain.records import ActionTaken, Aspect, ComplaintKind, FeedbackKind, MonitoringKind, Outcome, Rating, Respondent, View

Text = Field(min_length=1, max_length=8000)


# --- practice observation -----------------------------------------------------------------------

class Plan(InputModel):
    situation: Situation
    planned_on: date
    case_id: str | None = Field(default=None, max_length=64, description="The child's case, when the session is about one")
    observer_focus: str = Field(min_length=1, max_length=4000, description="The aspects of practice the observer expects to observe")
    written_consent_on: date | None = Field(default=None, description="When the service user gave written agreement to the observation")


class Agreement(InputModel):
    aims: str = Field(min_length=1, max_length=4000, description="The social worker's aims of the session")
    standards: str = Field(min_length=1, max_length=4000, description="The practice standards they hope to meet")


class Report(InputModel):
    """The observer's report, under the appendix's headings."""

    observed_on: date
    verbal_consent_confirmed: bool = Field(description="The service user confirmed their agreement verbally on the day")
    written_consent_on: date | None = Field(default=None, description="When not recorded with the plan")
    situation: str = Text
    aim_of_intervention: str = Text
    those_present: str = Text
    standards_observed: str = Field(min_length=1, max_length=8000, description="Agreed standards/competencies to be observed")
    feedback_and_evidence: str = Field(min_length=1, max_length=8000, description="Knowledge, skills and values evidencing how the standards were met")
    positive_aspects: str = Text
    areas_for_development: str = Text
    reflection: str = Field(min_length=1, max_length=8000, description="The social worker's ability to reflect on their practice, as discussed after the session")
    designation: str = Field(min_length=1, max_length=200, description="e.g. Supervisor / line manager")


class Reflection(InputModel):
    """The social worker's reflection on the direct observation."""

    achieved_aims: str = Text
    did_well: str = Text
    could_improve: str = Text
    how_to_improve: str = Text
    unexpected_problems: str = Field(default="", max_length=8000)
    other_comments: str = Field(default="", max_length=8000)


# --- monitoring forms, feedback, complaints, compliments -------------------------------------------


class MonitoringEntries(InputModel):
    kind: MonitoringKind
    case_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    meeting_on: date
    report_received_on: date | None = Field(default=None, description="When the chair had the social worker's report")
    ratings: dict[Aspect, Rating] = Field(default_factory=dict, description="Aspects not rated are left out")
    plan_progressing: bool | None = Field(default=None, description="Mid-point reviews: is the CP plan or care plan progressing?")
    comments: str = Field(default="", max_length=8000)


class FeedbackEntries(InputModel):
    kind: FeedbackKind
    respondent: Respondent
    team_id: str = Field(min_length=1, max_length=64)
    received_on: date
    view: View = Field(description="The respondent's overall view of the service")
    case_id: str | None = Field(default=None, max_length=64)
    comments: str = Field(default="", max_length=8000)


class ComplaintLessonsEntries(InputModel):
    """Appendix C. The complainant's name stays with the complaints team: the reference finds it."""

    kind: ComplaintKind = ComplaintKind.COMPLAINT
    complaint_ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9/_.-]+$")
    team_id: str = Field(min_length=1, max_length=64)
    date_responded: date
    summary: str = Field(min_length=1, max_length=8000, description="Summary of the complaint / member's enquiry (the complaints team)")
    outcome: Outcome
    actions_taken: list[ActionTaken] = Field(default_factory=list, max_length=6)
    compensation_cost: float | None = Field(default=None, ge=0, description="When compensation was paid: its cost")
    lessons_learned: str = Field(
        min_length=1, max_length=8000,
        description="Action to improve service or performance, issues for service planning or development, changes to procedures",
    )
    level: int | None = Field(default=None, ge=1, le=3, description="The complaint's level (1, 2 or 3; none for a member's enquiry): level 2 and above are logged (4.5.2)")
    date_received: date | None = Field(default=None, description="When the complaint was received (the log shows how long the response took)")


class ComplimentEntries(InputModel):
    team_id: str = Field(min_length=1, max_length=64)
    received_on: date
    respondent: Respondent
    summary: str = Field(min_length=1, max_length=4000, description="The good practice or strength the compliment names")
    social_worker_id: str | None = Field(default=None, max_length=64)
