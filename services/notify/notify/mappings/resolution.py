"""Resolution forms: a delegated section is a task for its delegate, over when the section is
finalised (done), retracted or recalled by a new delegation (cancelled).

Reader models of ``services/resolution/resolution/events.py`` (version 1), tolerant of fields
notify does not use.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict
from shared.consumer import ReceivedEvent
from shared.events import EventType

from ..domain.effects import CloseTasks, Effects, OpenTask
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, Origin, TaskStatus
from .base import Mapping, pure

PUBLISHER = "resolution"


class _Reader(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SectionDelegated(_Reader):
    form_id: str
    case_id: str
    stage: str
    stage_title: str | None = None
    delegate_id: str
    delegation_number: int | None = None
    delegated_by: str
    due_on: date | None = None
    recalled_delegate_id: str | None = None


class SectionFinalised(_Reader):
    form_id: str
    stage: str
    finalised_by: str | None = None


class SectionReactivated(_Reader):
    form_id: str
    case_id: str
    stage: str
    stage_title: str | None = None
    reactivated_by: str
    delegate_id: str | None = None
    due_on: date | None = None


class SectionRetracted(_Reader):
    form_id: str
    stage: str
    delegate_id: str | None = None
    retracted_by: str | None = None


SECTION_DELEGATED = EventType("resolution.section.delegated", 1, SectionDelegated, "A section was delegated.", PUBLISHER)
SECTION_FINALISED = EventType("resolution.section.finalised", 1, SectionFinalised, "A section was finalised.", PUBLISHER)
SECTION_REACTIVATED = EventType("resolution.section.reactivated", 1, SectionReactivated, "A section was reactivated.", PUBLISHER)
SECTION_RETRACTED = EventType("resolution.section.retracted", 1, SectionRetracted, "A section was retracted.", PUBLISHER)


def section_key(form_id: str, stage: str) -> str:
    return f"resolution:form/{form_id}:section/{stage}"


def _link(form_id: str, stage: str) -> Link:
    return Link("resolution", f"/forms/{form_id}/sections/{stage}")


def _section_task(form_id: str, case_id: str, stage: str, title: str | None, delegate_id: str, by: str, due_on: date | None, action: str) -> OpenTask:
    return OpenTask(
        assignee_id=delegate_id,
        kind=TaskKind.SECTION_DELEGATED,
        subject=f"Resolution {form_id}: {title or stage}",
        action=action,
        link=_link(form_id, stage),
        origin=Origin.PERSON,
        assigned_by=by,
        due_on=due_on,
        closes_on=section_key(form_id, stage),
        context={"form_id": form_id, "case_id": case_id, "stage": stage},
    )


def delegated(event: ReceivedEvent) -> Effects:
    d: SectionDelegated = event.data
    # Any open task for this section belonged to an earlier delegation, which this one replaces.
    return Effects(
        close=[CloseTasks(section_key(d.form_id, d.stage), TaskStatus.CANCELLED, "section recalled and delegated again", d.delegated_by)],
        open=[_section_task(d.form_id, d.case_id, d.stage, d.stage_title, d.delegate_id, d.delegated_by, d.due_on,
                            "Write and finalise the section delegated to you")],
    )


def finalised(event: ReceivedEvent) -> Effects:
    d: SectionFinalised = event.data
    return Effects(close=[CloseTasks(section_key(d.form_id, d.stage), TaskStatus.DONE, "section finalised", d.finalised_by)])


def reactivated(event: ReceivedEvent) -> Effects:
    d: SectionReactivated = event.data
    if d.delegate_id is None:
        return Effects()  # the owner holds the section again: nobody else has anything to do
    return Effects(open=[_section_task(d.form_id, d.case_id, d.stage, d.stage_title, d.delegate_id, d.reactivated_by, d.due_on,
                                       "The section was reactivated: revise it and finalise it again")])


def retracted(event: ReceivedEvent) -> Effects:
    d: SectionRetracted = event.data
    return Effects(close=[CloseTasks(section_key(d.form_id, d.stage), TaskStatus.CANCELLED, "section retracted by the owner", d.retracted_by)])


MAPPINGS = [
    Mapping(SECTION_DELEGATED, pure(delegated)),
    Mapping(SECTION_FINALISED, pure(finalised)),
    Mapping(SECTION_REACTIVATED, pure(reactivated)),
    Mapping(SECTION_RETRACTED, pure(retracted)),
]
