"""The review of a single-agency audit graded requires improvement or inadequate (Hillingdon 5.2.2,
5.2.4 and Appendix D).

"All Requires Improvement and Inadequate cases are to be reviewed with the Service Managers, and
the Service Managers are to report back to the Assistant Directors with outcomes from discussions
and actions taken." "An improvement plan is entered on the file and used in supervision for all
cases where there are practice issues."

A review opens for every completed Hillingdon audit with such a grade; only the case's service
manager records its outcome (the outcome of the discussion, the actions taken and, where practice
issues were found, the improvement plan) and reports it to the assistant director. It closes only
when reported; after that it is never changed. Every recorded outcome is kept in ``history``.

Plain values: the API's request body (``hillingdon.schemas.ReviewOutcome``) holds its limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from audit.case_audit.domain.work import ActionItem
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade

from ...common.roles import QA_STAFF_ROLES
from .events import Happened

#: The programme of Hillingdon's single-agency peer audit (``ProgrammeKind.SINGLE_AGENCY``).
SINGLE_AGENCY = "single_agency"
#: Grades reviewed with the service manager (inadequate (critical) is inadequate too).
REVIEW_GRADES = frozenset({Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL})

OPENED = "opened"
RECORDED = "recorded"
REPORTED = "reported"
VERIFIED = "verified"
REASSIGNED = "reassigned"
#: Reassigned, and the review is now another service manager's.
REASSIGNED_TO_SERVICE_MANAGER = "reassigned_to_service_manager"


def needs_review(programme: str, grade: str | None) -> bool:
    """Whether a completed audit of ``programme`` graded ``grade`` is reviewed with its service manager."""
    return programme == SINGLE_AGENCY and grade is not None and grade in {g.value for g in REVIEW_GRADES}


class ReviewStatus(StrEnum):
    #: Waiting for the service manager's review.
    OPEN = "open"
    #: Outcome recorded, not yet reported to the assistant director.
    REVIEWED = "reviewed"
    #: Reported to the assistant director: closed to the service manager.
    REPORTED = "reported"
    #: The QA auditor verified the action taken (Appendix D).
    VERIFIED = "verified"


@dataclass(frozen=True, kw_only=True)
class ReviewOutcome:
    """What the service manager records after reviewing the case."""

    #: "Outcomes from discussions".
    outcome: str
    #: "Actions taken".
    actions_taken: list[str]
    #: Whether the review found practice issues on the case.
    practice_issues: bool
    #: The improvement plan entered on the file (required where there are practice issues).
    improvement_plan: list[ActionItem] = field(default_factory=list)


@dataclass
class RecordedOutcome:
    """One recorded outcome, kept whole: a later one never erases it."""

    number: int
    by: str
    at: datetime
    outcome: ReviewOutcome


@dataclass
class PracticeReview:
    id: str
    audit_id: str
    case_ref: str
    team_id: str | None
    month: str | None
    grade: Grade
    auditor_id: str
    #: The case's service manager (None when the directory cannot say who it is: QA staff name one).
    service_manager_id: str | None
    assistant_director_id: str | None
    opened_at: datetime
    version: int = 0
    status: ReviewStatus = ReviewStatus.OPEN
    outcome: ReviewOutcome | None = None
    history: list[RecordedOutcome] = field(default_factory=list)
    reported_by: str | None = None
    reported_at: datetime | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None
    #: What the QA auditor found of the action taken.
    verification: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[Happened] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls, *, review_id: str, audit_id: str, case_ref: str, team_id: str | None, month: str | None, grade: Grade, auditor_id: str,
        service_manager_id: str | None, assistant_director_id: str | None, by: str, at: datetime,
    ) -> PracticeReview:
        if grade not in REVIEW_GRADES:
            raise WrongStage(f"Only a case graded requires improvement or inadequate is reviewed; this one is {grade.label}.")
        review = cls(
            id=review_id, audit_id=audit_id, case_ref=case_ref, team_id=team_id, month=month, grade=grade, auditor_id=auditor_id,
            service_manager_id=service_manager_id, assistant_director_id=assistant_director_id, opened_at=at, updated_by=by, updated_at=at,
        )
        review.events.append(Happened(OPENED, at, by))
        return review

    # --- who sees what ---------------------------------------------------------------------------

    def viewers(self) -> list[str]:
        return sorted({p for p in (self.service_manager_id, self.assistant_director_id, self.auditor_id) if p})

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        return person_id in self.viewers() or not QA_STAFF_ROLES.isdisjoint(roles)

    @property
    def closed(self) -> bool:
        return self.status in (ReviewStatus.REPORTED, ReviewStatus.VERIFIED)

    # --- the service manager's review ------------------------------------------------------------

    def record_outcome(self, *, by: str, outcome: ReviewOutcome, at: datetime) -> None:
        self._still_open()
        if by != self.service_manager_id:
            raise NotAllowed("Only the case's service manager records the outcome of the review.")
        missing = [{"field": "outcome", "message": "the outcome of the discussion is missing"}] if not outcome.outcome.strip() else []
        if not any(a.strip() for a in outcome.actions_taken):
            missing.append({"field": "actions_taken", "message": "say what actions were taken"})
        if missing:
            raise InvalidEntries("The review reports the outcome of the discussion and the actions taken.", missing)
        if outcome.practice_issues and not outcome.improvement_plan:
            raise InvalidEntries(
                "Practice issues were found: enter the improvement plan.",
                [{"field": "improvement_plan", "message": "an improvement plan is required where there are practice issues (5.2.4)"}],
            )
        self.outcome = outcome
        self.history.append(RecordedOutcome(number=len(self.history) + 1, by=by, at=at, outcome=outcome))
        self.status = ReviewStatus.REVIEWED
        self._touch(by, at)
        self.events.append(Happened(RECORDED, at, by))

    def report(self, *, by: str, at: datetime) -> None:
        """The service manager reports the outcome and actions to the assistant director: closed."""
        self._still_open()
        if by != self.service_manager_id:
            raise NotAllowed("Only the case's service manager reports the review to the assistant director.")
        if self.outcome is None:
            raise WrongStage("Record the outcome of the review and the actions taken before reporting it.")
        if self.assistant_director_id is None:
            raise WrongStage("No assistant director is known for this review: QA staff name one first.")
        self.status = ReviewStatus.REPORTED
        self.reported_by, self.reported_at = by, at
        self._touch(by, at)
        self.events.append(Happened(REPORTED, at, by))

    def verify(self, *, by: str, roles: frozenset[str], verification: str, at: datetime) -> None:
        """Appendix D: once the assistant director has required the team to address the concerns,
        the QA auditor verifies the action taken; recorded once, kept as written."""
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("The QA auditor verifies the action taken.")
        if self.status is ReviewStatus.VERIFIED:
            raise WrongStage("The action taken was verified already; the verification is kept as written.")
        if self.status is not ReviewStatus.REPORTED:
            raise WrongStage("The service manager reports the review to the assistant director before the action taken is verified.")
        text = verification.strip()
        if not text:
            raise InvalidEntries("Say what was verified.", [{"field": "verification", "message": "what the action taken was found to be"}])
        self.status = ReviewStatus.VERIFIED
        self.verified_by, self.verified_at, self.verification = by, at, text
        self._touch(by, at)
        self.events.append(Happened(VERIFIED, at, by))

    def reassign(self, *, by: str, roles: frozenset[str], service_manager_id: str | None, assistant_director_id: str | None, at: datetime) -> None:
        """QA staff name the service manager or assistant director the directory could not."""
        if QA_STAFF_ROLES.isdisjoint(roles):
            raise NotAllowed("Only QA staff name the service manager or assistant director of a review.")
        self._still_open()
        if service_manager_id is None and assistant_director_id is None:
            raise InvalidEntries("Name someone.", [{"field": "service_manager_id", "message": "give a service manager or an assistant director"}])
        new_service_manager = service_manager_id is not None and service_manager_id != self.service_manager_id
        if new_service_manager:
            if self.outcome is not None:
                raise WrongStage("The service manager has recorded the review; it stays theirs to report.")
            self.service_manager_id = service_manager_id
        if assistant_director_id is not None:
            self.assistant_director_id = assistant_director_id
        self._touch(by, at)
        self.events.append(Happened(REASSIGNED_TO_SERVICE_MANAGER if new_service_manager else REASSIGNED, at, by))

    def _still_open(self) -> None:
        if self.closed:
            raise WrongStage("The review was reported to the assistant director; it is closed and kept as reported.")

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at
