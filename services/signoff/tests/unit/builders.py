"""Builders for the domain's unit tests: cases, actors and complete answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from signoff.domain.access import Actor, CaseView, PersonView, Relation
from signoff.domain.exemplar import Exemplar
from signoff.domain.types import ExemplarType, QuestionKind

#: Monday 2 March 2026, 09:00 UTC (GMT): a plain working week follows.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def actor(person_id: str, *roles: str, relation: Relation = Relation.MEMBER) -> Actor:
    return Actor(person_id, frozenset(roles), relation)


def complete_answers(t: ExemplarType, start: str = "2026-03-02") -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in t.questions:
        if q.kind is QuestionKind.TEXT:
            answers[q.id] = f"answer to {q.id}"
        elif q.kind is QuestionKind.YES_NO:
            answers[q.id] = True
        elif q.kind is QuestionKind.DATE:
            answers[q.id] = start
        else:
            answers[q.id] = q.options[0]
    return answers


CASE = CaseView("C-1", "T-A", sibling_case_ids=frozenset({"C-2"}))
SIBLING = CaseView("C-2", "T-A", sibling_case_ids=frozenset({"C-1"}))

SW = actor("P-SW", "social_worker")
SW2 = actor("P-SW2", "social_worker")
DS = actor("P-DS", "duty_senior", "senior_practitioner")
SP = actor("P-SP", "senior_practitioner")
TM = actor("P-TM", "team_manager", relation=Relation.MANAGER)
DM = actor("P-DM", "district_manager", relation=Relation.MANAGER)
ADMIN = actor("P-ADMIN", "administrator", relation=Relation.NONE)


def start(t: ExemplarType, by: Actor = SW, answers: dict[str, Any] | None = None, case: CaseView = CASE, at: datetime = T0) -> Exemplar:
    x = Exemplar.start("X-1", case, t, by, complete_answers(t) if answers is None else answers, at)
    x.events.clear()
    return x

#: The duty senior as the directory projection knows them (for workflow messages).
SENIOR_PERSON = PersonView("P-DS", frozenset({"duty_senior", "senior_practitioner"}), "T-A", "P-TM")
