"""The timeliness report for performance monitoring and statutory returns: per type and period,
each piece of work's start date, the latest version's counter-signature date, working days taken,
and whether it was on time; with totals per type and overall.

A piece of work belongs to the period its start date falls in. Each exemplar counts once,
clones included (each sibling's assessment is a piece of work for that child). The totals come
from roll-ups per start date and month (``rollups``), the rows one page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pymongo.asynchronous.database import AsyncDatabase
from shared.identity import Identity
from shared.mongo import Document

from . import rollups, store
from .domain import roles
from .domain.errors import InvalidInput, NotAllowed
from .domain.timeliness import Assessment, Totals, assess

MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Row:
    exemplar_id: str
    case_id: str
    team_id: str
    type_code: str
    latest_version: int
    clone_of_exemplar_id: str | None
    assessment: Assessment
    timescale_working_days: int | None

    @property
    def cursor(self) -> str:
        return f"{self.assessment.start_date.isoformat()}|{self.type_code}|{self.exemplar_id}"


@dataclass
class Report:
    type_code: str | None
    period_from: date
    period_to: date
    rows: list[Row]
    totals: Totals
    by_type: dict[str, Totals] = field(default_factory=dict)


async def timeliness(
    db: AsyncDatabase[Document], caller: Identity, *, type_code: str | None, period_from: date, period_to: date, today: date,
    after: str | None = None, limit: int = 0,
) -> Report:
    """The totals (from the roll-ups, ``rollups``: a few documents per period) and the rows after
    the cursor ``after``, at most ``limit`` of them (0: every row), read from one index range."""
    if caller.roles.isdisjoint(roles.REPORT_READERS):
        raise NotAllowed("The timeliness report is for managers and performance staff.")
    if period_to < period_from:
        raise InvalidInput("The period ends before it starts.")
    if (period_to - period_from).days > MAX_PERIOD_DAYS:
        raise InvalidInput("A report covers at most three years.")
    docs = await store.for_timeliness(db, type_code, period_from, period_to, after=after, limit=limit)
    rows = []
    for d in docs:
        done = date.fromisoformat(d["counter_signed_on"]) if d.get("counter_signed_on") else None
        rows.append(
            Row(
                d["_id"], d["case_id"], d["team_id"], d["type_code"], d["latest_version"],
                (d.get("clone_of") or {}).get("exemplar_id"),
                assess(date.fromisoformat(d["start_date"]), done, d.get("timescale_working_days"), today),
                d.get("timescale_working_days"),
            )
        )
    total, by_type = Totals(), dict[str, Totals]()
    for name, counted in sorted((await rollups.counts(db, type_code, period_from, period_to, today)).items()):
        by_type[name] = Totals(sum(counted.values()), counted)
        total.total += by_type[name].total
        for status, n in counted.items():
            total.counts[status] += n
    return Report(type_code, period_from, period_to, rows, total, by_type)
