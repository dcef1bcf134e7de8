"""One function per thing a person does with exemplars: start, save answers, first-sign,
counter-sign, unlock, clone to siblings, send a workflow message. Each loads what it needs (the
exemplar, the case and people from sign-off's copy of the directory), asks the domain, and saves
the exemplar with its chronology and events in one transaction: all of it, or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.calendar import local_date
from shared.directory_sync import not_yet_known
from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import check_version

from . import directory, store, type_store
from .domain import messages, roles
from .domain.access import MAX_CHAIN, Actor, CaseView, PersonView, Relation, relation_to_case
from .domain.errors import Conflict, FieldError, InvalidInput, NotFound
from .domain.exemplar import Exemplar
from .domain.messages import Action, WorkflowMessage


def new_id() -> str:
    return uuid.uuid4().hex


# --- who the caller is to a case -----------------------------------------------------------


async def actor_for(
    db: AsyncDatabase[Document], caller: Identity, case: CaseView, session: AsyncClientSession | None = None,
    looked_up: directory.Cached | None = None,
) -> Actor:
    """The caller as an ``Actor`` of ``case``: their roles and what they are to its team. The
    directory facts come through the process's cache, exact to sign-off's copy (``directory.Cached``)."""
    look = looked_up or await directory.cached(db, session)
    team = (await look.teams({case.team_id})).get(case.team_id)
    managers = {m for m in (case.team_manager_id, team.manager_id if team else None) if m}
    # The caller, the team's managers and the line-management chain above them, in one read.
    people = await look.people_and_chains({caller.person_id, *managers}, MAX_CHAIN)
    teams: dict[str, Any] = {}
    if roles.DISTRICT_MANAGER in caller.roles:
        me = people.get(caller.person_id)
        own = set(caller.teams) | ({me.team_id} if me is not None and me.team_id else set())
        teams = await look.teams(own | {case.team_id})
    relation = relation_to_case(
        caller.person_id, frozenset(caller.roles), frozenset(caller.teams), case, team, people, teams
    )
    return Actor(caller.person_id, frozenset(caller.roles), relation)


def may_read(actor: Actor) -> bool:
    return actor.relation is not Relation.NONE or actor.has_role(roles.READ_ANY_CASE)


async def known_case(db: AsyncDatabase[Document], case_id: str, session: AsyncClientSession | None = None) -> CaseView:
    case = await directory.case(db, case_id, session)
    if case is None:
        raise await not_yet_known(db, "case", case_id, field="case_id", service="signoff", otherwise=InvalidInput(
            f"Case {case_id!r} is not known to sign-off: cases come from the directory.",
            [FieldError("case_id", "unknown case", "unknown")],
        ))
    return case


@dataclass(frozen=True)
class Loaded:
    exemplar: Exemplar
    case: CaseView
    actor: Actor
    #: The directory as this load saw it (further look-ups of the same action go through it).
    directory: directory.Cached


async def load_for(db: AsyncDatabase[Document], caller: Identity, exemplar_id: str, session: AsyncClientSession | None = None) -> Loaded:
    """The exemplar, its case and the caller as an actor; 404 for anyone who may not read it,
    so that a child's record does not even show it exists."""
    exemplar = await store.load(db, exemplar_id, session)
    if exemplar is None:
        raise NotFound("exemplar", exemplar_id)
    look = await directory.cached(db, session)
    case = await look.case(exemplar.case_id) or CaseView(exemplar.case_id, exemplar.team_id, status="unknown")
    actor = await actor_for(db, caller, case, session, look)
    if not may_read(actor):
        raise NotFound("exemplar", exemplar_id)
    exemplar.team_id = case.team_id  # the case's team now (a case may move team)
    return Loaded(exemplar, case, actor, look)


def _expect(exemplar: Exemplar, if_match: int) -> None:
    check_version("exemplar", exemplar.revision, if_match, ident=exemplar.id)


# --- start, edit, sign, counter-sign, unlock ------------------------------------------------


async def start(
    uow: UnitOfWork, caller: Identity, *, case_id: str, type_code: str, answers: Mapping[str, Any], key: IdempotencyKey | None
) -> str:
    async def work(tx: Transaction) -> str:
        try:
            exemplar_type = await type_store.get(uow.db, type_code, tx.session)
        except NotFound:
            exemplar_type = None
        case = await directory.case(uow.db, case_id, tx.session)
        if exemplar_type is None or case is None:
            errors = [FieldError("type_code", f"unknown exemplar type {type_code!r}", "unknown")] if exemplar_type is None else []
            errors += [FieldError("case_id", f"case {case_id!r} is not known (cases come from the directory)", "unknown")] if case is None else []
            raise InvalidInput("The exemplar cannot be started: " + "; ".join(e.message for e in errors) + ".", errors)
        actor = await actor_for(uow.db, caller, case, tx.session)
        exemplar = Exemplar.start(new_id(), case, exemplar_type, actor, answers, uow.clock.now())
        await store.save(tx, uow.db, exemplar)
        await remember(tx, uow.db, key, exemplar.id, now=uow.clock.now())
        return exemplar.id

    return await uow.run(work)


async def save_answers(uow: UnitOfWork, caller: Identity, exemplar_id: str, if_match: int, answers: Mapping[str, Any]) -> Exemplar:
    async def work(tx: Transaction) -> Exemplar:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        _expect(loaded.exemplar, if_match)
        loaded.exemplar.save_answers(loaded.actor, answers, uow.clock.now())
        if loaded.exemplar.events:  # answers identical to what is stored change nothing
            await store.save(tx, uow.db, loaded.exemplar)
        return loaded.exemplar

    return await uow.run(work)


