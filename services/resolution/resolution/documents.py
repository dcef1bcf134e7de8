"""How a resolution form and a theme are stored: the aggregate to its MongoDB document and back.

Besides the aggregate's own fields a form document carries a few derived fields that the lists
and the real-time reports query by index (participants, theme ids, current stage, the days
each stage took); they are recomputed on every save, so they never drift from the form.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from shared.calendar import local_date

from .domain import (
    CaseContacts,
    Concern,
    Delegation,
    DelegationStatus,
    FormStatus,
    NextStep,
    ResolutionForm,
    Section,
    SectionState,
    Stage,
    StageDates,
    StageRecord,
    StageResolution,
    Theme,
)
from .domain.closing_reasons import ClosingReason

#: A theme or a closing reason (a closing reason is kept like a theme).
Listed = TypeVar("Listed", bound=Theme)

Doc = dict[str, Any]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _undate(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _delegation_doc(d: Delegation) -> Doc:
    return {
        "number": d.number, "delegate_id": d.delegate_id, "delegated_by": d.delegated_by, "delegated_at": d.delegated_at,
        "due_on": _day(d.due_on), "status": d.status.value, "ended_by": d.ended_by, "ended_at": d.ended_at,
        "retract_reason": d.retract_reason, "retract_note": d.retract_note,
    }


def _delegation(doc: Doc) -> Delegation:
    return Delegation(
        doc["number"], doc["delegate_id"], doc["delegated_by"], doc["delegated_at"], _undate(doc["due_on"]),
        DelegationStatus(doc["status"]), doc["ended_by"], doc["ended_at"], doc["retract_reason"], doc["retract_note"],
    )


def _stage_doc(r: StageRecord) -> Doc:
    s = r.section
    res = r.resolution
    return {
        "stage": r.stage.value,
        "activated_by": r.activated_by,
        "activated_at": r.activated_at,
        "dates": {"raised_on": _day(r.dates.raised_on), "response_due_on": _day(r.dates.response_due_on),
                  "response_received_on": _day(r.dates.response_received_on)},
        "section": {
            "state": s.state.value, "response": s.response, "updated_by": s.updated_by, "updated_at": s.updated_at,
            "finalised_by": s.finalised_by, "finalised_at": s.finalised_at, "delegations": [_delegation_doc(d) for d in s.delegations],
        },
        "resolution": None if res is None else {
            "resolved": res.resolved, "recorded_by": res.recorded_by, "recorded_at": res.recorded_at, "impact": res.impact,
            "next_step": res.next_step.value if res.next_step else None,
            "escalated_to": res.escalated_to.value if res.escalated_to else None, "close_reason": res.close_reason,
            "closing_reason_id": res.closing_reason_id,
        },
    }


def _stage(doc: Doc) -> StageRecord:
    s, res, dates = doc["section"], doc["resolution"], doc["dates"]
    section = Section(
        SectionState(s["state"]), s["response"], s["updated_by"], s["updated_at"], s["finalised_by"], s["finalised_at"],
        [_delegation(d) for d in s["delegations"]],
    )
    resolution = None if res is None else StageResolution(
        res["resolved"], res["recorded_by"], res["recorded_at"], res["impact"],
        NextStep(res["next_step"]) if res["next_step"] else None,
        Stage(res["escalated_to"]) if res["escalated_to"] else None, res["close_reason"], res.get("closing_reason_id"),
    )
    return StageRecord(
        Stage(doc["stage"]), doc["activated_by"], doc["activated_at"],
        StageDates(_undate(dates["raised_on"]), _undate(dates["response_due_on"]), _undate(dates["response_received_on"])),
        section, resolution,
    )


def raised_day(raised_at: datetime) -> dict[str, str]:
    """A form's ``raised_on`` and ``raised_month``: the day and month in England it was raised."""
    day = local_date(raised_at).isoformat()
    return {"raised_on": day, "raised_month": day[:7]}


def form_document(form: ResolutionForm) -> Doc:
    resolved_stage = next((r for r in form.stages if r.resolution and r.resolution.resolved), None)
    return {
        "_id": form.id,
        "version": form.version,
        "case_id": form.case_id,
        "case_type": form.case_type,
        "team_id": form.team_id,
        "contacts": {
            "allocated_worker_id": form.contacts.allocated_worker_id, "team_manager_id": form.contacts.team_manager_id,
            "allocated_worker_from_form": form.contacts.allocated_worker_from_form, "team_manager_from_form": form.contacts.team_manager_from_form,
        },
        "owner_id": form.owner_id,
        "owner_role": form.owner_role,
        "raised_at": form.raised_at,
        "concerns": [
            {"number": c.number, "theme_id": c.theme_id, "detail": c.detail, "added_by": c.added_by, "added_at": c.added_at}
            for c in form.concerns
        ],
        "stages": [_stage_doc(r) for r in form.stages],
        "status": form.status.value,
        "updated_by": form.updated_by,
        "updated_at": form.updated_at,
        "finished_at": form.finished_at,
        # Derived, for indexed lists and reports.
        "participants": form.participants,
        "theme_ids": sorted({c.theme_id for c in form.concerns}),
        # The day in England it was raised: the reports file it under that day and month.
        **raised_day(form.raised_at),
        # How it ended: the coded closing reason of a form closed unresolved (for the reports).
        "closing_reason_id": next((r.resolution.closing_reason_id for r in form.stages if r.resolution and r.resolution.closing_reason_id), None),
        "current_stage": form.current_stage.value,
        "active_stages": [s.value for s in form.active_stages],
        "stage_rank": form.current_stage.rank,
        "report": {
            "days_to_finish": form.days_to_finish(),
            "stage_days": form.stage_durations(),
            "impact_recorded": resolved_stage is not None,
        },
    }


def form_from_document(doc: Doc) -> ResolutionForm:
    c = doc["contacts"]
    return ResolutionForm(
        id=doc["_id"],
        case_id=doc["case_id"],
        case_type=doc["case_type"],
        team_id=doc["team_id"],
        contacts=CaseContacts(c["allocated_worker_id"], c["team_manager_id"], c["allocated_worker_from_form"], c["team_manager_from_form"]),
        owner_id=doc["owner_id"],
        owner_role=doc["owner_role"],
        raised_at=doc["raised_at"],
        concerns=[Concern(x["number"], x["theme_id"], x["detail"], x["added_by"], x["added_at"]) for x in doc["concerns"]],
        stages=[_stage(s) for s in doc["stages"]],
        status=FormStatus(doc["status"]),
        version=doc["version"],
        updated_by=doc["updated_by"],
        updated_at=doc["updated_at"],
        finished_at=doc["finished_at"],
    )


def theme_document(theme: Theme) -> Doc:
    return {
        "_id": theme.id, "key": theme.key, "name": theme.name, "description": theme.description, "active": theme.active,
        "version": theme.version, "created_by": theme.created_by, "created_at": theme.created_at,
        "updated_by": theme.updated_by, "updated_at": theme.updated_at,
    }


def _listed_from_document(kind: type[Listed], doc: Doc) -> Listed:
    """A theme, or an item of another list kept like themes (a closing reason), from its document."""
    return kind(
        doc["_id"], doc["name"], doc["description"], doc["active"], doc["version"], doc["created_by"], doc["created_at"],
        doc["updated_by"], doc["updated_at"],
    )


def theme_from_document(doc: Doc) -> Theme:
    return _listed_from_document(Theme, doc)


def closing_reason_from_document(doc: Doc) -> ClosingReason:
    return _listed_from_document(ClosingReason, doc)
