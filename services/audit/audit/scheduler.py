"""The cycle scheduler: every few minutes, draw each programme's next month once its draw day
(5 working days before the month) has come. Every replica may run it: the cycle's unique id makes
the first draw the only one, and the others find it drawn.

The same pass sends what falls due on the day, each once however many passes or replicas run it:
practice-observation reminders, improvement-plan actions due, the escalation of inadequate
practice still open a month on, and Hampshire's lists of last month's files ready for audit (from
the first of the month, in time for "by the 5th"; a file that becomes ready later goes in the
next pass's list)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.worker import BackgroundWorker

from .case_audit.usecases import escalate_due_inadequate_actions
from .common.context import AuditContext
from .cycles.domain.timetable import Month
from .cycles.usecases import CycleSettings, draw_due_cycles
from .hampshire.usecases import send_ready_lists
from .practice.usecases import observations_due
from .team_review.usecases import notice_actions_due

log = logging.getLogger(__name__)

#: Working days are days in England, not in UTC.
LOCAL = ZoneInfo("Europe/London")


def local_date(at: datetime) -> date:
    return at.astimezone(LOCAL).date()


class CycleScheduler(BackgroundWorker):
    """A pass every ``interval_s``: the due draws, then what falls due today (each part's failure
    is logged and tried again at the next pass, so the loop itself never backs off)."""

    def __init__(self, ctx: AuditContext, settings: CycleSettings, clock: Clock, interval_s: float) -> None:
        super().__init__("audit-cycle-scheduler", interval_s=interval_s, logger=log)
        self.ctx, self.settings, self.clock = ctx, settings, clock

    async def run_once(self) -> None:
        try:
            drawn = await draw_due_cycles(self.ctx, local_date(self.clock.now()), self.settings)
            if drawn:
                log.info("scheduled draw", extra={"cycles": drawn})
        except Exception:
            log.exception("scheduled draw failed; trying again at the next pass")
        await self.due_today(local_date(self.clock.now()))

    async def due_today(self, today: date) -> None:
        """Send what falls due on ``today``: each kind on its own, a failure logged and tried again next pass."""
        for name, run in (
            ("observation reminders", observations_due),
            ("improvement actions due", notice_actions_due),
            ("inadequate practice escalations", escalate_due_inadequate_actions),
            ("Hampshire ready lists", _last_months_ready_lists),
        ):
            try:
                sent = await run(self.ctx, today)
                if sent:
                    log.info("scheduled notices sent", extra={"run": name, "count": len(sent)})
            except Exception:
                log.exception("scheduled run failed; trying again at the next pass", extra={"run": name})


#: Who a scheduled list is sent by, as events and the list record say.
SCHEDULER = "audit-scheduler"


async def _last_months_ready_lists(ctx: AuditContext, today: date) -> list[str]:
    return await send_ready_lists(ctx, str(Month.of(today).plus(-1)), by=SCHEDULER)
