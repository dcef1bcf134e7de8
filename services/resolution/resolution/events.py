"""The integration events the resolution service publishes, and how each domain event maps to one.

They carry identifiers and facts, never a child's name or what anyone wrote (Caldecott
principle 3): a subscriber that needs the text reads the form through the API. Every event's
subject is ``form/<form id>``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field
from shared.directory_sync import applied_type
from shared.event_translation import Publishes, Translations
from shared.events import EventData, EventRegistry, EventType

from .domain import events as ev

PUBLISHER = "resolution"


class FormFacts(EventData):
    """What every event is about: the form and the child's case."""

    form_id: str
    case_id: str


class TeamFormFacts(FormFacts):
    """An event about a form, with the team that holds its case."""

    team_id: str
    """The id of the team that holds the child's case."""


class ResolutionRaised(FormFacts):
    case_type: str
    """The case's type code in the directory: CIN, CP or CIC."""
    team_id: str
    """The id of the team that holds the child's case."""
    owner_id: str
    """The person who raised the resolution and owns it (an IRO, a CP chair or an FGC coordinator)."""
    owner_role: str
    """The role the owner raised it as: iro, cp_chair or fgc_coordinator."""
    first_stage: str
    """The stage the resolution starts at (informal or stage-1 .. stage-5)."""
    theme_ids: list[str]
    """The ids of the themes (categories of concern) the form's concerns are filed under, e.g. care-planning."""
    raised_at: datetime
    stages: list[str] = Field(default_factory=list)
    """Every stage activated on raising, lowest first (one or more: "either one or more can be selected");
    first_stage is the lowest. Empty from publishers before several stages could be active at once."""


class CaseContactReported(FormFacts):
    """A team manager or allocated worker the directory lacks, entered on a form for the directory to record."""

    team_manager_id: str | None = None
    """The person id of the case's team manager as entered on the form; null when not entered."""
    allocated_worker_id: str | None = None
    """The person id of the case's allocated worker as entered on the form; null when not entered."""
    reported_by: str
    reported_at: datetime


class SectionDelegated(FormFacts):
    """Everything notify needs to put a task in the delegate's work tray."""

    stage: str
    stage_title: str
    delegate_id: str
    """The person the section is delegated to: the task goes to their work tray."""
    delegation_number: int
    delegated_by: str
    delegated_at: datetime
    due_on: date | None = None
    """The date the delegate is asked to finalise the section by; null when none was set."""
    recalled_delegate_id: str | None = None
    """The previous delegate when this re-delegates the section (their task is over)."""


class SectionFinalised(FormFacts):
    stage: str
    finalised_by: str
    delegate_id: str | None = None
    """The delegate who held the section; null when the owner held it."""
    delegation_number: int | None = None
    """The delegation that ended; null when the owner held the section."""
    finalised_at: datetime


class SectionReactivated(FormFacts):
    stage: str
    stage_title: str
    reactivated_by: str
    delegate_id: str | None = None
    """The delegate who takes the section up again (None when the owner held it)."""
    delegation_number: int | None = None
    due_on: date | None = None
    """The new date the section is due by; null when none was set."""
    reactivated_at: datetime


class SectionRetracted(FormFacts):
    stage: str
    delegate_id: str
    """The delegate whose task is cancelled."""
    delegation_number: int
    retracted_by: str
    retracted_at: datetime
    draft_kept: bool
    """The delegate's unfinalised draft stays with the section (true when there was one)."""


class StageEscalated(TeamFormFacts):
    from_stage: str
    """The stage it was not resolved at."""
    to_stage: str
    """The later stage it is escalated to (escalation only ever goes up)."""
    to_stage_title: str
    """The later stage's heading, e.g. 'Stage 2 (head of service)'."""
    escalated_by: str
    escalated_at: datetime


class StagesActivated(TeamFormFacts):
    """The owner activated further escalation stages at once; each has its own dates, section and resolution details."""

    stages: list[str]
    """The stages activated, lowest first (informal or stage-1 .. stage-5); each section is delegated on its own."""
    stage_titles: list[str]
    """Each activated stage's heading, in the same order, e.g. 'Stage 2 (head of service)'."""
    active_stages: list[str]
    """Every stage open on the form after this activation, lowest first (those activated earlier included)."""
    activated_by: str
    activated_at: datetime


class ResolutionResolved(TeamFormFacts):
    stage: str
    """The stage it was resolved at."""
    resolved_by: str
    resolved_at: datetime
    days_to_resolution: int
    """Days from raising the resolution to resolving it."""


