"""The audit service's app factory: ``uvicorn audit.main:create_app --factory --port 8003``."""

from __future__ import annotations

from fastapi import FastAPI
from shared.app import Runtime, create_service_app
from shared.clock import Clock

from .case_audit import api, store
from .common import directory
from .common.context import AuditContext
from .consumers import CONSUMERS, allocation
from .cycles import api as api_cycles
from .cycles import store as cycle_store
from .cycles.usecases import CycleSettings
from .hampshire import api as hampshire_api
from .hampshire import store as hampshire_store
from .hillingdon import api as hillingdon_api
from .hillingdon import store as hillingdon_store
from .multi_agency import api as multi_agency_api
from .multi_agency import store as multi_agency_store
from .practice import api as practice_api
from .practice import store as practice_store
from .problems import PROBLEMS
from .reporting import api as api_reports
from .reporting import rollups as report_rollups
from .reporting.readings import readings as audit_readings
from .scheduler import CycleScheduler
from .scheduler import router as scheduler_router
from .settings import AuditSettings
from .team_review import api as team_review_api
from .team_review import store as team_review_store
from .tools import api as api_tools
from .tools import store as tool_store
from .tools import usecases as tool_usecases


def create_app(settings: AuditSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or AuditSettings()
    overrides = directory.ContactOverrides(
        iro_team_manager_id=settings.audit_iro_team_manager_id,
        cp_chairs_manager_id=settings.audit_cp_chairs_manager_id,
        qa_service_manager_id=settings.audit_qa_service_manager_id,
    )

    cycle_settings = CycleSettings(
        tools=tuple(settings.audit_cycle_tools), working_days_before=settings.audit_cycle_draw_working_days_before,
        reminder_interval=settings.audit_reminder_working_days, digest_day_of_month=settings.audit_digest_day_of_month,
    )

    async def on_startup(runtime: Runtime) -> None:
        ctx = AuditContext(runtime.uow, overrides)
        runtime.extra["audit"] = ctx
        runtime.extra["cycle_settings"] = cycle_settings
        await tool_usecases.seed_shipped_tools(runtime.uow)
        if settings.audit_cycle_scheduler_enabled:
            scheduler = CycleScheduler(ctx, cycle_settings, runtime.clock, settings.audit_cycle_scheduler_interval_s)
            scheduler.start()
            runtime.extra["cycle_scheduler"] = scheduler

    async def on_shutdown(runtime: Runtime) -> None:
        scheduler = runtime.extra.get("cycle_scheduler")
        if scheduler is not None:
            await scheduler.stop()

    return create_service_app(
        settings,
        title="Audit",
        description="Audit: programmes and tools, monthly sampling and allocation, audit, peer review and moderation.",
        routers=[api_tools.router, api.router, api_cycles.router, api_reports.router, multi_agency_api.router, hampshire_api.router, hillingdon_api.router, hillingdon_api.themed_router, practice_api.router, team_review_api.router, scheduler_router],
        indexes=[*store.INDEXES, *tool_store.INDEXES, *directory.INDEXES, *cycle_store.INDEXES, *multi_agency_store.INDEXES, *hampshire_store.INDEXES, *hillingdon_store.INDEXES, *practice_store.INDEXES, *team_review_store.INDEXES],
        consumers=[*CONSUMERS, allocation(settings.audit_allocation_prefetch)],
        workers=[lambda runtime: report_rollups.folder(runtime.db)],  # the reports' pending changes (reporting.rollups)
        domain_errors=PROBLEMS,
        readings=audit_readings(cycle_settings),
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        clock=clock,
    )
