"""HTTP routes for the six-monthly team review: issue the pack (JSON, or PDF), agree priorities,
and the improvement plan tracked to completion. Only the review's parties (the team's manager,
their service manager, the assistant director) and QA staff see it: anyone else gets 404."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.disposition import attachment
from shared.http import Page, Pagination, RequiredIfMatch, etag, public_path
from shared.identity import CurrentPerson

from ..common.api_paging import after, keyset_page
from ..common.api_params import MONTH_PATTERN
from ..common.api_scheduled import run_day
from ..common.responses import change_responses
from ..common.roles import QA_STAFF_ROLES
from ..common.schemas import InputModel
from ..cycles.domain.timetable import Month
from ..practice.api import VersionOut, version_history
from ..practice.domain.errors import RecordNotFound
from . import pdf, store
from . import usecases as uc
from .domain import review as dr
from .domain.review import ActionStatus
from .schemas import (
    ActionIn,
    ImprovementAction,
    Indicator,
    PracticeIssue,
    Review,
    action_out,
    indicators_of,
    new_action,
    practice_issues_of,
    review_out,
)

router = APIRouter(prefix="/v1/team-reviews", tags=["team reviews"])

ReviewId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-f0-9]+$")]
CHANGES = change_responses(
    missing="No such review, or not a party to it", forbidden="A party, but not theirs to do",
    conflict="The action is closed", stale="Changed since the If-Match version",
    invalid="Invalid entries (every one listed)",
)


class ReviewIn(InputModel):
    team_id: str = Field(min_length=1, max_length=64)
    to: str = Field(pattern=MONTH_PATTERN, description="The last of the six months reviewed (YYYY-MM)")


class PrioritiesIn(InputModel):
    priorities: list[str] = Field(min_length=1, max_length=20, description="The key priorities for focused attention")


class StatusIn(InputModel):
    status: ActionStatus
    note: str = Field(default="", max_length=4000)


class RunIn(InputModel):
    today: date | None = None


class Noticed(BaseModel):
    review_id: str
    action_number: int
    due_on: date


class RunOut(BaseModel):
    noticed: list[Noticed]


def _out(review: dr.Review, response: Response | None = None) -> Review:
    if response is not None:
        response.headers["ETag"] = etag(review.version)
    return review_out(review)


@router.post("", response_model=Review, status_code=201, summary="Issue a team's six-monthly review pack (QA staff, the team manager, the service manager); 200 when it exists", responses={403: CHANGES[403], 422: CHANGES[422]})
async def issue_team_review(body: ReviewIn, caller: CurrentPerson, runtime: RuntimeDep, request: Request, response: Response) -> Review:
    review, created = await uc.issue_review(runtime.extra["audit"], team_id=body.team_id, to_month=Month.parse(body.to), caller=caller)
    if not created:
        response.status_code = 200
    response.headers["Location"] = public_path(request, f"/v1/team-reviews/{review.id}")
    return _out(review, response)


@router.get("", response_model=Page[Review], summary="Reviews the caller is party to (QA staff: all)")
async def list_team_reviews(caller: CurrentPerson, runtime: RuntimeDep, page: Pagination, team_id: Annotated[str | None, Query(max_length=64)] = None) -> Page[Review]:
    viewer = None if not QA_STAFF_ROLES.isdisjoint(caller.roles) else caller.person_id
    found = await store.listing(runtime.db, viewer=viewer, team_id=team_id, after=after(page), limit=page.limit + 1)
    return keyset_page(found, page, review_out)


@router.post("/action-notices", response_model=RunOut, summary="Notify every improvement action at its due day unfinished (administrators; the scheduler)", responses={403: CHANGES[403]})
async def send_action_notices(body: RunIn, caller: CurrentPerson, runtime: RuntimeDep) -> RunOut:
    today = run_day(caller, runtime, body.today, runs="the improvement action notices")
    return RunOut(noticed=[Noticed(**n) for n in await uc.notice_actions_due(runtime.extra["audit"], today)])  # type: ignore[arg-type]


@router.get("/{review_id}", response_model=Review, summary="Read a review: the pack's figures, priorities and improvement plan", responses={404: CHANGES[404]})
async def read_team_review(review_id: ReviewId, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> Review:
    return _out(await uc.read_review(runtime.extra["audit"], review_id, caller), response)


@router.get(
    "/{review_id}/pdf", response_class=Response, response_model=None, summary="The review pack as a PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, 404: CHANGES[404]},
)
async def team_review_pdf(review_id: ReviewId, caller: CurrentPerson, runtime: RuntimeDep) -> Response:
    ctx = runtime.extra["audit"]
    review = await uc.read_review(ctx, review_id, caller)
    team_name, names = await uc.names(ctx, review)
    content = pdf.render(review, team_name=team_name, names=names, at=review.updated_at)
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": attachment(pdf.filename(review)), "ETag": etag(review.version)})


@router.put("/{review_id}/priorities", response_model=Review, summary="Agree the key priorities (the team manager and service manager)", responses=CHANGES)
async def set_priorities(review_id: ReviewId, body: PrioritiesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> Review:
    return _out(await uc.agree_priorities(runtime.extra["audit"], review_id, body.priorities, caller=caller, expected=if_match), response)


class IndicatorsIn(InputModel):
    indicators: list[Indicator] = Field(max_length=100, description="6.2: the performance indicators the team received (replaces the list)")


class PracticeIssuesIn(InputModel):
    issues: list[PracticeIssue] = Field(max_length=100, description="6.2: the key practice issues arising from IMRs or SCRs (replaces the list)")


@router.put("/{review_id}/performance-indicators", response_model=Review, summary="Enter the pack's performance indicators (QA staff; 6.2)", responses=CHANGES)
async def enter_performance_indicators(review_id: ReviewId, body: IndicatorsIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> Review:
    return _out(await uc.enter_indicators(runtime.extra["audit"], review_id, indicators_of(body.indicators), caller=caller, expected=if_match), response)


@router.put("/{review_id}/practice-issues", response_model=Review, summary="Enter the key practice issues arising from IMRs or SCRs (QA staff; 6.2)", responses=CHANGES)
async def enter_practice_issues(review_id: ReviewId, body: PracticeIssuesIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> Review:
    return _out(await uc.enter_practice_issues(runtime.extra["audit"], review_id, practice_issues_of(body.issues), caller=caller, expected=if_match), response)


@router.post("/{review_id}/actions", response_model=Review, summary="Add an action to the improvement plan (service development: referred to the assistant director)", responses=CHANGES)
async def add_action(review_id: ReviewId, body: ActionIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch) -> Review:
    return _out(await uc.add_action(runtime.extra["audit"], review_id, new_action(body), caller=caller, expected=if_match), response)


class ActionOut(BaseModel):
    """One action of a team's improvement plan, as its owner sees it (not the pack)."""

    review_id: str
    team_id: str
    months: list[str]
    #: The plan's status: ``completed`` once every action is completed or dropped.
    plan_status: str
    #: The review's version (its ETag): send it as If-Match to change the action's status.
    version: int
    action: ImprovementAction


