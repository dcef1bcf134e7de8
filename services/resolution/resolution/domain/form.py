"""The resolution form aggregate: a concern about a child's plan raised by an IRO, CP chair or
FGC coordinator (the owner), taken through as many escalation stages as it needs.

Every method checks who is acting and whether the form's state allows it, changes the form,
bumps its version (the ETag), appends a history entry and records the domain events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.calendar import local_date

from . import events as ev
from .contacts import check_person_fits, enter_missing_contacts
from .errors import InvalidInput, NotAllowed, RuleConflict
from .figures import stage_durations
from .roles import OVERSIGHT_ROLES, RAISER_ROLES
from .section import SectionState
from .stages import Stage
from .themes import Theme
from .values import (
    MAX_CONCERNS,
    MAX_DETAIL,
    CaseContacts,
    CaseSnapshot,
    Concern,
    FormStatus,
    NextStep,
    PersonRef,
    StageDates,
    StageRecord,
    StageResolution,
)


def _days_between(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end``, counted in days in England (as every date here is)."""
    return (local_date(end) - local_date(start)).days


def _text(value: str | None, what: str, limit: int = MAX_DETAIL) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(f"{what} must be given.")
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} is at most {limit} characters.")
    return cleaned


def _concern(number: int, theme: Theme, detail: str, by: str, at: datetime) -> Concern:
    if not theme.active:
        raise InvalidInput(f"The theme {theme.id!r} is retired: choose a current theme.")
    return Concern(number, theme.id, _text(detail, "A concern's detail"), by, at)


