"""``POST /scheduler/runs`` as every service declares it: its guards and problem answers come
from ``shared.as_of``, whatever the service's run answers."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel
from shared.scheduler_runs import scheduler_runs_route

from shared import as_of


class RunOut(BaseModel):
    service: Literal["sample"] = "sample"


def test_the_route_is_a_post_guarded_as_as_of_says_with_its_problem_answers() -> None:
    router = APIRouter(prefix="/v1")

    @scheduler_runs_route(router, RunOut, "Run the sample's pass as of a date")
    async def run(body: as_of.SchedulerRunIn) -> RunOut:
        return RunOut()

    [route] = router.routes
    assert isinstance(route, APIRoute)
    assert (route.path, route.methods, route.response_model, route.summary) == ("/v1/scheduler/runs", {"POST"}, RunOut, "Run the sample's pass as of a date")
    assert route.dependencies == list(as_of.GUARDS) and route.responses == as_of.RESPONSES
    assert route.endpoint is run
