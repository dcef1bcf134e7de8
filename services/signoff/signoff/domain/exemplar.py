"""The exemplar aggregate: one child's piece of work (an assessment, a strategy discussion...)
with its versions. Each version is answered, first-signed, then counter-signed, after which it is
locked; an unlock makes Version N+1 from the data of the version unlocked, and earlier versions
stay exactly as they were. Every change is attributed and recorded in ``events``.

``revision`` counts the aggregate's changes for optimistic concurrency (it is the ETag); it is
not the exemplar's Version N, which only an unlock moves on.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from shared.calendar import local_date

from . import events as ev
from . import roles as r
from .access import Actor, CaseView
from .catalogue import COUNTER_SIGN_AFTER, SEED_TYPES
from .errors import Conflict, InvalidInput, Locked, MandatoryUnanswered, NotAllowed, ReadFirstNotSigned, Unanswered
from .timeliness import Assessment, assess
from .types import Answers, ExemplarType

MAX_NOTE = 20_000


class VersionStatus(StrEnum):
    DRAFT = "draft"
    FIRST_SIGNED = "first_signed"
    COUNTER_SIGNED = "counter_signed"


class Origin(StrEnum):
    CREATED = "created"
    UNLOCKED = "unlocked"
    CLONED = "cloned"


@dataclass(frozen=True)
class Signature:
    by: str
    at: datetime


@dataclass(frozen=True)
class CounterSignature:
    by: str
    at: datetime
    comments: str | None = None
    supervision_notes: str | None = None


@dataclass(frozen=True)
class Unlock:
    by: str
    at: datetime
    reason: str
    new_version: int


@dataclass(frozen=True)
class AnswerEdit:
    """One save of answers: what each changed question held before and after."""

    by: str
    at: datetime
    changes: Mapping[str, Mapping[str, Any]]
    withdrew_first_signature: Signature | None = None


@dataclass(frozen=True)
class CloneOf:
    """The index child's exemplar and version this one was cloned from, with the counter-signer's
    comments, so the senior can counter-sign the clone without re-reading it."""

    exemplar_id: str
    case_id: str
    version: int
    counter_signed_by: str
    counter_signed_at: datetime
    comments: str | None


@dataclass
class ExemplarVersion:
    number: int
    answers: Answers
    created_by: str
    created_at: datetime
    origin: Origin
    first_signature: Signature | None = None
    counter_signature: CounterSignature | None = None
    unlock: Unlock | None = None
    edits: list[AnswerEdit] = field(default_factory=list)

    @property
    def status(self) -> VersionStatus:
        if self.counter_signature is not None:
            return VersionStatus.COUNTER_SIGNED
        if self.first_signature is not None:
            return VersionStatus.FIRST_SIGNED
        return VersionStatus.DRAFT

    @property
    def locked(self) -> bool:
        return self.counter_signature is not None


def _may_work_on(actor: Actor) -> bool:
    return actor.in_team_structure or actor.is_administrator


def _refuse_admin_officer_signature(actor: Actor, signers: frozenset[str], type_name: str) -> None:
    """"The initial assessment exemplar can be completed and cloned by the duty admin officer and
    work-flowed to the duty senior who will apply first and second signature": the admin officer
    never signs (unless they also hold a signing role of the type)."""
    if r.ADMIN_OFFICER in actor.roles and not actor.has_role(signers):
        raise NotAllowed(
            f"The admin officer completes {type_name} and work-flows it to the duty senior, who applies the first and "
            "second signature: an admin officer does not sign."
        )


def _require_open(case: CaseView) -> None:
    if not case.is_open:
        raise Conflict(f"Case {case.case_id!r} is {case.status}: no new exemplar is started on it.")


def _note(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_NOTE:
        raise InvalidInput(f"The {name} are longer than {MAX_NOTE} characters.")
    return value.strip()


@dataclass
class Exemplar:
    id: str
    case_id: str
    team_id: str
    type: ExemplarType
    created_by: str
    created_at: datetime
    versions: list[ExemplarVersion]
    clone_of: CloneOf | None = None
    revision: int = 0
    events: list[ev.ExemplarEvent] = field(default_factory=list)

    # --- creation --------------------------------------------------------------------------

    @classmethod
    def start(
        cls, exemplar_id: str, case: CaseView, exemplar_type: ExemplarType, actor: Actor, answers: Mapping[str, Any], at: datetime
    ) -> Exemplar:
        if not exemplar_type.active:
            raise Conflict(f"{exemplar_type.name} ({exemplar_type.code}) is no longer in use: no new exemplar can be started.")
        _require_open(case)
        if not _may_work_on(actor):
            raise NotAllowed("Only staff of the child's team (or its managers, or an administrator) can start an exemplar.")
        clean = {k: v for k, v in exemplar_type.check_answers(answers).items() if v is not None}
        first = ExemplarVersion(1, clean, actor.person_id, at, Origin.CREATED)
        exemplar = cls(exemplar_id, case.case_id, case.team_id, exemplar_type, actor.person_id, at, [first])
        exemplar._record(ev.Created, actor.person_id, at, start_date=exemplar.start_date)
        return exemplar

    @classmethod
    def clone_from(
        cls, exemplar_id: str, index: Exemplar, index_case: CaseView, case: CaseView, actor: Actor, at: datetime
    ) -> Exemplar:
        """A clone of ``index``'s latest (counter-signed) version on a sibling's case: same answers,
        its own signatures still needed."""
        source = index.current
        if not source.locked or source.counter_signature is None:
            raise Conflict(
                f"Version {source.number} of the index exemplar is not counter-signed yet: "
                "an exemplar is cloned to siblings once it has been quality assured and signed off."
            )
        if case.case_id == index.case_id:
            raise InvalidInput(f"Case {case.case_id!r} is the index child's own case, not a sibling's.")
        if not are_siblings(index_case, case):
            raise InvalidInput(f"Case {case.case_id!r} is not a sibling of case {index.case_id!r} in the directory.")
        _require_open(case)
        if not _may_work_on(actor):
            raise NotAllowed(f"Only staff of the sibling's team (or its managers) can clone an exemplar to case {case.case_id!r}.")
        sig = source.counter_signature
        clone_of = CloneOf(index.id, index.case_id, source.number, sig.by, sig.at, sig.comments)
        first = ExemplarVersion(1, dict(source.answers), actor.person_id, at, Origin.CLONED)
        clone = cls(exemplar_id, case.case_id, case.team_id, index.type, actor.person_id, at, [first], clone_of=clone_of)
        clone._record(
            ev.Cloned, actor.person_id, at,
            index_exemplar_id=index.id, index_case_id=index.case_id, index_version=source.number, start_date=clone.start_date,
        )
        # "The index child will be identified at the outset and a case note added to each of the
        # siblings by team admin": the note goes with each clone, by id (never the child's name).
        clone._record(
            ev.IndexChildCaseNoteAdded, actor.person_id, at,
            index_exemplar_id=index.id, index_case_id=index.case_id, index_version=source.number,
        )
        return clone

    # --- reading ---------------------------------------------------------------------------

    @property
    def current(self) -> ExemplarVersion:
        return self.versions[-1]

    def version(self, number: int) -> ExemplarVersion | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None

    @property
    def start_date(self) -> date:
        return self.type.start_date(self.current.answers, local_date(self.created_at))

    def unanswered_mandatory(self) -> list[Unanswered]:
        """The Exemplar Assistant for the current version."""
        return self.type.unanswered_mandatory(self.current.answers)

    def timeliness(self, today: date) -> Assessment:
        signed = self.current.counter_signature
        return assess(self.start_date, local_date(signed.at) if signed else None, self.type.timescale_working_days, today)

    # --- changes ---------------------------------------------------------------------------

    def save_answers(self, actor: Actor, changes: Mapping[str, Any], at: datetime) -> None:
        """Save answers to the current version (``None`` clears one). A first signature given
        before the change is withdrawn: it stood for the answers as they were."""
        version = self.current
        if version.locked:
            raise self._locked(version)
        if not _may_work_on(actor):
            raise NotAllowed("Only staff of the child's team (or its managers, or an administrator) can change this exemplar.")
        if not changes:
            raise InvalidInput("Send at least one answer to save.")
        clean = self.type.check_answers(changes)
        diff = {
            qid: {"before": version.answers.get(qid), "after": value}
            for qid, value in clean.items()
            if version.answers.get(qid) != value
        }
        if not diff:
            return
        withdrawn = version.first_signature
        for qid, value in clean.items():
            if value is None:
                version.answers.pop(qid, None)
            else:
                version.answers[qid] = value
        version.first_signature = None
        version.edits.append(AnswerEdit(actor.person_id, at, diff, withdrawn))
        self._record(ev.AnswersSaved, actor.person_id, at, question_ids=tuple(sorted(diff)))
        if withdrawn is not None:
            self._record(ev.FirstSignatureWithdrawn, actor.person_id, at, signed_by=withdrawn.by)

    def first_sign(self, actor: Actor, at: datetime) -> None:
        version = self.current
        if version.locked:
            raise self._locked(version)
        _refuse_admin_officer_signature(actor, self.type.first_signers, self.type.name)
        if version.first_signature is not None:
            raise Conflict(
                f"Version {version.number} was already first-signed by {version.first_signature.by} "
                f"on {version.first_signature.at:%Y-%m-%d %H:%M}; it now needs the counter-signature."
            )
        if not actor.has_role(self.type.first_signers):
            raise NotAllowed(f"The first signature of {self.type.name} is given by: {', '.join(sorted(self.type.first_signers))}.")
        if not actor.in_team_structure:
            raise NotAllowed("The first signature is given by the professional of the child's team completing the exemplar.")
        unanswered = self.unanswered_mandatory()
        if unanswered:
            raise MandatoryUnanswered(version.number, unanswered)
        version.first_signature = Signature(actor.person_id, at)
        self._record(ev.FirstSigned, actor.person_id, at, start_date=self.start_date)

    @property
    def counter_sign_after(self) -> str | None:
        """The type code of the exemplar that must be counter-signed on this case before this one
        is (``catalogue.COUNTER_SIGN_AFTER``), or None."""
        return COUNTER_SIGN_AFTER.get(self.type.code)

    def counter_sign(
        self, actor: Actor, at: datetime, *, comments: str | None = None, supervision_notes: str | None = None,
        counter_signed_on_case: frozenset[str] = frozenset(),
    ) -> None:
        """The second signature. ``counter_signed_on_case`` holds the type codes of the case's
        exemplars whose current version is counter-signed (what ``counter_sign_after`` asks for)."""
        version = self.current
        if version.locked:
            raise self._locked(version)
        _refuse_admin_officer_signature(actor, self.type.counter_signers, self.type.name)
        first = version.first_signature
        if first is None:
            raise Conflict(f"Version {version.number} has no first signature yet: it is counter-signed after it is first-signed.")
        if not actor.has_role(self.type.counter_signers):
            raise NotAllowed(f"The counter-signature of {self.type.name} is given by: {', '.join(sorted(self.type.counter_signers))}.")
        if not actor.in_team_structure:
            raise NotAllowed("The counter-signature is given by a manager of the child's team; you are not in or over that team.")
        if first.by == actor.person_id and not self.type.same_person_may_sign_both:
            raise NotAllowed(f"You gave the first signature; {self.type.name} needs its counter-signature from someone else.")
        needs = self.counter_sign_after
        if needs is not None and needs not in counter_signed_on_case:
            needed = next((t.name for t in SEED_TYPES if t.code == needs), needs)
            raise ReadFirstNotSigned(
                f"{self.type.name} on case {self.case_id!r} is counter-signed once a {needed} exemplar ({needs}) for the case "
                f"has been counter-signed: the counter-signer will have read the {needed.lower()} exemplar first. "
                "Nothing was changed.",
                case_id=self.case_id, needs_type_code=needs,
            )
        version.counter_signature = CounterSignature(
            actor.person_id, at, _note(comments, "comments"), _note(supervision_notes, "supervision notes")
        )
        done = self.timeliness(local_date(at))
        self._record(
            ev.CounterSigned, actor.person_id, at,
            first_signed_by=first.by, start_date=done.start_date, counter_signed_on=local_date(at),
            timescale_working_days=self.type.timescale_working_days,
            working_days_taken=done.working_days_taken or 0, on_time=done.on_time,
        )

    def unlock(self, actor: Actor, at: datetime, reason: str) -> ExemplarVersion:
        version = self.current
        if not version.locked:
            raise Conflict(f"Version {version.number} is not locked (it has not been counter-signed): edit it instead.")
        if not reason or not reason.strip():
            raise InvalidInput("Say why the exemplar is unlocked: the reason is kept with the version.")
        if len(reason) > MAX_NOTE:
            raise InvalidInput(f"The reason is longer than {MAX_NOTE} characters.")
        if not actor.is_administrator:
            if not actor.has_role(r.UNLOCKERS):
                raise NotAllowed("An exemplar is unlocked by an administrator, the admin officer, a social worker or a relevant manager.")
            if not actor.in_team_structure:
                raise NotAllowed("Only the admin officer, a social worker or a manager of the child's team can unlock its exemplar.")
        new = ExemplarVersion(version.number + 1, dict(version.answers), actor.person_id, at, Origin.UNLOCKED)
        version.unlock = Unlock(actor.person_id, at, reason.strip(), new.number)
        self.versions.append(new)
        self._record(ev.Unlocked, actor.person_id, at, version=version.number, new_version=new.number, reason=reason.strip())
        return new

    def record_message(self, event: ev.MessageSent) -> None:
        self.events.append(event)

    # --- helpers ---------------------------------------------------------------------------

    def _locked(self, version: ExemplarVersion) -> Locked:
        sig = version.counter_signature
        assert sig is not None
        return Locked(
            f"Version {version.number} was counter-signed by {sig.by} on {sig.at:%Y-%m-%d %H:%M} and is locked, so that "
            "the record of decisions stays as signed. Unlock it (with a reason) to make an editable Version "
            f"{version.number + 1}."
        )

    def _record(self, kind: builtins.type[ev.ExemplarEvent], by: str, at: datetime, *, version: int | None = None, **facts: Any) -> None:
        self.events.append(
            kind(
                exemplar_id=self.id, case_id=self.case_id, team_id=self.team_id, type_code=self.type.code,
                type_name=self.type.name, version=version or self.current.number, by=by, at=at, **facts,
            )
        )


def are_siblings(index_case: CaseView, other: CaseView) -> bool:
    """Sibling links as the directory gives them, from either side (a link recorded on one of
    the two cases only still counts)."""
    return other.case_id in index_case.sibling_case_ids or index_case.case_id in other.sibling_case_ids
