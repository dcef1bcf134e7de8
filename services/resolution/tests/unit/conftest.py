"""Builders for the resolution domain's unit tests: a case, people, themes and a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from resolution.domain import CaseSnapshot, PersonRef, ResolutionForm, Stage, Theme

OWNER = "IRO-1"
SW = "SW-1"
SW2 = "SW-2"
TM = "TM-1"
HOS = "HOS-1"
SD = "SD-1"
ED = "ED-1"

PEOPLE = {
    SW: PersonRef(SW, frozenset({"social_worker"})),
    SW2: PersonRef(SW2, frozenset({"senior_practitioner"})),
    TM: PersonRef(TM, frozenset({"team_manager"})),
    HOS: PersonRef(HOS, frozenset({"head_of_service"})),
    SD: PersonRef(SD, frozenset({"service_director"})),
    ED: PersonRef(ED, frozenset({"executive_director"})),
}

RESPONDER = {
    Stage.INFORMAL: SW,
    Stage.STAGE_1: TM,
    Stage.STAGE_2: HOS,
    Stage.STAGE_3: SD,
    Stage.STAGE_4: ED,
}


class World:
    """A clock that moves, themes, a case and people, and a form raised by an IRO."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
        at = self.now
        self.themes = {
            "care-planning": Theme("care-planning", "Care planning", "", True, 1, "ADM", at, "ADM", at),
            "contact": Theme("contact", "Contact", "", True, 1, "ADM", at, "ADM", at),
            "old": Theme("old", "Old", "", False, 2, "ADM", at, "ADM", at),
        }
        self.case = CaseSnapshot("CASE-1", "CIC", "open", "T-1", allocated_worker_id=SW, team_manager_id=TM)

    def tick(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def person(self, person_id: str) -> PersonRef:
        return PEOPLE[person_id]

    def raise_form(self, *, case: CaseSnapshot | None = None, roles: frozenset[str] = frozenset({"iro"}), by: str = OWNER, **kw: Any) -> ResolutionForm:
        kw.setdefault("concerns", [(self.themes["care-planning"], "No plan for permanence at the second review.")])
        return ResolutionForm.raise_form("F-1", case=case or self.case, by=by, roles=roles, at=self.tick(minutes=1), **kw)

    def delegated(self, stage: Stage = Stage.INFORMAL, form: ResolutionForm | None = None) -> ResolutionForm:
        form = form or self.raise_form()
        form.delegate_section(stage, self.person(RESPONDER[stage]), by=OWNER, at=self.tick(minutes=1))
        return form


@pytest.fixture
def world() -> World:
    return World()
