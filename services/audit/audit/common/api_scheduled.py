"""What every scheduled run started over HTTP (escalations, reminders, notices, draws) checks
first, written once: only an administrator (or the scheduler) starts one, and it runs as of the
day its body names, or today (the day in England)."""

from __future__ import annotations

from datetime import date

from shared.app import Runtime
from shared.calendar import local_date
from shared.errors import forbidden
from shared.identity import Identity

from .roles import Role


def run_day(caller: Identity, runtime: Runtime, today: date | None, *, runs: str) -> date:
    """The day a scheduled run is as of; 403 unless the caller is an administrator (``runs`` says
    what is run, for the refusal)."""
    if not caller.has_role(Role.ADMINISTRATOR):
        raise forbidden(f"Only an administrator (or the scheduler) runs {runs}.")
    return today or local_date(runtime.clock.now())
