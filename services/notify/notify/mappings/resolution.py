"""Resolution forms: a delegated section is a task for its delegate, over when the section is
finalised (done), retracted or recalled by a new delegation (cancelled).

Reader models of ``services/resolution/resolution/events.py`` (version 1), tolerant of fields
notify does not use.
"""

from __future__ import annotations

from datetime import date

from shared.consumer import ReceivedEvent

from ..domain.effects import CloseTasks, Effects, OpenTask
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, TaskStatus
from .base import Mapping, Reader, closes, event_of, pure, task

PUBLISHER = "resolution"


class _Section(Reader):
    """A section of a resolution form: the form and the section's stage."""

    form_id: str
    stage: str


class SectionDelegated(_Section):
    case_id: str
    stage_title: str | None = None
    delegate_id: str
    delegation_number: int | None = None
    delegated_by: str
    due_on: date | None = None
    recalled_delegate_id: str | None = None


class SectionFinalised(_Section):
    finalised_by: str | None = None


class SectionReactivated(_Section):
    case_id: str
    stage_title: str | None = None
    reactivated_by: str
    delegate_id: str | None = None
    due_on: date | None = None


class SectionRetracted(_Section):
    delegate_id: str | None = None
    retracted_by: str | None = None


SECTION_DELEGATED = event_of(PUBLISHER, "resolution.section.delegated", SectionDelegated, "A section was delegated.")
SECTION_FINALISED = event_of(PUBLISHER, "resolution.section.finalised", SectionFinalised, "A section was finalised.")
SECTION_REACTIVATED = event_of(PUBLISHER, "resolution.section.reactivated", SectionReactivated, "A section was reactivated.")
SECTION_RETRACTED = event_of(PUBLISHER, "resolution.section.retracted", SectionRetracted, "A section was retracted.")


def section_key(form_id: str, stage: str) -> str:
    return f"resolution:form/{form_id}:section/{stage}"


def _link(form_id: str, stage: str) -> Link:
    return Link("resolution", f"/forms/{form_id}/sections/{stage}")


def _section_task(form_id: str, case_id: str, stage: str, title: str | None, delegate_id: str, by: str, due_on: date | None, action: str) -> OpenTask:
    return task(
        delegate_id, TaskKind.SECTION_DELEGATED, subject=f"Resolution {form_id}: {title or stage}", action=action, link=_link(form_id, stage),
        assigned_by=by, due_on=due_on, closes_on=section_key(form_id, stage),
        context={"form_id": form_id, "case_id": case_id, "stage": stage}, email=None,
    )


def delegated(event: ReceivedEvent) -> Effects:
    d: SectionDelegated = event.data
    # Any open task for this section belonged to an earlier delegation, which this one replaces.
    return Effects(
        close=[CloseTasks(section_key(d.form_id, d.stage), TaskStatus.CANCELLED, "section recalled and delegated again", d.delegated_by)],
        open=[_section_task(d.form_id, d.case_id, d.stage, d.stage_title, d.delegate_id, d.delegated_by, d.due_on,
                            "Write and finalise the section delegated to you")],
    )


def reactivated(event: ReceivedEvent) -> Effects:
    d: SectionReactivated = event.data
    if d.delegate_id is None:
        return Effects()  # the owner holds the section again: nobody else has anything to do
    return Effects(open=[_section_task(d.form_id, d.case_id, d.stage, d.stage_title, d.delegate_id, d.reactivated_by, d.due_on,
                                       "The section was reactivated: revise it and finalise it again")])


MAPPINGS = [
    Mapping(SECTION_DELEGATED, pure(delegated)),
    closes(SECTION_FINALISED, lambda d: section_key(d.form_id, d.stage), "section finalised", by="finalised_by"),
    Mapping(SECTION_REACTIVATED, pure(reactivated)),
    closes(SECTION_RETRACTED, lambda d: section_key(d.form_id, d.stage), "section retracted by the owner", by="retracted_by",
           outcome=TaskStatus.CANCELLED),
]
