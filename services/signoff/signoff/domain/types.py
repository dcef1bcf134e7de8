"""Exemplar types as data: each type's questions (which are mandatory), who may give the first
signature and the counter-signature, whether one person may give both, the timescale in working
days from the start date, and the question whose answer is that start date.

An administrator adds and changes types through the API; every change is a new version of the
type, and an exemplar keeps the version it was started on, so changing a type never changes the
rules of work already under way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from .errors import FieldError, InvalidInput, Unanswered
from .roles import KNOWN_ROLES

CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TEXT_ANSWER = 20_000

Answers = dict[str, Any]


class QuestionKind(StrEnum):
    TEXT = "text"
    YES_NO = "yes_no"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: QuestionKind
    mandatory: bool
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExemplarType:
    code: str
    name: str
    questions: tuple[Question, ...]
    first_signers: frozenset[str]
    counter_signers: frozenset[str]
    same_person_may_sign_both: bool
    timescale_working_days: int | None
    start_question_id: str | None = None
    #: How the seed's job titles ("duty senior", "chair") map to the directory's roles, and why.
    role_notes: str = ""
    #: An inactive type starts no new exemplar; exemplars already started carry on.
    active: bool = True
    #: The version of this definition (1 when first stored; every change adds one).
    version: int = 1
    _by_id: Mapping[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        errors = self._problems()
        if errors:
            raise InvalidInput(f"The exemplar type {self.code!r} is not valid.", errors)
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    def _problems(self) -> list[FieldError]:
        errors: list[FieldError] = []
        if not CODE.match(self.code):
            errors.append(FieldError("code", "a code is 2-20 upper-case letters, digits or _, starting with a letter (e.g. INIASS)"))
        if not self.name.strip():
            errors.append(FieldError("name", "a type needs a name", "missing"))
        if not self.questions:
            errors.append(FieldError("questions", "a type needs at least one question", "missing"))
        seen: set[str] = set()
        for i, q in enumerate(self.questions):
            where = f"questions[{i}]"
            if not QUESTION_ID.match(q.id):
                errors.append(FieldError(f"{where}.id", "a question id is lower-case letters, digits or _ (e.g. child_seen)"))
            if q.id in seen:
                errors.append(FieldError(f"{where}.id", f"question id {q.id!r} is used twice", "duplicate"))
            seen.add(q.id)
            if not q.text.strip():
                errors.append(FieldError(f"{where}.text", "a question needs its text", "missing"))
            if q.kind is QuestionKind.CHOICE and len(set(q.options)) < 2:
                errors.append(FieldError(f"{where}.options", "a choice question needs at least two distinct options"))
            if q.kind is not QuestionKind.CHOICE and q.options:
                errors.append(FieldError(f"{where}.options", "only a choice question has options"))
        for name, signers in (("first_signers", self.first_signers), ("counter_signers", self.counter_signers)):
            if not signers:
                errors.append(FieldError(name, "at least one role must be able to sign"))
            unknown = sorted(set(signers) - KNOWN_ROLES)
            if unknown:
                errors.append(FieldError(name, f"unknown role(s) {unknown}; roles are the directory's (e.g. duty_senior)"))
        if self.timescale_working_days is not None and not 0 <= self.timescale_working_days <= 400:
            errors.append(FieldError("timescale_working_days", "a timescale is 0 to 400 working days, or none"))
        if self.start_question_id is not None:
            start = next((q for q in self.questions if q.id == self.start_question_id), None)
            if start is None or start.kind is not QuestionKind.DATE:
                errors.append(FieldError("start_question_id", "the start date question must be one of the type's date questions"))
        return errors

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def check_answers(self, changes: Mapping[str, Any]) -> Answers:
        """``changes`` normalised (dates as ISO text, text stripped; ``None`` clears an answer),
        or ``InvalidInput`` listing every malformed answer. Nothing is partly accepted."""
        errors: list[FieldError] = []
        clean: Answers = {}
        for qid, value in changes.items():
            question = self.question(qid)
            if question is None:
                errors.append(FieldError(f"answers.{qid}", f"{self.name} has no question {qid!r}", "unknown"))
                continue
            try:
                clean[qid] = _normalise(question, value)
            except ValueError as exc:
                errors.append(FieldError(f"answers.{qid}", str(exc)))
        if errors:
            raise InvalidInput(f"Some answers do not fit the questions of {self.name}; nothing was saved.", errors)
        return clean

    def unanswered_mandatory(self, answers: Mapping[str, Any]) -> list[Unanswered]:
        """The Exemplar Assistant: every mandatory question without an answer, in form order."""
        return [Unanswered(q.id, q.text) for q in self.questions if q.mandatory and answers.get(q.id) is None]

    def start_date(self, answers: Mapping[str, Any], fallback: date) -> date:
        """The start of the piece of work: the start question's answer, else ``fallback``."""
        if self.start_question_id and isinstance(answers.get(self.start_question_id), str):
            return date.fromisoformat(answers[self.start_question_id])
        return fallback


def _normalise(question: Question, value: Any) -> Any:
    if value is None:
        return None
    if question.kind is QuestionKind.TEXT:
        if not isinstance(value, str):
            raise ValueError("expects text")
        if len(value) > MAX_TEXT_ANSWER:
            raise ValueError(f"is longer than {MAX_TEXT_ANSWER} characters")
        # blank text is no answer: the Exemplar Assistant must still list a mandatory question
        return value.strip() or None
    if question.kind is QuestionKind.YES_NO:
        if not isinstance(value, bool):
            raise ValueError("expects true or false")
        return value
    if question.kind is QuestionKind.DATE:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError("expects a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("expects a date as YYYY-MM-DD") from None
    if not isinstance(value, str) or value not in question.options:
        raise ValueError(f"expects one of {list(question.options)}")
    return value
