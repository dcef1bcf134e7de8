"""The audit service's settings (environment variables, on top of the shared ones)."""

from __future__ import annotations

from pydantic import Field
from shared.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    service_name: str = "audit"

    #: Who receives copies as the IRO team manager, the CP chairs' manager and the safeguarding QA
    #: service manager. When unset they are found in the directory projection: the line manager
    #: of the IROs, the line manager of the CP chairs, and the service manager who is also the lead
    #: QA auditor (see ``audit.directory``).
    audit_iro_team_manager_id: str | None = None
    audit_cp_chairs_manager_id: str | None = None
    audit_qa_service_manager_id: str | None = None

    #: The programmes (their tools) drawn monthly; the first is the default of the cycle API.
    audit_cycle_tools: list[str] = Field(default=["kent-online-peer-review"], min_length=1)
    #: Whether this replica runs the scheduled draw (safe on several replicas at once).
    audit_cycle_scheduler_enabled: bool = True
    #: Seconds between two passes of the scheduled draw.
    audit_cycle_scheduler_interval_s: float = Field(default=600.0, gt=0)
    #: Working days before the month when its sample is drawn and the allocations go out (Kent 4.4).
    audit_cycle_draw_working_days_before: int = Field(default=5, ge=1, le=20)
    #: Working days between reminders, as notify's REMINDER_WORKING_DAYS (shown in the timetable;
    #: notify sends them).
    audit_reminder_working_days: int = Field(default=10, ge=1)
    #: Day of the month of the mid-month digest, as notify's DIGEST_DAY_OF_MONTH (shown only).
    audit_digest_day_of_month: int = Field(default=15, ge=1, le=28)
    #: Allocation work items one replica holds at once, and so the largest batch it allocates in
    #: one transaction (one batch at a time per replica).
    audit_allocation_prefetch: int = Field(default=64, ge=1, le=256)