@dataclass
class ResolutionForm:
    id: str
    case_id: str
    case_type: str
    team_id: str
    contacts: CaseContacts
    owner_id: str
    owner_role: str
    raised_at: datetime
    concerns: list[Concern]
    stages: list[StageRecord]
    status: FormStatus
    version: int
    updated_by: str
    updated_at: datetime
    finished_at: datetime | None = None
    events: list[ev.DomainEvent] = field(default_factory=list, repr=False, compare=False)
    history: list[ev.HistoryEntry] = field(default_factory=list, repr=False, compare=False)

    # --- raising -----------------------------------------------------------------------------

    @classmethod
    def raise_form(
        cls,
        form_id: str,
        *,
        case: CaseSnapshot,
        by: str,
        roles: frozenset[str],
        at: datetime,
        concerns: list[tuple[Theme, str]],
        raised_as: str | None = None,
        first_stage: Stage | None = None,
        team_manager: PersonRef | None = None,
        allocated_worker: PersonRef | None = None,
        stages: Sequence[Stage] | None = None,
    ) -> ResolutionForm:
        """Raise the form at ``first_stage`` (Informal by default), or at once at every stage in
        ``stages`` ("either one or more can be selected"); ``first_stage`` is then the lowest of them."""
        held = roles & RAISER_ROLES
        if not held:
            raise NotAllowed("A resolution is raised by an IRO, a CP chair or an FGC coordinator.")
        if raised_as is None:
            if len(held) > 1:
                raise InvalidInput(f"You hold several raising roles ({', '.join(sorted(held))}): say which one with raised_as.")
            raised_as = next(iter(held))
        elif raised_as not in held:
            raise NotAllowed(f"You do not hold the role {raised_as!r}; you can raise as {', '.join(sorted(held))}.")
        if case.status != "open":
            raise RuleConflict(f"The case {case.case_id} is {case.status}: a resolution is raised about a child receiving a service.", slug="case-closed")
        if not concerns:
            raise InvalidInput("Raise at least one concern.")
        if len(concerns) > MAX_CONCERNS:
            raise InvalidInput(f"A form holds at most {MAX_CONCERNS} concerns.")
        selected = _selected_stages(stages if stages is not None else [first_stage or Stage.INFORMAL])
        if first_stage is not None and first_stage is not selected[0]:
            raise InvalidInput(f"first_stage is the lowest of the stages selected ({selected[0].value}), not {first_stage.value}.")
        first_stage = selected[0]
        form = cls(
            id=form_id,
            case_id=case.case_id,
            case_type=case.case_type,
            team_id=case.team_id,
            contacts=CaseContacts(case.allocated_worker_id, case.team_manager_id),
            owner_id=by,
            owner_role=raised_as,
            raised_at=at,
            concerns=[_concern(i, theme, detail, by, at) for i, (theme, detail) in enumerate(concerns, start=1)],
            stages=[StageRecord(stage, by, at, StageDates(raised_on=local_date(at))) for stage in selected],
            status=FormStatus.OPEN,
            version=0,
            updated_by=by,
            updated_at=at,
        )
        reported: dict[str, Any] = enter_missing_contacts(form.contacts, team_manager=team_manager, allocated_worker=allocated_worker)
        several: dict[str, Any] = {"stages": [s.value for s in selected]} if len(selected) > 1 else {}
        form._changed("raised", "form", by, at, first_stage=first_stage.value, **several, **reported)
        form.events.append(
            ev.ResolutionRaised(
                form.id, form.case_id, by, at, form.case_type, form.team_id, raised_as, first_stage,
                tuple(dict.fromkeys(c.theme_id for c in form.concerns)), tuple(selected),
            )
        )
        if reported:
            form.events.append(ev.CaseContactReported(form.id, form.case_id, by, at, reported.get("team_manager_id"), reported.get("allocated_worker_id")))
        return form

    # --- who may do what ---------------------------------------------------------------------

    @property
    def participants(self) -> list[str]:
        """The owner and everyone a section was ever delegated to: they may read the form."""
        people = [self.owner_id]
        for record in self.stages:
            people.extend(d.delegate_id for d in record.section.delegations)
        return list(dict.fromkeys(people))

    def can_read(self, person_id: str, roles: frozenset[str]) -> bool:
        return person_id in self.participants or not roles.isdisjoint(OVERSIGHT_ROLES)

    def _owner_only(self, by: str, what: str) -> None:
        if by != self.owner_id:
            raise NotAllowed(f"Only the owner of the form ({self.owner_id}) may {what}.")

    def _still_open(self) -> None:
        if self.status.finished:
            raise RuleConflict(f"The form is {self.status.value}: it can no longer be changed.", slug="form-finished")

    @property
    def current(self) -> StageRecord:
        """The highest stage activated: the level of escalation the form has reached."""
        return max(self.stages, key=lambda r: r.stage.rank)

    @property
    def current_stage(self) -> Stage:
        return self.current.stage

    @property
    def active_stages(self) -> list[Stage]:
        """The stages open now (activated, resolution details not yet recorded), lowest first;
        none once the form is resolved or closed."""
        if self.status.finished:
            return []
        return [r.stage for r in self.stages if r.resolution is None]

    def stage(self, stage: Stage) -> StageRecord:
        for record in self.stages:
            if record.stage is stage:
                return record
        raise RuleConflict(f"{stage.title} has not been activated on this form.", slug="stage-not-active")

    def _current_record(self, stage: Stage) -> StageRecord:
        """The record of ``stage`` if it is still open: each active stage is worked on by itself."""
        record = self.stage(stage)
        if record.resolution is not None:
            now = ", ".join(s.title for s in self.active_stages) or "none"
            raise RuleConflict(
                f"{stage.title} is over: its resolution details are recorded (stages open now: {now}).", slug="stage-over"
            )
        return record

    # --- activating stages ---------------------------------------------------------------------

    def activate_stages(self, stages: Sequence[Stage], *, by: str, at: datetime) -> list[Stage]:
        """Activate one or more further stages at once, each with its own dates, section and
        resolution details (seed 001: "either one or more can be selected depending on how many
        levels of escalation are required"). Refused, changing nothing, for a stage already on the
        form or one at or below a stage whose resolution details are recorded."""
        self._owner_only(by, "activate escalation stages")
        self._still_open()
        selected = _selected_stages(stages)
        for stage in selected:
            for record in self.stages:
                if record.stage is stage and record.resolution is None:
                    raise RuleConflict(f"{stage.title} is already active on this form.", slug="stage-already-active")
                if record.resolution is not None and stage.rank <= record.stage.rank:
                    raise RuleConflict(
                        f"{stage.title} cannot be activated: {record.stage.title} has its resolution details recorded "
                        "and a form's stages only go up from a stage that has ended.",
                        slug="stage-passed",
                    )
        for stage in selected:
            self._add_stage(stage, by, at)
        self.status = FormStatus.ESCALATED
        self._changed("stages-activated", "form", by, at, stages=[s.value for s in selected])
        self.events.append(ev.StagesActivated(self.id, self.case_id, by, at, self.team_id, tuple(selected), tuple(self.active_stages)))
        return selected

    def _add_stage(self, stage: Stage, by: str, at: datetime) -> StageRecord:
        record = StageRecord(stage, by, at, StageDates(raised_on=local_date(at)))
        self.stages.append(record)
        self.stages.sort(key=lambda r: r.stage.rank)
        return record

    # --- the owner's parts of the form --------------------------------------------------------

    def add_concern(self, theme: Theme, detail: str, *, by: str, at: datetime) -> Concern:
        self._owner_only(by, "add a concern")
        self._still_open()
        if len(self.concerns) >= MAX_CONCERNS:
            raise RuleConflict(f"A form holds at most {MAX_CONCERNS} concerns.", slug="too-many-concerns")
        concern = _concern(len(self.concerns) + 1, theme, detail, by, at)
        self.concerns.append(concern)
        self._changed("concern-added", "form", by, at, number=concern.number, theme_id=theme.id, detail=concern.detail)
        return concern

    def report_case_contacts(self, *, by: str, at: datetime, team_manager: PersonRef | None = None, allocated_worker: PersonRef | None = None) -> None:
        self._owner_only(by, "record the case's team manager or allocated worker")
        self._still_open()
        if team_manager is None and allocated_worker is None:
            raise InvalidInput("Give the team manager, the allocated worker, or both.")
        reported: dict[str, Any] = enter_missing_contacts(self.contacts, team_manager=team_manager, allocated_worker=allocated_worker)
        if not reported:
            return  # what the form already says: no new version, no event
        self._changed("case-contact-reported", "form", by, at, **reported)
        self.events.append(ev.CaseContactReported(self.id, self.case_id, by, at, reported.get("team_manager_id"), reported.get("allocated_worker_id")))

    def record_stage_dates(self, stage: Stage, dates: StageDates, *, by: str, at: datetime) -> None:
        self._owner_only(by, "record a stage's dates")
        self._still_open()
        record = self.stage(stage)
        if dates.raised_on is None:
            raise InvalidInput("The date the stage was raised must be given.")
        for later, what in ((dates.response_due_on, "response due"), (dates.response_received_on, "response received")):
            if later is not None and later < dates.raised_on:
                raise InvalidInput(f"The {what} date cannot be before the date the stage was raised.")
        if dates.response_received_on is not None and dates.response_received_on > local_date(at):
            raise InvalidInput("A response cannot be recorded as received in the future.")
        if dates.raised_on > local_date(at):
            raise InvalidInput("A stage cannot be recorded as raised in the future.")
        record.dates = dates
        self._changed(
            "stage-dates-recorded", "stage", by, at, stage,
            raised_on=str(dates.raised_on), response_due_on=_iso(dates.response_due_on), response_received_on=_iso(dates.response_received_on),
        )

    # --- delegated sections -------------------------------------------------------------------

    def delegate_section(self, stage: Stage, delegate: PersonRef, *, by: str, at: datetime, due_on: date | None = None) -> None:
        self._owner_only(by, "delegate a section")
        self._still_open()
        record = self._current_record(stage)
        if stage.recorded_by_owner:
            raise RuleConflict(
                f"{stage.title}'s response is recorded by the owner on CAFCASS's behalf; it is not delegated.", slug="recorded-by-owner"
            )
        if delegate.person_id == self.owner_id:
            raise InvalidInput("A section is delegated to someone else; the owner writes an undelegated section directly.")
        check_person_fits(delegate, stage.responder_roles, f"responder at {stage.title}")
        due = due_on or record.dates.response_due_on
        delegation, recalled = record.section.delegate(delegate.person_id, by=by, at=at, due_on=due)
        self._changed(
            "section-delegated", "section", by, at, stage,
            delegate_id=delegate.person_id, delegation_number=delegation.number, due_on=_iso(due), recalled_delegate_id=recalled,
        )
        self.events.append(ev.SectionDelegated(self.id, self.case_id, by, at, stage, delegate.person_id, delegation.number, due, recalled))

    def save_section(self, stage: Stage, text: str, *, by: str, at: datetime) -> None:
        self._writable_section(stage, by)
        section = self.stage(stage).section
        section.save(text, by=by, owner_id=self.owner_id, at=at)
        self._changed("section-draft-saved", "section", by, at, stage, response=section.response, delegation_number=_number(section))

    def finalise_section(self, stage: Stage, *, by: str, at: datetime) -> None:
        self._writable_section(stage, by)
        section = self.stage(stage).section
        delegation = section.current_delegation
        section.finalise(by=by, owner_id=self.owner_id, at=at)
        self._changed("section-finalised", "section", by, at, stage, response=section.response, delegation_number=_number(section))
        self.events.append(
            ev.SectionFinalised(self.id, self.case_id, by, at, stage, delegation.delegate_id if delegation else None, _number(section))
        )

    def _writable_section(self, stage: Stage, by: str) -> None:
        # A person with no part in the section is refused before the form's state is revealed.
        record = self.stage(stage)
        section = record.section
        if by != self.owner_id and by not in (section.delegate_id, section.finalised_by):
            raise NotAllowed("Only the owner of the form and the section's delegate may act on this section.")
        self._still_open()
        self._current_record(stage)
        section.check_writer(by, self.owner_id)

    def reactivate_section(self, stage: Stage, *, by: str, at: datetime) -> None:
        self._owner_only(by, "reactivate a completed section")
        self._still_open()
        record = self._current_record(stage)
        delegation = record.section.reactivate(at=at)
        self._changed("section-reactivated", "section", by, at, stage, delegate_id=delegation.delegate_id if delegation else None)
        self.events.append(
            ev.SectionReactivated(
                self.id, self.case_id, by, at, stage,
                delegation.delegate_id if delegation else None, delegation.number if delegation else None,
                delegation.due_on if delegation else None,
            )
        )

    def retract_section(self, stage: Stage, *, reason: str, note: str, by: str, at: datetime) -> None:
        self._owner_only(by, "retract a delegated section")
        self._still_open()
        record = self._current_record(stage)
        reason = _text(reason, "The reason for retracting", 500)
        note = _text(note, "The note on retracting")
        delegation = record.section.retract(by=by, at=at, reason=reason, note=note)
        draft = record.section.response
        self._changed(
            "section-retracted", "section", by, at, stage,
            delegate_id=delegation.delegate_id, delegation_number=delegation.number, reason=reason, note=note, draft=draft,
        )
        self.events.append(ev.SectionRetracted(self.id, self.case_id, by, at, stage, delegation.delegate_id, delegation.number, bool(draft.strip())))

    # --- resolution details at the end of a stage ---------------------------------------------

    def record_resolution(
        self,
        stage: Stage,
        *,
        resolved: bool,
        by: str,
        at: datetime,
        impact: str | None = None,
        next_step: NextStep | None = None,
        escalate_to: Stage | None = None,
        close_reason: str | None = None,
        closing_reason: Theme | None = None,
    ) -> None:
        self._owner_only(by, "record the resolution details")
        self._still_open()
        record = self._current_record(stage)
        try:
            next_step = NextStep(next_step) if next_step is not None else None
        except ValueError:
            raise InvalidInput(f"The next step is escalate or close-unresolved, not {next_step!r}.") from None
        if record.section.state is SectionState.DELEGATED:
            raise RuleConflict(
                f"The section is still delegated to {record.section.delegate_id}: wait for it to be finalised, or retract it.",
                slug="section-still-delegated",
            )
        if resolved:
            if next_step is not None or escalate_to is not None or close_reason is not None or closing_reason is not None:
                raise InvalidInput("A resolved stage has an impact for the child, not a next step.")
            impact = _text(impact, "The impact for the child")
            record.resolution = StageResolution(True, by, at, impact=impact)
            still_open = self.active_stages
            if still_open:
                # Each active stage has its own resolution section: the form is resolved when the last one is.
                self._changed("stage-resolved", "stage", by, at, stage, impact=impact, stages_open=[s.value for s in still_open])
                return
            self.status = FormStatus.RESOLVED
            self.finished_at = at
            days = _days_between(self.raised_at, at)
            self._changed("resolved", "stage", by, at, stage, impact=impact)
            self.events.append(ev.ResolutionResolved(self.id, self.case_id, by, at, self.team_id, stage, days))
            return
        if impact is not None:
            raise InvalidInput("The impact for the child is recorded when the concern is resolved.")
        if next_step is NextStep.ESCALATE:
            if closing_reason is not None:
                raise InvalidInput("A closing reason is given only when closing unresolved.")
            self._escalate(record, escalate_to, close_reason, by, at)
        elif next_step is NextStep.CLOSE_UNRESOLVED:
            if escalate_to is not None:
                raise InvalidInput("A form closed unresolved is not escalated.")
            if closing_reason is None:
                raise InvalidInput("Closing unresolved needs a closing reason from the list (closing_reason_id).")
            if not closing_reason.active:
                raise InvalidInput(f"The closing reason {closing_reason.id!r} is retired: choose a current one.")
            delegated = [r for r in self.stages if r is not record and r.resolution is None and r.section.state is SectionState.DELEGATED]
            if delegated:
                raise RuleConflict(
                    "Closing the form ends every stage, and "
                    + "; ".join(f"{r.stage.title}'s section is still delegated to {r.section.delegate_id}" for r in delegated)
                    + ": wait for it to be finalised, or retract it.",
                    slug="section-still-delegated",
                )
            reason = None if close_reason is None or not close_reason.strip() else _text(close_reason, "The note on closing")
            record.resolution = StageResolution(False, by, at, next_step=next_step, close_reason=reason, closing_reason_id=closing_reason.id)
            self.status = FormStatus.CLOSED_UNRESOLVED
            self.finished_at = at
            self._changed("closed-unresolved", "stage", by, at, stage, closing_reason_id=closing_reason.id, close_reason=reason)
            self.events.append(
                ev.ResolutionClosedUnresolved(
                    self.id, self.case_id, by, at, self.team_id, stage, _days_between(self.raised_at, at), closing_reason.id
                )
            )
        else:
            raise InvalidInput("When the concern is not resolved, give the next step: escalate, or close-unresolved with a reason.")

    def _escalate(self, record: StageRecord, escalate_to: Stage | None, close_reason: str | None, by: str, at: datetime) -> None:
        if close_reason is not None:
            raise InvalidInput("A close reason is given only when closing unresolved.")
        target = escalate_to or record.stage.next()
        if target is None:
            raise RuleConflict(f"{record.stage.title} is the last stage: close the form unresolved with a reason.", slug="last-stage")
        if target.rank <= record.stage.rank:
            raise InvalidInput(f"Escalation goes up: {target.title} is not after {record.stage.title}.")
        existing = next((r for r in self.stages if r.stage is target), None)
        if existing is not None and existing.resolution is not None:
            raise RuleConflict(
                f"{target.title} has its resolution details recorded already: escalate to a stage above it.", slug="stage-passed"
            )
        record.resolution = StageResolution(False, by, at, next_step=NextStep.ESCALATE, escalated_to=target)
        if existing is None:  # a stage already active goes on as it is, with its own dates and section
            self._add_stage(target, by, at)
        self.status = FormStatus.ESCALATED
        self._changed("stage-escalated", "stage", by, at, record.stage, to_stage=target.value)
        self.events.append(ev.StageEscalated(self.id, self.case_id, by, at, self.team_id, record.stage, target))

    # --- reporting figures --------------------------------------------------------------------

    def stage_durations(self) -> list[dict[str, Any]]:
        """Days each ended stage took, from the date it was raised to its resolution details."""
        return stage_durations(self.stages)

    def days_to_finish(self) -> int | None:
        return None if self.finished_at is None else _days_between(self.raised_at, self.finished_at)

    # --- bookkeeping --------------------------------------------------------------------------

    def _changed(self, action: str, part: str, by: str, at: datetime, stage: Stage | None = None, **details: Any) -> None:
        self.version += 1
        self.updated_by = by
        self.updated_at = at
        self.history.append(ev.HistoryEntry(self.version, action, part, by, at, stage, details))

    def pull_events(self) -> list[ev.DomainEvent]:
        pulled, self.events = self.events, []
        return pulled


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _number(section: Any) -> int | None:
    current = section.current_delegation
    return current.number if current else None


def _selected_stages(stages: Sequence[Stage]) -> list[Stage]:
    """The stages chosen, lowest first: at least one, each named once."""
    chosen = [Stage(s) for s in stages]
    if not chosen:
        raise InvalidInput("Select at least one stage.")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("Each stage is selected once.")
    return sorted(chosen, key=lambda s: s.rank)
