"""The crib sheet in supervision and the service manager's monthly quality assurance session
(Hillingdon 4.1.1 and Appendix A).

A crib sheet is kept for one case: for each of the 16 points, the social worker's and the
manager's columns, the comments / follow-up action and the date the manager checked it. The
manager checks the sheet when every point is checked (a point not met needs its follow-up action).

"Service Managers will use this format to carry out a monthly Quality Assurance Session with each
Team Managers on two cases a month per team ... a report will be provided to the Divisional
Director on a monthly basis." A session covers exactly two checked crib sheets of one team's
cases in one month, and is reported to the assistant director.

Plain values: the API's request bodies (``hillingdon.schemas``) hold their limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage

from ...common.roles import QA_STAFF_ROLES, Role
from .crib_points import CRIB_POINTS, POINT_NUMBERS
from .events import Happened

CHECKED = "checked"
SAVED = "saved"
REPORTED = "reported"
#: Appendix A: "two cases a month per team".
CASES_PER_SESSION = 2


class Tick(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True, kw_only=True)
class CribEntry:
    """One point's row: the two columns, the follow-up action and the date checked by the manager."""

    social_worker: Tick | None = None
    manager: Tick | None = None
    follow_up: str = ""
    checked_on: date | None = None


class SheetStatus(StrEnum):
    DRAFT = "draft"
    CHECKED = "checked"


@dataclass
class SheetEdit:
    number: int
    by: str
    at: datetime
    entries: dict[str, CribEntry]


@dataclass
class CribSheet:
    id: str
    case_id: str
    team_id: str | None
    month: str
    social_worker_id: str
    team_manager_id: str
    service_manager_id: str | None
    created_by: str
    created_at: datetime
    version: int = 0
    status: SheetStatus = SheetStatus.DRAFT
    entries: dict[str, CribEntry] = field(default_factory=dict)
    history: list[SheetEdit] = field(default_factory=list)
    checked_by: str | None = None
    checked_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[Happened] = field(default_factory=list, repr=False, compare=False)

    @property
    def managers(self) -> tuple[str, ...]:
        return tuple(p for p in (self.team_manager_id, self.service_manager_id) if p)

    def viewers(self) -> list[str]:
        return sorted({self.social_worker_id, *self.managers})

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        """The social worker, the managers, and the QA team ("receive a copy for overview")."""
        return person_id in self.viewers() or not QA_STAFF_ROLES.isdisjoint(roles)

    def save(self, *, by: str, entries: dict[str, CribEntry], at: datetime) -> None:
        """The manager fills in the sheet in supervision (later saves are kept, never overwritten)."""
        if by not in self.managers:
            raise NotAllowed("The team manager (or service manager) fills in the crib sheet in supervision.")
        if self.status is SheetStatus.CHECKED:
            raise WrongStage("The crib sheet was checked; it is kept as checked.")
        errors = [{"field": f"entries.{k}", "message": "the crib sheet's points are numbered 1 to 16"} for k in entries if not _point(k)]
        if errors:
            raise InvalidEntries("The crib sheet has 16 points.", errors)
        self.entries = {**self.entries, **entries}
        self.history.append(SheetEdit(len(self.history) + 1, by, at, dict(self.entries)))
        self._touch(by, at)
        self.events.append(Happened(SAVED, at, by))

    def gaps(self) -> list[dict[str, Any]]:
        found = []
        for point in CRIB_POINTS:
            key = str(point.number)
            entry = self.entries.get(key) or CribEntry()
            if entry.manager is None:
                found.append({"field": f"entries.{key}.manager", "message": f"point {key} not checked by the manager"})
            if entry.checked_on is None:
                found.append({"field": f"entries.{key}.checked_on", "message": f"point {key}: the date checked by the manager is missing"})
            if Tick.NO in (entry.manager, entry.social_worker) and not entry.follow_up.strip():
                found.append({"field": f"entries.{key}.follow_up", "message": f"point {key} is not met: give the follow-up action"})
        return found

    def check(self, *, by: str, at: datetime) -> None:
        if by not in self.managers:
            raise NotAllowed("The team manager (or service manager) checks the crib sheet.")
        if self.status is SheetStatus.CHECKED:
            raise WrongStage("The crib sheet was already checked.")
        found = self.gaps()
        if found:
            raise Gaps(f"The crib sheet cannot be checked: {len(found)} gap(s) to fill first.", found)
        self.status, self.checked_by, self.checked_at = SheetStatus.CHECKED, by, at
        self._touch(by, at)
        self.events.append(Happened(CHECKED, at, by))

    def follow_ups(self) -> list[str]:
        return [f"{k}: {e.follow_up}" for k, e in sorted(self.entries.items(), key=lambda kv: int(kv[0])) if e.follow_up]

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at


