"""The local day: working days, "due today" and "overdue" are days in England, not in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")


def local_date(at: datetime) -> date:
    return at.astimezone(LOCAL).date()
