"""The audit service's gauges, read on the readings' slow cadence (``shared.readings``): this
month's and next month's audits by programme and stage, and whether a programme's draw is overdue
(its draw day has come and next month is not drawn) — what the operators' alerts and dashboard
read. Every replica reads the same database: dashboards take the ``max`` across replicas."""

from __future__ import annotations

from prometheus_client import Gauge
from shared.app import Runtime
from shared.calendar import local_date
from shared.readings import Reading

from ..case_audit.domain.audit import AuditStatus
from ..case_audit.store import AUDITS
from ..cycles.domain.cycle import cycle_id
from ..cycles.domain.timetable import Month, draw_due
from ..cycles.store import CYCLES
from ..cycles.usecases import CycleSettings

AUDITS_BY_STAGE = Gauge(
    "qa_audit_audits",
    "Audits of this month and next by programme and stage (audit, peer_review, moderation, completed)",
    ["programme", "month", "status"],
)
DRAW_OVERDUE = Gauge(
    "qa_audit_draw_overdue",
    "1 when the programme's draw day for next month has come and next month is not drawn",
    ["tool_id"],
)


def readings(settings: CycleSettings) -> list[Reading]:
    seen: set[str] = set()

    async def audits_by_stage(runtime: Runtime) -> None:
        this = Month.of(local_date(runtime.clock.now()))
        months = {str(this): "current", str(this.plus(1)): "next"}
        pipeline = [
            {"$match": {"month": {"$in": list(months)}}},
            {"$group": {"_id": {"programme": "$audit.form.programme", "month": "$month", "status": "$status"}, "n": {"$sum": 1}}},
        ]
        rows = await (await runtime.db[AUDITS].aggregate(pipeline)).to_list()
        counts = {(r["_id"]["programme"], months[r["_id"]["month"]], r["_id"]["status"]): r["n"] for r in rows}
        # A programme seen before reads 0 when its audits are gone from the window, never stale.
        seen.update(programme for programme, _, _ in counts)
        for programme in seen:
            for month in months.values():
                for status in AuditStatus:
                    AUDITS_BY_STAGE.labels(programme, month, status.value).set(counts.get((programme, month, status.value), 0))

    async def draws_overdue(runtime: Runtime) -> None:
        today = local_date(runtime.clock.now())
        month = Month.of(today).plus(1)
        for tool_id in settings.tools:
            due = draw_due(today, month, settings.working_days_before)
            drawn = due and await runtime.db[CYCLES].find_one({"_id": cycle_id(tool_id, month)}, {"_id": 1}) is not None
            DRAW_OVERDUE.labels(tool_id).set(1 if due and not drawn else 0)

    return [audits_by_stage, draws_overdue]

