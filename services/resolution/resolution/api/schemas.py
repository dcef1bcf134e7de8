"""The HTTP shapes of the resolution API (requests in, responses out), kept apart from the
domain so either can change without forcing the other."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field
from shared.ids import IdField

from ..domain import FormStatus, NextStep, ResolutionForm, SectionState, Stage, Theme
from ..domain.section import MAX_RESPONSE, Delegation, DelegationStatus
from ..domain.values import MAX_CONCERNS, MAX_DETAIL, StageRecord

Ident: TypeAlias = IdField
RaiserRole = Literal["iro", "cp_chair", "fgc_coordinator"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- requests ----------------------------------------------------------------------------------


class ConcernIn(_In):
    theme_id: Ident = Field(description="A theme from GET /v1/themes")
    detail: str = Field(min_length=1, max_length=MAX_DETAIL)


class RaiseIn(_In):
    case_id: Ident = Field(description="The child's case id in the directory")
    concerns: list[ConcernIn] = Field(min_length=1, max_length=MAX_CONCERNS)
    raised_as: RaiserRole | None = Field(default=None, description="Needed only when the caller holds several raising roles")
    first_stage: Stage = Field(default=Stage.INFORMAL, description="The stage the resolution starts at (with stages: the lowest of them, or leave it out)")
    stages: list[Stage] | None = Field(
        default=None, min_length=1, max_length=len(Stage),
        description="Several stages active at once: every stage to activate on raising, each with its own dates, section and "
        "resolution details (seed 001: 'either one or more can be selected'). Leave out for one stage (first_stage).",
    )
    team_manager_id: Ident | None = Field(default=None, description="Only when the directory has no team manager for the case")
    allocated_worker_id: Ident | None = Field(default=None, description="Only when the directory has no allocated worker for the case")


class ActivateStagesIn(_In):
    stages: list[Stage] = Field(
        min_length=1, max_length=len(Stage),
        description="The further stages to activate at once, each named once; none may be active already or at or below a stage that has ended",
    )


class ContactsIn(_In):
    team_manager_id: Ident | None = None
    allocated_worker_id: Ident | None = None


class DatesIn(_In):
    raised_on: date
    response_due_on: date | None = None
    response_received_on: date | None = None


class DelegateIn(_In):
    delegate_id: Ident
    due_on: date | None = Field(default=None, description="Defaults to the stage's response-due date")


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(max_length=MAX_RESPONSE, description="The section's response, as written so far")


class RetractIn(_In):
    reason: str = Field(min_length=1, max_length=500)
    note: str = Field(min_length=1, max_length=MAX_DETAIL)


class ResolutionIn(_In):
    resolved: bool
    impact: str | None = Field(default=None, max_length=MAX_DETAIL, description="Required when resolved: the impact for the child")
    next_step: NextStep | None = Field(default=None, description="Required when not resolved")
    escalate_to: Stage | None = Field(default=None, description="With next_step escalate: a later stage (default the next)")
    close_reason: str | None = Field(default=None, max_length=MAX_DETAIL, description="With next_step close-unresolved: a note on the closing reason (optional)")
    closing_reason_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Required with next_step close-unresolved: a current closing reason's id (GET /v1/closing-reasons)",
    )


class ThemeIn(_In):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)


class ThemePatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    active: bool | None = None


# --- responses ---------------------------------------------------------------------------------


class ContactsOut(BaseModel):
    allocated_worker_id: str | None
    team_manager_id: str | None
    allocated_worker_from_form: bool
    team_manager_from_form: bool


class ConcernOut(BaseModel):
    number: int
    theme_id: str
    detail: str
    added_by: str
    added_at: datetime


class DelegationOut(BaseModel):
    number: int
    delegate_id: str
    delegated_by: str
    delegated_at: datetime
    due_on: date | None
    status: DelegationStatus
    ended_by: str | None
    ended_at: datetime | None
    retract_reason: str | None
    retract_note: str | None


class SectionOut(BaseModel):
    state: SectionState
    response: str = Field(description="The latest text saved, whoever saved it; retracting keeps it")
    delegate_id: str | None
    updated_by: str | None
    updated_at: datetime | None
    finalised_by: str | None
    finalised_at: datetime | None
    delegations: list[DelegationOut]


class DatesOut(BaseModel):
    raised_on: date | None
    response_due_on: date | None
    response_received_on: date | None


class ResolutionOut(BaseModel):
    resolved: bool
    recorded_by: str
    recorded_at: datetime
    impact: str | None
    next_step: NextStep | None
    escalated_to: Stage | None
    close_reason: str | None
    closing_reason_id: str | None


class StageOut(BaseModel):
    stage: Stage
    title: str
    responder: str
    recorded_by_owner: bool
    activated_by: str
    activated_at: datetime
    dates: DatesOut
    section: SectionOut
    resolution: ResolutionOut | None
    active: bool = Field(description="Open now: activated, its resolution details not yet recorded, the form not finished")


class FormOut(BaseModel):
    id: str
    version: int
    case_id: str
    case_type: str
    team_id: str
    contacts: ContactsOut
    owner_id: str
    owner_role: str
    raised_at: datetime
    status: FormStatus = Field(description="open, escalated, resolved or closed-unresolved")
    current_stage: Stage = Field(description="The highest stage activated: the level of escalation reached")
    current_stage_title: str
    active_stages: list[Stage] = Field(description="Every stage open now, lowest first (several can be active at once); empty once finished")
    concerns: list[ConcernOut]
    stages: list[StageOut]
    finished_at: datetime | None
    updated_by: str
    updated_at: datetime


class FormSummary(BaseModel):
    id: str
    version: int
    case_id: str
    team_id: str
    owner_id: str
    owner_role: str
    raised_at: datetime
    status: FormStatus
    current_stage: Stage
    theme_ids: list[str]
    active_stages: list[Stage] = Field(description="Every stage open now, lowest first; empty once finished")


class HistoryOut(BaseModel):
    version: int
    action: str
    part: str
    stage: Stage | None
    by: str
    at: datetime
    details: dict[str, Any]


class ThemeOut(BaseModel):
    id: str
    version: int
    name: str
    description: str
    active: bool
    updated_by: str
    updated_at: datetime


# --- conversions -------------------------------------------------------------------------------


def _delegation(d: Delegation) -> DelegationOut:
    return DelegationOut(
        number=d.number, delegate_id=d.delegate_id, delegated_by=d.delegated_by, delegated_at=d.delegated_at, due_on=d.due_on,
        status=d.status, ended_by=d.ended_by, ended_at=d.ended_at, retract_reason=d.retract_reason, retract_note=d.retract_note,
    )


def _stage(r: StageRecord, active: bool) -> StageOut:
    s, res = r.section, r.resolution
    return StageOut(
        stage=r.stage, title=r.stage.title, responder=r.stage.responder, recorded_by_owner=r.stage.recorded_by_owner,
        activated_by=r.activated_by, activated_at=r.activated_at,
        dates=DatesOut(raised_on=r.dates.raised_on, response_due_on=r.dates.response_due_on, response_received_on=r.dates.response_received_on),
        section=SectionOut(
            state=s.state, response=s.response, delegate_id=s.delegate_id, updated_by=s.updated_by, updated_at=s.updated_at,
            finalised_by=s.finalised_by, finalised_at=s.finalised_at, delegations=[_delegation(d) for d in s.delegations],
        ),
        resolution=None if res is None else ResolutionOut(
            resolved=res.resolved, recorded_by=res.recorded_by, recorded_at=res.recorded_at, impact=res.impact,
            next_step=res.next_step, escalated_to=res.escalated_to, close_reason=res.close_reason,
            closing_reason_id=res.closing_reason_id,
        ),
        active=active,
    )


def form_out(form: ResolutionForm) -> FormOut:
    c = form.contacts
    return FormOut(
        id=form.id, version=form.version, case_id=form.case_id, case_type=form.case_type, team_id=form.team_id,
        contacts=ContactsOut(
            allocated_worker_id=c.allocated_worker_id, team_manager_id=c.team_manager_id,
            allocated_worker_from_form=c.allocated_worker_from_form, team_manager_from_form=c.team_manager_from_form,
        ),
        owner_id=form.owner_id, owner_role=form.owner_role, raised_at=form.raised_at, status=form.status,
        current_stage=form.current_stage, current_stage_title=form.current_stage.title, active_stages=form.active_stages,
        concerns=[ConcernOut(number=x.number, theme_id=x.theme_id, detail=x.detail, added_by=x.added_by, added_at=x.added_at) for x in form.concerns],
        stages=[_stage(r, r.stage in form.active_stages) for r in form.stages], finished_at=form.finished_at, updated_by=form.updated_by, updated_at=form.updated_at,
    )


def form_summary(doc: dict[str, Any]) -> FormSummary:
    return FormSummary(
        id=doc["_id"], version=doc["version"], case_id=doc["case_id"], team_id=doc["team_id"], owner_id=doc["owner_id"],
        owner_role=doc["owner_role"], raised_at=doc["raised_at"], status=doc["status"], current_stage=doc["current_stage"],
        theme_ids=doc["theme_ids"], active_stages=_active_stages(doc),
    )


def _active_stages(doc: dict[str, Any]) -> list[Stage]:
    """The open stages of a stored form (derived here too, so forms stored before it was kept read alike)."""
    if FormStatus(doc["status"]).finished:
        return []
    return sorted((Stage(s["stage"]) for s in doc["stages"] if s.get("resolution") is None), key=lambda s: s.rank)


def theme_out(theme: Theme) -> ThemeOut:
    return ThemeOut(
        id=theme.id, version=theme.version, name=theme.name, description=theme.description, active=theme.active,
        updated_by=theme.updated_by, updated_at=theme.updated_at,
    )
