"""One function per thing a person does with a resolution form or a theme.

Each loads the aggregate inside one transaction, checks the caller may see it and that the
``If-Match`` version is still current, lets the domain apply its rules, then saves the form,
its history and its events (to the outbox) together. Every read is from the database: nothing
is cached, so nobody works on a stale form.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from pymongo.asynchronous.database import AsyncDatabase
from shared.directory_sync import not_yet_known
from shared.event_translation import stage
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import check_version

from . import directory, store
from .documents import Listed
from .domain import InvalidInput, NextStep, NotAllowed, PersonRef, ResolutionForm, Stage, StageDates, Theme, UnknownItem
from .domain.themes import check_theme_manager
from .events import integration_event
from .store import Session


def _now(uow: UnitOfWork) -> datetime:
    """The clock's time at the millisecond precision MongoDB keeps, so a form reads back as written."""
    at = uow.clock.now()
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def new_form_id(at: datetime) -> str:
    """Ids sort in the order forms were raised (millisecond time, then randomness)."""
    return f"res-{int(at.timestamp() * 1000):012x}{secrets.token_hex(4)}"


def _record_events(tx: Transaction, form: ResolutionForm) -> None:
    stage(tx, integration_event, form.pull_events(), subject=f"form/{form.id}")


async def _known_person(db: AsyncDatabase[Document], person_id: str, session: Session, what: str) -> PersonRef:
    person = await directory.person(db, person_id, session)
    if person is None:
        raise await not_yet_known(db, "person", person_id, field="person_id", service="resolution", otherwise=InvalidInput(
            f"There is no {person_id!r} in the directory to be the {what}."))
    return person


async def _optional_person(db: AsyncDatabase[Document], person_id: str | None, session: Session, what: str) -> PersonRef | None:
    return None if person_id is None else await _known_person(db, person_id, session, what)


async def _themes(db: AsyncDatabase[Document], theme_ids: list[str], session: Session) -> dict[str, Theme]:
    found = await store.THEME_LIST.by_id(db, theme_ids, session)
    missing = [t for t in theme_ids if t not in found]
    if missing:
        raise InvalidInput(f"Unknown theme(s): {', '.join(sorted(set(missing)))}. Choose from the list of themes.")
    return found


# --- reading -----------------------------------------------------------------------------------


async def read_form(db: AsyncDatabase[Document], form_id: str, caller: Identity) -> ResolutionForm:
    form = await store.load_form(db, form_id)
    check_can_read(form, caller)
    return form


def check_can_read(form: ResolutionForm, caller: Identity) -> None:
    if not form.can_read(caller.person_id, caller.roles):
        raise NotAllowed("Only the owner, the people its sections were delegated to, and QA and senior managers may see this form.")


# --- raising -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaiseRequest:
    case_id: str
    concerns: list[tuple[str, str]]
    raised_as: str | None = None
    first_stage: Stage | None = Stage.INFORMAL
    team_manager_id: str | None = None
    allocated_worker_id: str | None = None
    #: Several stages activated on raising (None: the one first_stage).
    stages: tuple[Stage, ...] | None = None


async def raise_resolution(uow: UnitOfWork, request: RaiseRequest, *, caller: Identity, idempotency: IdempotencyKey | None) -> ResolutionForm:
    db = uow.db

    async def work(tx: Transaction) -> ResolutionForm:
        now = _now(uow)
        case = await directory.case_snapshot(db, request.case_id, tx.session)
        if case is None:
            raise await not_yet_known(db, "case", request.case_id, field="case_id", service="resolution", otherwise=InvalidInput(
                f"The case {request.case_id!r} is not known to the directory."))
        themes = await _themes(db, [theme_id for theme_id, _ in request.concerns], tx.session)
        form = ResolutionForm.raise_form(
            new_form_id(now),
            case=case,
            by=caller.person_id,
            roles=caller.roles,
            at=now,
            concerns=[(themes[theme_id], detail) for theme_id, detail in request.concerns],
            raised_as=request.raised_as,
            first_stage=request.first_stage,
            team_manager=await _optional_person(db, request.team_manager_id, tx.session, "team manager"),
            allocated_worker=await _optional_person(db, request.allocated_worker_id, tx.session, "allocated worker"),
            stages=request.stages,
        )
        store.insert_form(db, form, tx)
        _record_events(tx, form)
        await remember(tx, db, idempotency, form.id, now=now)
        return form

    return await uow.run(work)


# --- changing a form ---------------------------------------------------------------------------

Change = Callable[[ResolutionForm, datetime, Session], Awaitable[None]]


async def _change(uow: UnitOfWork, form_id: str, caller: Identity, if_match: int, change: Change) -> ResolutionForm:
    async def work(tx: Transaction) -> ResolutionForm:
        form = await store.load_form(uow.db, form_id, tx.session)
        check_can_read(form, caller)
        check_version("resolution form", form.version, if_match, ident=form_id)
        await change(form, _now(uow), tx.session)
        await store.save_form(uow.db, form, expected_version=if_match, tx=tx)
        _record_events(tx, form)
        return form

    return await uow.run(work)


async def _apply(uow: UnitOfWork, form_id: str, caller: Identity, if_match: int, apply: Callable[[ResolutionForm, datetime], object]) -> ResolutionForm:
    """``_change`` for a change that needs nothing more from the database: ``apply(form, now)``."""

    async def change(form: ResolutionForm, now: datetime, session: Session) -> None:
        apply(form, now)

    return await _change(uow, form_id, caller, if_match, change)


