"""The figures the real-time reports need from a form: days each stage took, calendar and
working days (England and Wales bank holidays excluded)."""

from __future__ import annotations

from typing import Any

from shared.calendar import local_date, working_days_between

from .values import StageRecord


def stage_durations(stages: list[StageRecord]) -> list[dict[str, Any]]:
    """For each stage that ended (its resolution details recorded): days from the date it was
    raised to the end, and to the response when one was recorded as received."""
    out = []
    for record in stages:
        if record.resolution is None:
            continue
        end = local_date(record.resolution.recorded_at)
        start = min(record.started_on, end)
        item: dict[str, Any] = {"stage": record.stage.value, "days": (end - start).days, "working_days": working_days_between(start, end)}
        received = record.dates.response_received_on
        if received is not None:
            item["response_days"] = (received - start).days
        out.append(item)
    return out