def _point(key: str) -> bool:
    return key.isdigit() and int(key) in POINT_NUMBERS


class SessionStatus(StrEnum):
    DRAFT = "draft"
    REPORTED = "reported"


@dataclass(frozen=True)
class SheetFacts:
    """What a session needs to know of a crib sheet."""

    id: str
    case_id: str
    team_id: str | None
    month: str
    checked: bool


@dataclass
class ManagementSession:
    id: str
    month: str
    team_id: str
    service_manager_id: str
    team_manager_id: str | None
    assistant_director_id: str | None
    crib_sheet_ids: list[str]
    created_at: datetime
    version: int = 0
    status: SessionStatus = SessionStatus.DRAFT
    summary: str = ""
    summaries: list[tuple[str, datetime, str]] = field(default_factory=list)
    reported_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[Happened] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def hold(
        cls, *, month: str, team_id: str, service_manager_id: str, roles: frozenset[str], team_manager_id: str | None,
        assistant_director_id: str | None, sheets: list[SheetFacts], at: datetime,
    ) -> ManagementSession:
        if Role.SERVICE_MANAGER not in roles:
            raise NotAllowed("The service manager holds the monthly quality assurance session with each team manager.")
        errors = []
        if len({s.id for s in sheets}) != CASES_PER_SESSION or len({s.case_id for s in sheets}) != CASES_PER_SESSION:
            errors.append({"field": "crib_sheet_ids", "message": "a session reviews two cases a month per team: give two crib sheets of different cases"})
        errors += [
            {"field": "crib_sheet_ids", "message": f"crib sheet {s.id} is not of team {team_id} in {month}"}
            for s in sheets if s.team_id != team_id or s.month != month
        ]
        if errors:
            raise InvalidEntries("The session's cases do not fit.", errors)
        return cls(
            id=session_id(month, team_id), month=month, team_id=team_id, service_manager_id=service_manager_id, team_manager_id=team_manager_id,
            assistant_director_id=assistant_director_id, crib_sheet_ids=sorted(s.id for s in sheets), created_at=at,
            updated_by=service_manager_id, updated_at=at,
        )

    def viewers(self) -> list[str]:
        return sorted({p for p in (self.service_manager_id, self.team_manager_id, self.assistant_director_id) if p})

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        return person_id in self.viewers() or not QA_STAFF_ROLES.isdisjoint(roles)

    def write_summary(self, *, by: str, summary: str, at: datetime) -> None:
        self._by_service_manager(by)
        self._draft()
        if not summary.strip():
            raise InvalidEntries("The summary is empty.", [{"field": "summary", "message": "say how well the actions have been progressed"}])
        self.summary = summary.strip()
        self.summaries.append((by, at, self.summary))
        self.updated_by, self.updated_at = by, at

    def report(self, *, by: str, sheets: list[SheetFacts], at: datetime) -> None:
        """The session's report to the assistant director ("the Divisional Director")."""
        self._by_service_manager(by)
        self._draft()
        found = [{"field": "crib_sheet_ids", "message": f"crib sheet {s.id} has not been checked"} for s in sheets if not s.checked]
        if not self.summary:
            found.append({"field": "summary", "message": "the session's summary is missing"})
        if found:
            raise Gaps("The session cannot be reported yet.", found)
        if self.assistant_director_id is None:
            raise WrongStage("No assistant director is known above this service manager.")
        self.status, self.reported_at = SessionStatus.REPORTED, at
        self.updated_by, self.updated_at = by, at
        self.events.append(Happened(REPORTED, at, by))

    def _by_service_manager(self, by: str) -> None:
        if by != self.service_manager_id:
            raise NotAllowed("Only the service manager who held the session writes and reports it.")

    def _draft(self) -> None:
        if self.status is SessionStatus.REPORTED:
            raise WrongStage("The session was reported to the assistant director; it is kept as reported.")


def session_id(month: str, team_id: str) -> str:
    return f"{month}:{team_id}"
