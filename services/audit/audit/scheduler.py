"""The cycle scheduler: every few minutes, draw each programme's next month once its draw day
(5 working days before the month) has come. Every replica may run it: the cycle's unique id makes
the first draw the only one, and the others find it drawn.

The same pass sends what falls due on the day, each once however many passes or replicas run it:
practice-observation reminders, improvement-plan actions due, the escalation of inadequate
practice still open a month on, and Hampshire's lists of last month's files ready for audit (from
the first of the month, in time for "by the 5th"; a file that becomes ready later goes in the
next pass's list), and destroys the multi-agency audits held for three years (Hillingdon
Appendix E 6; ``multi_agency.usecases.destroy_held_three_years``), each logged with its counts kept.

``run_pass(ctx, settings, today)`` is that pass, for one day. The background loop runs it for the
clock's day; ``POST /v1/scheduler/runs`` (``router``; through the gateway
``/api/v1/audit/scheduler/runs``) runs it as of a day an administrator names, where
``SCHEDULER_AS_OF_ENABLED`` allows it (``./dev up`` and the tests; off by default: 404 elsewhere)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.calendar import local_date
from shared.clock import Clock
from shared.scheduler_runs import scheduler_runs_route
from shared.worker import BackgroundWorker

from shared import as_of

from .case_audit.usecases import escalate_due_inadequate_actions
from .common.context import AuditContext
from .cycles.domain.timetable import Month
from .cycles.usecases import CycleSettings, draw_due_cycles
from .hampshire.usecases import send_ready_lists
from .multi_agency.usecases import destroy_held_three_years
from .practice.usecases import observations_due
from .team_review.usecases import notice_actions_due

log = logging.getLogger(__name__)

#: Who a scheduled list is sent by, as events and the list record say.
SCHEDULER = "audit-scheduler"


async def _last_months_ready_lists(ctx: AuditContext, today: date) -> list[str]:
    return await send_ready_lists(ctx, str(Month.of(today).plus(-1)), by=SCHEDULER)


async def _multi_agency_retention(ctx: AuditContext, today: date) -> list[str]:
    return await destroy_held_three_years(ctx, today, by=SCHEDULER)


Job = Callable[[AuditContext, date], Awaitable[Sequence[Any]]]
JobName = Literal["draws", "observation-reminders", "improvement-actions-due", "inadequate-practice-escalations", "hampshire-ready-lists", "multi-agency-retention"]

#: What falls due on a day, in the order a pass sends it (after the draws): job name, what it does.
DUE_TODAY: tuple[tuple[JobName, str, Job], ...] = (
    ("observation-reminders", "observation reminders", observations_due),
    ("improvement-actions-due", "improvement actions due", notice_actions_due),
    ("inadequate-practice-escalations", "inadequate practice escalations", escalate_due_inadequate_actions),
    ("hampshire-ready-lists", "Hampshire ready lists", _last_months_ready_lists),
    ("multi-agency-retention", "multi-agency audits destroyed after three years", _multi_agency_retention),
)


@dataclass
class JobRun:
    job: JobName
    #: What this run sent or drew (0 when it had been done already).
    count: int = 0
    #: The ids of what it drew or sent, where the job names them by id.
    ids: list[str] = field(default_factory=list)
    failed: bool = False


async def _run_job(name: JobName, label: str, run: Callable[[], Awaitable[Sequence[Any]]]) -> JobRun:
    """One job of a pass: its failure is logged and the pass goes on (the next pass tries again)."""
    try:
        done = await run()
    except Exception:
        log.exception("scheduled run failed; trying again at the next pass", extra={"run": label})
        return JobRun(name, failed=True)
    if done:
        log.info("scheduled notices sent", extra={"run": label, "count": len(done)})
    return JobRun(name, count=len(done), ids=[x for x in done if isinstance(x, str)])


async def run_due_today(ctx: AuditContext, today: date) -> list[JobRun]:
    """Send what falls due on ``today``: each kind on its own, a failure logged and tried again next pass."""
    runs = []
    for name, label, run in DUE_TODAY:

        async def job(run: Job = run) -> Sequence[Any]:
            return await run(ctx, today)

        runs.append(await _run_job(name, label, job))
    return runs


async def run_pass(ctx: AuditContext, settings: CycleSettings, today: date) -> list[JobRun]:
    """The scheduler's whole pass for ``today``: the due draws, then what falls due that day. What
    the background loop runs, and what ``POST /v1/scheduler/runs`` runs as of a named day."""
    async def draws_due() -> list[str]:
        return await draw_due_cycles(ctx, today, settings)

    draws = await _run_job("draws", "scheduled draw", draws_due)
    return [draws, *await run_due_today(ctx, today)]


class CycleScheduler(BackgroundWorker):
    """A pass every ``interval_s``: the due draws, then what falls due today (each part's failure
    is logged and tried again at the next pass, so the loop itself never backs off)."""

    def __init__(self, ctx: AuditContext, settings: CycleSettings, clock: Clock, interval_s: float) -> None:
        super().__init__("audit-cycle-scheduler", interval_s=interval_s, logger=log)
        self.ctx, self.settings, self.clock = ctx, settings, clock

    async def run_once(self) -> None:
        await run_pass(self.ctx, self.settings, local_date(self.clock.now()))

    async def due_today(self, today: date) -> None:
        """Send what falls due on ``today`` (the pass without the draws)."""
        await run_due_today(self.ctx, today)


# --- POST /v1/scheduler/runs: the pass as of a day (administrators; local and test settings) ----

class AuditSchedulerJobOut(BaseModel):
    job: JobName
    status: Literal["ran", "failed"] = Field(description="failed: logged; the next pass (or run) tries again")
    count: int = Field(description="What this run drew or sent; 0 when it was done already")
    ids: list[str] = Field(description="The cycles drawn, audits escalated, ready lists sent or multi-agency audits destroyed, by id (empty for the other jobs)")


class AuditSchedulerRunOut(BaseModel):
    service: Literal["audit"] = "audit"
    as_of: date = Field(description="The day the pass ran as")
    jobs: list[AuditSchedulerJobOut]


router = APIRouter(prefix="/v1", tags=["audit schedule"])


@scheduler_runs_route(
    router, AuditSchedulerRunOut,
    "Run the scheduler's pass as of a day: due draws, observation reminders, improvement actions due, escalations, Hampshire ready lists, multi-agency audits held three years destroyed (administrators; local and test settings)",
)
async def run_scheduler(body: as_of.SchedulerRunIn, runtime: RuntimeDep) -> AuditSchedulerRunOut:
    today = local_date(as_of.parse_as_of(body.as_of))
    runs = await run_pass(runtime.extra["audit"], runtime.extra["cycle_settings"], today)
    return AuditSchedulerRunOut(as_of=today, jobs=[
        AuditSchedulerJobOut(job=r.job, status="failed" if r.failed else "ran", count=r.count, ids=r.ids)
        for r in runs
    ])