def _action(review: dr.Review, number: int, response: Response) -> ActionOut:
    if not any(a.number == number for a in review.actions):
        raise RecordNotFound("Improvement action", f"{review.id}/{number}")
    response.headers["ETag"] = etag(review.version)
    return ActionOut(
        review_id=review.id, team_id=review.team_id, months=review.months, plan_status=review.status.value, version=review.version,
        action=action_out(review.action(number)),
    )


ActionNumber = Annotated[int, Path(ge=1, le=1000)]


@router.get("/{review_id}/actions/{number}", response_model=ActionOut, summary="One action of the improvement plan (its owner, the review's parties, QA staff)", responses={404: CHANGES[404]})
async def read_action(review_id: ReviewId, number: ActionNumber, caller: CurrentPerson, runtime: RuntimeDep, response: Response) -> ActionOut:
    review = await uc.read_review(runtime.extra["audit"], review_id, caller, action=number)
    return _action(review, number, response)


@router.post("/{review_id}/actions/{number}/status", response_model=ActionOut, summary="Change an action's status (its owner, the team manager, the service manager); kept in its changes", responses=CHANGES)
async def change_team_action_status(
    review_id: ReviewId, number: ActionNumber, body: StatusIn, caller: CurrentPerson, runtime: RuntimeDep, response: Response, if_match: RequiredIfMatch,
) -> ActionOut:
    review = await uc.change_status(runtime.extra["audit"], review_id, number, body.status, body.note, caller=caller, expected=if_match)
    return _action(review, number, response)


@router.get("/{review_id}/history", response_model=Page[VersionOut], summary="Every version of the review, oldest first", responses={404: CHANGES[404]})
async def team_review_history(review_id: ReviewId, caller: CurrentPerson, runtime: RuntimeDep, page: Pagination) -> Page[VersionOut]:
    await uc.read_review(runtime.extra["audit"], review_id, caller)
    return await version_history(runtime, store.TEAM_REVIEWS, review_id, page)