async def add_concern(uow: UnitOfWork, form_id: str, theme_id: str, detail: str, *, caller: Identity, if_match: int) -> ResolutionForm:
    async def change(form: ResolutionForm, now: datetime, session: Session) -> None:
        theme = (await _themes(uow.db, [theme_id], session))[theme_id]
        form.add_concern(theme, detail, by=caller.person_id, at=now)

    return await _change(uow, form_id, caller, if_match, change)


async def report_case_contacts(
    uow: UnitOfWork, form_id: str, *, team_manager_id: str | None, allocated_worker_id: str | None, caller: Identity, if_match: int
) -> ResolutionForm:
    async def change(form: ResolutionForm, now: datetime, session: Session) -> None:
        form.report_case_contacts(
            by=caller.person_id,
            at=now,
            team_manager=await _optional_person(uow.db, team_manager_id, session, "team manager"),
            allocated_worker=await _optional_person(uow.db, allocated_worker_id, session, "allocated worker"),
        )

    return await _change(uow, form_id, caller, if_match, change)


async def activate_stages(uow: UnitOfWork, form_id: str, stages: list[Stage], *, caller: Identity, if_match: int) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.activate_stages(stages, by=caller.person_id, at=now))


async def record_stage_dates(uow: UnitOfWork, form_id: str, stage: Stage, dates: StageDates, *, caller: Identity, if_match: int) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.record_stage_dates(stage, dates, by=caller.person_id, at=now))


async def delegate_section(
    uow: UnitOfWork, form_id: str, stage: Stage, delegate_id: str, *, due_on: date | None, caller: Identity, if_match: int
) -> ResolutionForm:
    async def change(form: ResolutionForm, now: datetime, session: Session) -> None:
        # Only the owner may delegate: say so before looking the delegate up.
        if caller.person_id != form.owner_id:
            raise NotAllowed(f"Only the owner of the form ({form.owner_id}) may delegate a section.")
        delegate = await _known_person(uow.db, delegate_id, session, "delegate")
        form.delegate_section(stage, delegate, by=caller.person_id, at=now, due_on=due_on)

    return await _change(uow, form_id, caller, if_match, change)


async def save_section(uow: UnitOfWork, form_id: str, stage: Stage, text: str, *, caller: Identity, if_match: int) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.save_section(stage, text, by=caller.person_id, at=now))


async def finalise_section(uow: UnitOfWork, form_id: str, stage: Stage, *, caller: Identity, if_match: int) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.finalise_section(stage, by=caller.person_id, at=now))


async def reactivate_section(uow: UnitOfWork, form_id: str, stage: Stage, *, caller: Identity, if_match: int) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.reactivate_section(stage, by=caller.person_id, at=now))


async def retract_section(
    uow: UnitOfWork, form_id: str, stage: Stage, *, reason: str, note: str, caller: Identity, if_match: int
) -> ResolutionForm:
    return await _apply(uow, form_id, caller, if_match, lambda form, now: form.retract_section(stage, reason=reason, note=note, by=caller.person_id, at=now))


@dataclass(frozen=True)
class ResolutionDetails:
    resolved: bool
    impact: str | None = None
    next_step: NextStep | None = None
    escalate_to: Stage | None = None
    close_reason: str | None = None
    closing_reason_id: str | None = None


async def record_resolution(
    uow: UnitOfWork, form_id: str, stage: Stage, details: ResolutionDetails, *, caller: Identity, if_match: int
) -> ResolutionForm:
    async def change(form: ResolutionForm, now: datetime, session: Session) -> None:
        closing_reason = None
        if details.closing_reason_id is not None:
            try:
                closing_reason = await store.CLOSING_REASON_LIST.load(uow.db, details.closing_reason_id, session)
            except UnknownItem as unknown:
                raise InvalidInput(unknown.detail) from None
        form.record_resolution(
            stage, resolved=details.resolved, by=caller.person_id, at=now, impact=details.impact,
            next_step=details.next_step, escalate_to=details.escalate_to, close_reason=details.close_reason,
            closing_reason=closing_reason,
        )

    return await _change(uow, form_id, caller, if_match, change)


# --- themes and closing reasons: managed lists kept by the same rules ---------------------------

THEMES, CLOSING_REASONS = store.THEME_LIST, store.CLOSING_REASON_LIST


async def create_listed(
    uow: UnitOfWork, kept: store.ManagedList[Listed], name: str, description: str, *, caller: Identity, idempotency: IdempotencyKey | None
) -> Listed:
    """Add a theme or a closing reason (administrator or QA officer)."""

    async def work(tx: Transaction) -> Listed:
        now = _now(uow)
        item = kept.kind.create(name, description, by=caller.person_id, roles=caller.roles, at=now)
        await kept.insert(uow.db, item, tx.session)
        await remember(tx, uow.db, idempotency, item.id, now=now)
        return item

    return await uow.run(work)


async def change_listed(
    uow: UnitOfWork, kept: store.ManagedList[Listed], item_id: str, *,
    name: str | None, description: str | None, active: bool | None, caller: Identity, if_match: int,
) -> Listed:
    """Rename, describe, retire or reinstate a theme or a closing reason (administrator or QA officer)."""

    async def work(tx: Transaction) -> Listed:
        check_theme_manager(caller.roles, kept.kind.what)
        item = await kept.load(uow.db, item_id, tx.session)
        check_version(kept.kind.what, item.version, if_match, ident=item_id)
        item.change(by=caller.person_id, roles=caller.roles, at=_now(uow), name=name, description=description, active=active)
        await kept.save(uow.db, item, expected_version=if_match, session=tx.session)
        return item

    return await uow.run(work)
