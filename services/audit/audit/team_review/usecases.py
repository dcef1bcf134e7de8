"""One function per thing done with a team review: issue the pack, agree priorities, add and
track improvement actions, and the scheduler's notice of actions due. Each change is saved
version-guarded with its events in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from pymongo import ASCENDING
from shared.identity import Identity
from shared.mongo import Transaction

from ..common.context import SERVICE_ACTOR, AuditContext
from ..common.directory import PEOPLE, Directory
from ..common.errors import InvalidEntries, NotAllowed
from ..common.roles import QA_STAFF_ROLES, Role
from ..cycles.domain.timetable import Month
from ..practice import store as rs
from ..practice.domain.errors import RecordExists, RecordNotFound, StaleRecord
from ..practice.usecases import known_team
from ..reporting import usecases as reports
from . import events as te
from . import store
from .domain.review import ActionIn, ActionStatus, ImprovementAction, Review, build_pack


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
    workers = await ctx.db[PEOPLE].find({"roles": Role.SOCIAL_WORKER, "team_id": team_id}, {"active": 1}).sort("_id", ASCENDING).to_list()
    pack = build_pack(
        audits=audits,
        monitoring=await rs.for_team(ctx.db, rs.MONITORING_FORMS, team_id, months),
        feedback=await rs.for_team(ctx.db, rs.FEEDBACK, team_id, months),
        complaints=await rs.for_team(ctx.db, rs.COMPLAINT_LESSONS, team_id, months),
        compliments=await rs.for_team(ctx.db, rs.COMPLIMENTS, team_id, months),
        observations=await rs.for_team(ctx.db, rs.OBSERVATIONS, team_id, months),
        social_worker_ids=[w["_id"] for w in workers if w.get("active", True)],
    )
    now = ctx.uow.clock.now()
    review = Review(
        id=uuid.uuid4().hex, team_id=team_id, to_month=str(to_month), months=months, team_manager_id=team_manager,
        service_manager_id=service_manager, assistant_director_id=director, pack=pack, issued_by=caller.person_id, issued_at=now,
        updated_by=caller.person_id, updated_at=now,
    )

    async def work(tx: Transaction) -> Review:
        await store.insert(tx, ctx.db, review)
        tx.record(te.TEAM_REVIEW_ISSUED, te.TeamReviewIssued(
            review_id=review.id, team_id=team_id, months=months, team_manager_id=team_manager, service_manager_id=service_manager,
            assistant_director_id=director, completed_audits=pack.audits.completed, grades=pack.audits.grades, issued_by=caller.person_id,
            issued_at=now,
        ), subject=f"team-review/{review.id}")
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
    ctx: AuditContext, review_id: str, caller: Identity, expected: int, change: Callable[[Transaction, Review, datetime], None], *, action: int | None = None
) -> Review:
    async def work(tx: Transaction) -> Review:
        review = await read_review(ctx, review_id, caller, tx, action=action)
        if review.version != expected:
            raise StaleRecord("team review", review.version, expected)
        change(tx, review, ctx.uow.clock.now())
        await store.save(tx, ctx.db, review, expected)
        return review

    return await ctx.uow.run(work)


async def agree_priorities(ctx: AuditContext, review_id: str, priorities: list[str], *, caller: Identity, expected: int) -> Review:
    return await _act(ctx, review_id, caller, expected, lambda tx, r, now: r.agree_priorities(by=caller.person_id, priorities=priorities, at=now))


async def add_action(ctx: AuditContext, review_id: str, entries: ActionIn, *, caller: Identity, expected: int) -> Review:
    if await Directory(ctx.db, ctx.overrides).person(entries.owner_id) is None:
        raise InvalidEntries("Unknown owner.", [{"field": "owner_id", "message": "the directory has not told the audit service of this person"}])

    def change(tx: Transaction, review: Review, now: datetime) -> None:
        action = review.add_action(by=caller.person_id, entries=entries, assistant_director_id=review.assistant_director_id, at=now)
        if action.referral is not None:
            tx.record(te.SERVICE_DEVELOPMENT_REFERRED, te.ServiceDevelopmentReferred(
                review_id=review.id, team_id=review.team_id, action_number=action.number, need=action.referral.need,
                assistant_director_id=action.referral.assistant_director_id, service_manager_id=review.service_manager_id,
                referred_by=caller.person_id, referred_at=now,
            ), subject=f"team-review/{review.id}")

    return await _act(ctx, review_id, caller, expected, change)


async def change_status(ctx: AuditContext, review_id: str, number: int, status: ActionStatus, note: str, *, caller: Identity, expected: int) -> Review:
    def change(tx: Transaction, review: Review, now: datetime) -> None:
        action = review.change_status(by=caller.person_id, number=number, status=status, note=note, at=now)
        if action.status is ActionStatus.COMPLETED:
            tx.record(te.IMPROVEMENT_ACTION_COMPLETED, _completed(review, action, caller.person_id, now), subject=f"team-review/{review.id}")
        elif action.status is ActionStatus.DROPPED:
            tx.record(te.IMPROVEMENT_ACTION_DROPPED, te.ImprovementActionDropped(
                review_id=review.id, team_id=review.team_id, action_number=action.number, owner_id=action.owner_id, due_on=action.due_on,
                dropped_by=caller.person_id, dropped_at=now, plan_completed=review.status.value == "completed",
            ), subject=f"team-review/{review.id}")

    return await _act(ctx, review_id, caller, expected, change, action=number)


def _completed(review: Review, action: ImprovementAction, by: str, now: datetime) -> te.ImprovementActionCompleted:
    return te.ImprovementActionCompleted(
        review_id=review.id, team_id=review.team_id, action_number=action.number, owner_id=action.owner_id, due_on=action.due_on,
        completed_by=by, completed_at=now, plan_completed=review.status.value == "completed",
    )


async def notice_actions_due(ctx: AuditContext, today: date) -> list[dict[str, object]]:
    """One ``audit.improvement-action.due`` per unfinished action and due day, however often this runs."""
    noticed: list[dict[str, object]] = []
    for review_id in await store.with_notices_due(ctx.db, today.isoformat()):

        async def work(tx: Transaction, review_id: str = review_id) -> list[dict[str, object]]:
            review = await store.load(ctx.db, review_id, tx=tx)
            if review is None:
                return []
            due = review.actions_due(today)
            for action in due:
                action.due_notice_for = action.due_on
                tx.record(te.IMPROVEMENT_ACTION_DUE, te.ImprovementActionDue(
                    review_id=review.id, team_id=review.team_id, action_number=action.number, owner_id=action.owner_id,
                    due_on=action.due_on, status=action.status.value,
                ), subject=f"team-review/{review.id}")
            if due:
                await store.save(tx, ctx.db, review, review.version, by=SERVICE_ACTOR)
            return [{"review_id": review.id, "action_number": a.number, "due_on": a.due_on.isoformat()} for a in due]

        try:
            noticed += await ctx.uow.run(work)
        except StaleRecord:
            continue  # changed meanwhile: the next run looks again
    return noticed


async def names(ctx: AuditContext, review: Review) -> tuple[str, dict[str, str]]:
    directory = Directory(ctx.db, ctx.overrides)
    team = await known_team(ctx.db, review.team_id)
    people = [p for p in (*review.parties(), review.issued_by, *(a.owner_id for a in review.actions), *review.priorities_agreed_by) if p]
    return str(team.get("name") or review.team_id), await directory.names(people)
