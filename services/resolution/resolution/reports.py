"""Real-time reporting over the forms as they are now: counts by theme, stage reached, team,
raiser's role and month; days taken per stage and to resolution; the impact recorded.

Every query starts with a period on an indexed field (``raised_at``, or ``finished_at`` of
resolved forms) and is bounded: a group-by answers at most ``MAX_GROUPS`` groups, the impact
list is paginated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document

from .domain import FormStatus
from .store import FORMS

MAX_GROUPS = 500


class GroupBy(StrEnum):
    THEME = "theme"
    STAGE = "stage"
    TEAM = "team"
    ROLE = "role"
    MONTH = "month"
    #: How forms closed unresolved ended: their coded closing reason (forms still open or resolved are not counted).
    CLOSING_REASON = "closing-reason"


_KEYS = {
    GroupBy.THEME: "$theme_ids",
    GroupBy.STAGE: "$current_stage",
    GroupBy.TEAM: "$team_id",
    GroupBy.ROLE: "$owner_role",
    GroupBy.MONTH: "$raised_month",
    GroupBy.CLOSING_REASON: "$closing_reason_id",
}


def period(start: date, end: date) -> dict[str, datetime]:
    """From the start of ``start`` to the end of ``end`` (UTC)."""
    return {"$gte": datetime.combine(start, time(), UTC), "$lt": datetime.combine(end + timedelta(days=1), time(), UTC)}


async def counts(db: AsyncDatabase[Document], group_by: GroupBy, start: date, end: date) -> tuple[list[dict[str, Any]], bool]:
    """Forms raised in the period per group and status: (rows, truncated)."""
    pipeline: list[dict[str, Any]] = [{"$match": {"raised_at": period(start, end)}}]
    if group_by is GroupBy.THEME:
        pipeline.append({"$unwind": "$theme_ids"})
    if group_by is GroupBy.CLOSING_REASON:
        pipeline.append({"$match": {"status": FormStatus.CLOSED_UNRESOLVED.value}})
    pipeline += [
        {"$group": {"_id": {"key": _KEYS[group_by], "status": "$status"}, "n": {"$sum": 1}}},
        {"$sort": {"_id.key": 1}},
        {"$limit": MAX_GROUPS * len(FormStatus) + 1},
    ]
    raw = await (await db[FORMS].aggregate(pipeline)).to_list()
    rows: dict[str, dict[str, Any]] = {}
    for item in raw:
        raw_key = item["_id"].get("key")
        key = "uncoded" if raw_key is None else str(raw_key)  # closed before closing reasons were coded
        row = rows.setdefault(key, {"key": key, "total": 0, **{s.value: 0 for s in FormStatus}})
        row[item["_id"]["status"]] += item["n"]
        row["total"] += item["n"]
    ordered = sorted(rows.values(), key=lambda r: r["key"])
    return ordered[:MAX_GROUPS], len(ordered) > MAX_GROUPS or len(raw) > MAX_GROUPS * len(FormStatus)


async def durations(db: AsyncDatabase[Document], start: date, end: date) -> dict[str, Any]:
    """Average days per stage (of stages that ended) and to resolution, for forms raised in the period."""
    match = {"$match": {"raised_at": period(start, end)}}
    per_stage = await (
        await db[FORMS].aggregate(
            [
                match,
                {"$unwind": "$report.stage_days"},
                {
                    "$group": {
                        "_id": "$report.stage_days.stage",
                        "count": {"$sum": 1},
                        "average_days": {"$avg": "$report.stage_days.days"},
                        "average_working_days": {"$avg": "$report.stage_days.working_days"},
                        "average_response_days": {"$avg": "$report.stage_days.response_days"},
                        "longest_days": {"$max": "$report.stage_days.days"},
                    }
                },
            ]
        )
    ).to_list()
    finished = await (
        await db[FORMS].aggregate(
            [
                match,
                {"$match": {"status": {"$in": [FormStatus.RESOLVED.value, FormStatus.CLOSED_UNRESOLVED.value]}}},
                {"$group": {"_id": "$status", "count": {"$sum": 1}, "average_days": {"$avg": "$report.days_to_finish"},
                            "longest_days": {"$max": "$report.days_to_finish"}}},
            ]
        )
    ).to_list()
    return {"per_stage": per_stage, "finished": {d["_id"]: d for d in finished}}


async def impacts(db: AsyncDatabase[Document], start: date, end: date, *, after: tuple[datetime, str] | None, limit: int) -> list[Document]:
    """Resolved forms, by the date they were resolved, with the impact recorded for the child."""
    query: dict[str, Any] = {"status": FormStatus.RESOLVED.value, "finished_at": period(start, end)}
    if after is not None:
        at, form_id = after
        query["$or"] = [{"finished_at": {"$gt": at}}, {"finished_at": at, "_id": {"$gt": form_id}}]
    projection = {"case_id": 1, "team_id": 1, "owner_role": 1, "theme_ids": 1, "finished_at": 1, "raised_at": 1, "stages": 1, "report": 1}
    return await db[FORMS].find(query, projection).sort([("finished_at", 1), ("_id", 1)]).limit(limit).to_list()
