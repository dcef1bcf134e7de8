"""One function per thing done with a team review: issue the pack, agree priorities, add and
track improvement actions, and the scheduler's notice of actions due. Each change is saved
version-guarded (``store``) with what the review recorded (published by ``events.record``) in one
transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from shared.identity import Identity
from shared.mongo import Transaction
from shared.versioned import check_version

from ..common.context import SERVICE_ACTOR, AuditContext, each_in_own_transaction
from ..common.directory import Directory
from ..common.errors import InvalidEntries, NotAllowed
from ..common.roles import QA_STAFF_ROLES, Role
from ..cycles.domain.timetable import Month
from ..practice import store as rs
from ..practice.domain.errors import RecordExists, RecordNotFound
from ..practice.usecases import known_team
from ..reporting import usecases as reports
from . import events as te
from . import store
from .domain.review import ActionStatus, Indicator, NewAction, PracticeIssue, Review, build_pack


async def issue_review(ctx: AuditContext, *, team_id: str, to_month: Month, caller: Identity) -> tuple[Review, bool]:
    """The pack for the six months to ``to_month``; a second request returns the review issued
    (``False``). Issued by QA staff, the team's manager or its service manager."""
    team = await known_team(ctx.db, team_id)
    directory = Directory(ctx.db, ctx.overrides)
    team_manager = team.get("manager_id")
    service_manager = await directory.up_the_line(team_manager, Role.SERVICE_MANAGER, include_start=False) if team_manager else None
    director = await directory.assistant_director_above(service_manager or team_manager)
    if caller.person_id not in (team_manager, service_manager) and QA_STAFF_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("A team's review is issued by QA staff, its team manager or its service manager.")
    if (existing := await store.find(ctx.db, team_id, str(to_month))) is not None:
        return existing, False
    audits = await reports.team_review(ctx.db, team_id, to_month, None)
    months = audits.months
    pack = build_pack(
        audits=audits,
        monitoring=await rs.for_team(ctx.db, rs.MONITORING_FORMS, team_id, months),
        feedback=await rs.for_team(ctx.db, rs.FEEDBACK, team_id, months),
        complaints=await rs.for_team(ctx.db, rs.COMPLAINT_LESSONS, team_id, months),
        compliments=await rs.for_team(ctx.db, rs.COMPLIMENTS, team_id, months),
        observations=await rs.for_team(ctx.db, rs.OBSERVATIONS, team_id, months),
        social_worker_ids=await store.social_worker_ids(ctx.db, team_id),
    )
    now = ctx.uow.clock.now()
    review = Review.issue(
        review_id=uuid.uuid4().hex, team_id=team_id, to_month=str(to_month), team_manager_id=team_manager, service_manager_id=service_manager,
        assistant_director_id=director, pack=pack, by=caller.person_id, at=now,
    )

    async def work(tx: Transaction) -> Review:
        await store.insert(tx, ctx.db, review)
        te.record(tx, review.events)
        return review

    try:
        return await ctx.uow.run(work), True
    except RecordExists:
        existing = await store.find(ctx.db, team_id, str(to_month))
        if existing is None:
            raise
        return existing, False


async def read_review(ctx: AuditContext, review_id: str, caller: Identity, tx: Transaction | None = None, *, action: int | None = None) -> Review:
    """The review, for its parties and QA staff; with ``action``, also for that action's owner."""
    review = await store.load(ctx.db, review_id, tx=tx)
    if review is None:
        raise RecordNotFound("Team review", review_id)
    visible = review.visible_to(caller.person_id, caller.roles) if action is None else review.action_visible_to(action, caller.person_id, caller.roles)
    if not visible:
        raise RecordNotFound("Team review", review_id)
    return review


async def _act(
    ctx: AuditContext, review_id: str, caller: Identity, expected: int, change: Callable[[Review, datetime], object], *, action: int | None = None
) -> Review:
    async def work(tx: Transaction) -> Review:
        review = await read_review(ctx, review_id, caller, tx, action=action)
        check_version("team review", review.version, expected, ident=review.id)
        change(review, ctx.uow.clock.now())
        await store.save(tx, ctx.db, review, expected)
        te.record(tx, review.events)
        return review

    return await ctx.uow.run(work)


async def agree_priorities(ctx: AuditContext, review_id: str, priorities: list[str], *, caller: Identity, expected: int) -> Review:
    return await _act(ctx, review_id, caller, expected, lambda r, now: r.agree_priorities(by=caller.person_id, priorities=priorities, at=now))


async def add_action(ctx: AuditContext, review_id: str, entries: NewAction, *, caller: Identity, expected: int) -> Review:
    if await Directory(ctx.db, ctx.overrides).person(entries.owner_id) is None:
        raise InvalidEntries("Unknown owner.", [{"field": "owner_id", "message": "the directory has not told the audit service of this person", "code": "unknown"}])
    return await _act(
        ctx, review_id, caller, expected,
        lambda r, now: r.add_action(by=caller.person_id, entries=entries, assistant_director_id=r.assistant_director_id, at=now),
    )


async def change_status(ctx: AuditContext, review_id: str, number: int, status: ActionStatus, note: str, *, caller: Identity, expected: int) -> Review:
    return await _act(
        ctx, review_id, caller, expected, lambda r, now: r.change_status(by=caller.person_id, number=number, status=status, note=note, at=now),
        action=number,
    )


async def notice_actions_due(ctx: AuditContext, today: date) -> list[dict[str, object]]:
    """One ``audit.improvement-action.due`` per unfinished action and due day, however often this runs."""

    async def notice(tx: Transaction, review_id: str) -> list[dict[str, object]]:
        review = await store.load(ctx.db, review_id, tx=tx)
        if review is None:
            return []
        due = review.notice_actions_due(today)
        if due:
            await store.save(tx, ctx.db, review, review.version, by=SERVICE_ACTOR)
            te.record(tx, review.events)
        return [{"review_id": review.id, "action_number": a.number, "due_on": a.due_on.isoformat()} for a in due]

    noticed = await each_in_own_transaction(ctx.uow, await store.with_notices_due(ctx.db, today.isoformat()), notice)
    return [n for of_review in noticed for n in of_review]


async def names(ctx: AuditContext, review: Review) -> tuple[str, dict[str, str]]:
    directory = Directory(ctx.db, ctx.overrides)
    team = await known_team(ctx.db, review.team_id)
    people = [p for p in (*review.parties(), review.issued_by, *(a.owner_id for a in review.actions), *review.priorities_agreed_by) if p]
    return str(team.get("name") or review.team_id), await directory.names(people)


async def enter_indicators(ctx: AuditContext, review_id: str, indicators: list[Indicator], *, caller: Identity, expected: int) -> Review:
    """6.2: QA staff enter the performance indicators (no system supplies them)."""
    return await _act(ctx, review_id, caller, expected, lambda r, now: r.enter_indicators(by=caller.person_id, roles=caller.roles, indicators=indicators, at=now))


async def enter_practice_issues(ctx: AuditContext, review_id: str, issues: list[PracticeIssue], *, caller: Identity, expected: int) -> Review:
    """6.2: QA staff enter the key practice issues arising from IMRs or SCRs."""
    return await _act(ctx, review_id, caller, expected, lambda r, now: r.enter_practice_issues(by=caller.person_id, roles=caller.roles, issues=issues, at=now))