class ResolutionClosedUnresolved(TeamFormFacts):
    stage: str
    """The stage it was closed at."""
    closed_by: str
    closed_at: datetime
    days_open: int
    """Days from raising the resolution to closing it."""
    closing_reason_id: str | None = None
    """The coded closing reason's id, e.g. moved-to-another-authority (the list at GET /v1/closing-reasons); null on forms closed before reasons were coded."""


RAISED = EventType("resolution.form.raised", 1, ResolutionRaised, "A resolution was raised about a child's case.", PUBLISHER)
CASE_CONTACT_REPORTED = EventType(
    "resolution.case-contact.reported", 1, CaseContactReported,
    "A team manager or allocated worker missing from the directory was entered on a resolution form.", PUBLISHER,
)
SECTION_DELEGATED = EventType(
    "resolution.section.delegated", 1, SectionDelegated, "A stage's section was delegated to a person (a task for their work tray).", PUBLISHER
)
SECTION_FINALISED = EventType(
    "resolution.section.finalised", 1, SectionFinalised, "A section was finalised and is read-only (the delegate's task is done).", PUBLISHER
)
SECTION_REACTIVATED = EventType(
    "resolution.section.reactivated", 1, SectionReactivated, "A finalised section was reactivated by the owner and can be edited again.", PUBLISHER
)
SECTION_RETRACTED = EventType(
    "resolution.section.retracted", 1, SectionRetracted,
    "The owner retracted an active delegated section (the delegate's task is cancelled; their draft is kept).", PUBLISHER,
)
STAGES_ACTIVATED = EventType(
    "resolution.stages.activated", 1, StagesActivated,
    "The owner activated one or more further escalation stages on an open resolution (several stages may be active at once).", PUBLISHER,
)
STAGE_ESCALATED = EventType(
    "resolution.stage.escalated", 1, StageEscalated, "A resolution not resolved at one stage was escalated to a later stage.", PUBLISHER
)
RESOLVED = EventType("resolution.form.resolved", 1, ResolutionResolved, "A resolution was resolved, with the impact for the child recorded.", PUBLISHER)
CLOSED_UNRESOLVED = EventType(
    "resolution.form.closed-unresolved", 1, ResolutionClosedUnresolved, "A resolution was closed unresolved, with a reason.", PUBLISHER
)

EVENTS = EventRegistry(
    [RAISED, CASE_CONTACT_REPORTED, SECTION_DELEGATED, SECTION_FINALISED, SECTION_REACTIVATED, SECTION_RETRACTED, STAGES_ACTIVATED, STAGE_ESCALATED, RESOLVED, CLOSED_UNRESOLVED]
)
EVENTS.register(applied_type(PUBLISHER))  # the directory sync signal (shared.directory_sync)


def _stage_title(event: ev.SectionEvent) -> str:
    return event.stage.title


#: Which integration event each domain event publishes: the form's ``form_id`` and ``case_id`` and
#: every other fact of the same name are carried as they are; ``by`` and ``at`` are named for the act.
TRANSLATIONS = Translations({
    ev.ResolutionRaised: Publishes(RAISED, {"by": "owner_id", "at": "raised_at"}),
    ev.CaseContactReported: Publishes(CASE_CONTACT_REPORTED, {"by": "reported_by", "at": "reported_at"}),
    ev.SectionDelegated: Publishes(SECTION_DELEGATED, {"by": "delegated_by", "at": "delegated_at"}, {"stage_title": _stage_title}),
    ev.SectionFinalised: Publishes(SECTION_FINALISED, {"by": "finalised_by", "at": "finalised_at"}),
    ev.SectionReactivated: Publishes(SECTION_REACTIVATED, {"by": "reactivated_by", "at": "reactivated_at"}, {"stage_title": _stage_title}),
    ev.SectionRetracted: Publishes(SECTION_RETRACTED, {"by": "retracted_by", "at": "retracted_at"}),
    ev.StagesActivated: Publishes(
        STAGES_ACTIVATED, {"by": "activated_by", "at": "activated_at"}, {"stage_titles": lambda e: [s.title for s in e.stages]}
    ),
    ev.StageEscalated: Publishes(STAGE_ESCALATED, {"by": "escalated_by", "at": "escalated_at"}, {"to_stage_title": lambda e: e.to_stage.title}),
    ev.ResolutionResolved: Publishes(RESOLVED, {"by": "resolved_by", "at": "resolved_at"}),
    ev.ResolutionClosedUnresolved: Publishes(CLOSED_UNRESOLVED, {"by": "closed_by", "at": "closed_at"}),
})


def integration_event(event: ev.DomainEvent) -> tuple[EventType, EventData]:
    """The published form of a domain event (every one of the form's is published)."""
    published = TRANSLATIONS(event)
    if published is None:
        raise TypeError(f"no integration event for {type(event).__name__}")
    return published