async def first_sign(
    uow: UnitOfWork, caller: Identity, exemplar_id: str, if_match: int, *, counter_signer_id: str | None, due_on: date | None
) -> tuple[Exemplar, WorkflowMessage | None]:
    """First signature; then the system's "ready for counter-sign" message (see ``domain.messages``)."""

    async def work(tx: Transaction) -> tuple[Exemplar, WorkflowMessage | None]:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        exemplar, actor, now = loaded.exemplar, loaded.actor, uow.clock.now()
        _expect(exemplar, if_match)
        exemplar.first_sign(actor, now)
        named = await _person_or_invalid(uow.db, counter_signer_id, "counter_signer_id", tx.session) if counter_signer_id else None
        me = await loaded.directory.person(caller.person_id)
        line_manager = await loaded.directory.person(me.line_manager_id) if me and me.line_manager_id else None
        recipient = messages.counter_signer_for(exemplar, named, line_manager)
        message = None
        if recipient is not None:
            message = messages.ready_for_counter_sign(exemplar, new_id(), signer=actor, recipient=recipient, due_on=due_on, at=now)
            store.save_message(tx, uow.db, message)
        await store.save(tx, uow.db, exemplar)
        return exemplar, message

    return await uow.run(work)


async def counter_sign(
    uow: UnitOfWork, caller: Identity, exemplar_id: str, if_match: int, *, comments: str | None, supervision_notes: str | None
) -> Exemplar:
    async def work(tx: Transaction) -> Exemplar:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        _expect(loaded.exemplar, if_match)
        needs = loaded.exemplar.counter_sign_after
        signed_on_case = (
            await store.counter_signed_types_on_case(uow.db, loaded.exemplar.case_id, {needs}, tx.session) if needs else frozenset()
        )
        loaded.exemplar.counter_sign(
            loaded.actor, uow.clock.now(), comments=comments, supervision_notes=supervision_notes, counter_signed_on_case=signed_on_case
        )
        await store.save(tx, uow.db, loaded.exemplar)
        return loaded.exemplar

    return await uow.run(work)


async def unlock(uow: UnitOfWork, caller: Identity, exemplar_id: str, if_match: int, *, reason: str) -> Exemplar:
    async def work(tx: Transaction) -> Exemplar:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        _expect(loaded.exemplar, if_match)
        loaded.exemplar.unlock(loaded.actor, uow.clock.now(), reason)
        await store.save(tx, uow.db, loaded.exemplar)
        return loaded.exemplar

    return await uow.run(work)


# --- clone and message ---------------------------------------------------------------------


async def clone(uow: UnitOfWork, caller: Identity, exemplar_id: str, case_ids: list[str], key: IdempotencyKey | None) -> str:
    """Clone the index exemplar's counter-signed version to each sibling case, all or none.
    Returns the id of the batch (its clones are read with ``store.clones_in_batch``)."""
    targets = list(dict.fromkeys(case_ids))
    if not targets:
        raise InvalidInput("Name at least one sibling case to clone to.", [FieldError("case_ids", "empty", "missing")])

    async def work(tx: Transaction) -> str:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        index, now, batch = loaded.exemplar, uow.clock.now(), new_id()
        unknown = [c for c in targets if await directory.case(uow.db, c, tx.session) is None]
        if unknown:
            raise InvalidInput(
                f"Case(s) {', '.join(unknown)} are not known to sign-off: cases come from the directory.",
                [FieldError("case_ids", f"unknown case {c!r}", "unknown") for c in unknown],
            )
        for case_id in targets:
            case = await known_case(uow.db, case_id, tx.session)
            existing = await store.existing_clone(uow.db, index.id, index.current.number, case_id, tx.session)
            if existing is not None:
                raise Conflict(f"Version {index.current.number} was already cloned to case {case_id!r} as exemplar {existing}.")
            actor = await actor_for(uow.db, caller, case, tx.session)
            copy = Exemplar.clone_from(new_id(), index, loaded.case, case, actor, now)
            await store.save(tx, uow.db, copy, clone_batch_id=batch)
        await remember(tx, uow.db, key, batch, now=now)
        return batch

    return await uow.run(work)


async def send_message(
    uow: UnitOfWork, caller: Identity, exemplar_id: str, *, to_person_id: str, subject: str, action: Action, text: str | None,
    due_on: date, key: IdempotencyKey | None, send_email: bool = False,
) -> str:
    async def work(tx: Transaction) -> str:
        loaded = await load_for(uow.db, caller, exemplar_id, tx.session)
        recipient = await _person_or_invalid(uow.db, to_person_id, "to_person_id", tx.session)
        message = messages.send(
            loaded.exemplar, new_id(), sender=loaded.actor, recipient=recipient, subject=subject, action=action,
            text=text, due_on=due_on, at=uow.clock.now(), send_email=send_email,
        )
        store.save_message(tx, uow.db, message)
        # a message does not change the exemplar (its ETag stays): only the chronology and the event
        store.record_events(tx, uow.db, loaded.exemplar)
        await remember(tx, uow.db, key, message.id, now=uow.clock.now())
        return message.id

    return await uow.run(work)


async def _person_or_invalid(db: AsyncDatabase[Document], person_id: str, field: str, session: AsyncClientSession) -> PersonView:
    person = await directory.person(db, person_id, session)
    if person is None:
        raise await not_yet_known(db, "person", person_id, field=field, service="signoff", otherwise=InvalidInput(
            f"There is no member of staff {person_id!r} in the directory.", [FieldError(field, "unknown person", "unknown")]))
    return person


def today(uow: UnitOfWork) -> date:
    return local_date(uow.clock.now())
