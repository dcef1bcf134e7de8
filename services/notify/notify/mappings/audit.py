"""Audits (seed 004): the case allocated to an auditor, the peer review, moderation, and the
copies of the audit form routed to managers, each with a link to the PDF (never the PDF itself:
it stays in the audit service, which lets only the copy's recipients and the audit's parties read it).

Reader models of ``services/audit/audit/events.py``, tolerant of fields notify does not use. Each
task about an audit waits on a key of that audit's stage and closes when the stage is done.
"""

from __future__ import annotations

import calendar
from datetime import date

from pydantic import AliasChoices, Field, field_validator
from shared.consumer import ReceivedEvent
from shared.events import EventType

from ..domain.effects import CloseTasks, Effects, EmailSpec
from ..domain.kinds import TaskKind
from ..domain.tasks import Link, TaskStatus
from .base import Mapping, audit_event, closes, context, pure, task
from .base import Reader as _Reader

PUBLISHER = "audit"


class AuditAllocated(_Reader):
    audit_id: str
    auditor_id: str
    peer_reviewer_id: str | None = None
    #: The case's reference (a code in a multi-agency audit).
    case_ref: str | None = None
    #: The audit month, "YYYY-MM".
    month: str | None = None
    allocated_by: str | None = None
    due_on: date | None = None

    def due(self) -> date | None:
        """The audit is due by the end of its month (seed 004) unless the event says otherwise."""
        if self.due_on is not None or not self.month:
            return self.due_on
        try:
            year, month = (int(p) for p in self.month.split("-"))
            return date(year, month, calendar.monthrange(year, month)[1])
        except ValueError:
            return None


class AuditSubmitted(_Reader):
    """Stage 1 submitted: the auditor's part is done and the peer review is due."""

    audit_id: str
    auditor_id: str | None = Field(default=None, validation_alias=AliasChoices("auditor_id", "submitted_by"))
    peer_reviewer_id: str | None = None
    peer_review_due_on: date | None = Field(default=None, validation_alias=AliasChoices("peer_review_due_on", "due_on"))


class PeerReviewSubmitted(_Reader):
    audit_id: str
    peer_reviewer_id: str | None = Field(default=None, validation_alias=AliasChoices("peer_reviewer_id", "submitted_by"))


class ModerationRequired(_Reader):
    audit_id: str
    auditor_id: str
    peer_reviewer_id: str
    due_on: date | None = None


class ModerationAgreed(_Reader):
    audit_id: str
    agreed_by: str | None = Field(default=None, validation_alias=AliasChoices("accepted_by", "agreed_by"))


class OfficerAppointed(_Reader):
    """A practice development officer appointed to moderate (after an escalation) or to confirm an
    inadequate (critical) grade."""

    audit_id: str
    purpose: str = "moderation"
    officer_id: str
    appointed_by: str | None = None


class ModerationFinalised(_Reader):
    audit_id: str
    officer_id: str | None = None


class CriticalGradeConfirmed(_Reader):
    audit_id: str
    officer_id: str | None = None


class AuditCompleted(_Reader):
    audit_id: str


class SafeguardingConcernRaised(_Reader):
    """An immediate safeguarding concern raised during an audit (seed 004, 4.7). Identifiers only:
    the concern is read on the audit."""

    audit_id: str
    concern_id: str
    raised_by: str | None = None
    team_manager_id: str | None = None
    service_manager_id: str | None = None
    recipient_ids: list[str] = Field(default_factory=list)

    def recipients(self) -> list[tuple[str, str]]:
        """Each person once, with why it goes to them."""
        found: dict[str, str] = {}
        for person_id, why in ((self.team_manager_id, "the case's team manager"), (self.service_manager_id, "the accountable service manager")):
            if person_id:
                found.setdefault(person_id, why)
        for person_id in self.recipient_ids:
            found.setdefault(person_id, "a manager of the case")
        return list(found.items())


class SafeguardingConcernAcknowledged(_Reader):
    audit_id: str
    concern_id: str
    acknowledged_by: str | None = None


class RoutedRecipient(_Reader):
    person_id: str
    #: Why they receive it ("accountable service manager", "CP chairs' manager", ...).
    reasons: list[str] = Field(default_factory=list)

    @property
    def reason(self) -> str | None:
        return " and ".join(r.replace("_", " ") for r in self.reasons) or None


class AuditCopyRouted(_Reader):
    """``audit.copy.routed.v2``: who is told of a copy, and where they read it (no document)."""

    audit_id: str
    #: Which form: "audit" (stage 1), "peer_review" (both stages side by side), "moderated".
    stage: str = "audit"
    programme: str | None = None
    #: A multi-agency audit (its case known by a code): an email says nothing of the case, not even the code.
    coded_case: bool = False
    recipients: list[RoutedRecipient] = Field(default_factory=list)
    recipient_ids: list[str] = Field(default_factory=list)
    pdf_id: str
    #: Where the recipient reads the PDF, through the gateway (the audit service checks who asks).
    document_path: str

    @field_validator("recipients", mode="before")
    @classmethod
    def _ids_or_objects(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"person_id": v} if isinstance(v, str) else v for v in value]
        return value

    def everyone(self) -> list[RoutedRecipient]:
        """Each recipient once, in the order given (``recipient_ids`` as well, for those without reasons)."""
        found: dict[str, RoutedRecipient] = {}
        for recipient in self.recipients:
            found.setdefault(recipient.person_id, recipient)
        for person_id in self.recipient_ids:
            found.setdefault(person_id, RoutedRecipient(person_id=person_id))
        return list(found.values())

    @property
    def multi_agency(self) -> bool:
        return self.coded_case or self.programme == "multi_agency"


ALLOCATED = audit_event("audit.audit.allocated", AuditAllocated, "A case was allocated to an auditor.")
SUBMITTED = audit_event("audit.audit.submitted", AuditSubmitted, "An audit (stage 1) was submitted.")
PEER_REVIEW_SUBMITTED = audit_event("audit.peer-review.submitted", PeerReviewSubmitted, "A peer review was submitted.")
MODERATION_REQUIRED = audit_event("audit.moderation.required", ModerationRequired, "Moderation of grading is required.")
MODERATION_AGREED = audit_event("audit.moderation.agreed", ModerationAgreed, "A moderated grading was agreed.")
OFFICER_APPOINTED = audit_event("audit.officer.appointed", OfficerAppointed, "A practice development officer was appointed.")
MODERATION_FINALISED = audit_event("audit.moderation.finalised", ModerationFinalised, "The officer's grading, final.")
CRITICAL_GRADE_CONFIRMED = audit_event("audit.critical-grade.confirmed", CriticalGradeConfirmed, "A critical grade was confirmed.")
COMPLETED = audit_event("audit.audit.completed", AuditCompleted, "An audit was completed.")
CONCERN_RAISED = audit_event("audit.safeguarding-concern.raised", SafeguardingConcernRaised, "A safeguarding concern was raised during an audit.")
CONCERN_ACKNOWLEDGED = audit_event("audit.safeguarding-concern.acknowledged", SafeguardingConcernAcknowledged, "A safeguarding concern's outcome was recorded.")
# ``audit.copy.routed.v1`` carried the PDF itself; it was withdrawn and is not read any more.
COPY_ROUTED = EventType("audit.copy.routed", 2, AuditCopyRouted, "A copy of an audit form was routed.", PUBLISHER, internal=True)

STAGE_LABELS = {"audit": "stage 1, audit", "peer_review": "stages 1 and 2, peer review", "moderated": "moderated grading"}


def stage_key(audit_id: str, stage: str) -> str:
    return f"audit:audit/{audit_id}:{stage}"


def _link(audit_id: str) -> Link:
    return Link("audit", f"/audits/{audit_id}")


def concern_key(audit_id: str, concern_id: str) -> str:
    return f"audit:audit/{audit_id}:safeguarding-concern/{concern_id}"


def allocated(event: ReceivedEvent) -> Effects:
    """The auditor's task and email, with the link to the audit; the allocated peer reviewer is
    copied, without the link (seed 004, 4.1: "The copy of the email sent to the peer reviewer does
    not contain this link in order to avoid peer reviewers beginning the audit process in error")."""
    a: AuditAllocated = event.data
    about = context(a, "audit_id", "month", "case_ref")
    what, due = f"audit {a.audit_id}" + (f" for {a.month}" if a.month else ""), a.due()
    effects = Effects(open=[task(
        a.auditor_id, TaskKind.AUDIT,
        subject=f"Audit {a.audit_id}" + (f" for {a.month}" if a.month else ""), action="Audit the case allocated to you and submit the audit form",
        link=_link(a.audit_id), due_on=due, closes_on=stage_key(a.audit_id, "audit"), context=about,
    )])
    if a.peer_reviewer_id and a.peer_reviewer_id != a.auditor_id:
        effects.open.append(task(
            a.peer_reviewer_id, TaskKind.AUDIT_COPY,
            subject=f"Copy: {what} allocated to its auditor; you are its peer reviewer",
            action="For information: you peer review this audit once the auditor submits it (you will be sent a link then)",
            link=_link(a.audit_id),
            due_on=due,
            # Done with when stage 1 is submitted: the peer review task (with its link) takes over.
            closes_on=stage_key(a.audit_id, "audit"),
            context={**about, "copy_of": "allocation"},
            email=EmailSpec("audit_allocation_copy", {"what": what, "due": due.strftime("%d/%m/%Y") if due else ""}),
        ))
    return effects


def submitted(event: ReceivedEvent) -> Effects:
    s: AuditSubmitted = event.data
    effects = Effects(close=[CloseTasks(stage_key(s.audit_id, "audit"), TaskStatus.DONE, "audit submitted", s.auditor_id)])
    if s.peer_reviewer_id:
        effects.open.append(task(
            s.peer_reviewer_id, TaskKind.PEER_REVIEW, subject=f"Peer review of audit {s.audit_id}",
            action="Peer review the submitted audit and submit your part of the form", link=_link(s.audit_id),
            due_on=s.peer_review_due_on, closes_on=stage_key(s.audit_id, "peer-review"), context=context(s, "audit_id"),
        ))
    return effects


def moderation_required(event: ReceivedEvent) -> Effects:
    m: ModerationRequired = event.data
    return Effects(open=[
        task(person, TaskKind.MODERATION, subject=f"Moderation of audit {m.audit_id}", action=action, link=_link(m.audit_id),
             due_on=m.due_on, closes_on=stage_key(m.audit_id, "moderation"), context=context(m, "audit_id"))
        for person, action in (
            (m.auditor_id, "Discuss the case with the peer reviewer and submit the moderated grading you agree"),
            (m.peer_reviewer_id, "Discuss the case with the auditor; re-submit your supervision grading if the moderation changes it"),
        )
    ])


def officer_appointed(event: ReceivedEvent) -> Effects:
    o: OfficerAppointed = event.data
    if o.purpose == "critical_confirmation":
        subject, action, key = (f"Confirm the inadequate (critical) grade of audit {o.audit_id}",
                                "Confirm the grading status of the case and liaise with its operational managers",
                                stage_key(o.audit_id, "critical-confirmation"))
    else:
        subject, action, key = (f"Moderate the grading of audit {o.audit_id}",
                                "The auditor and peer reviewer could not agree: moderate the grading (your grading is final)",
                                stage_key(o.audit_id, "moderation"))
    return Effects(open=[task(
        o.officer_id, TaskKind.MODERATION, subject=subject, action=action, link=_link(o.audit_id),
        assigned_by=o.appointed_by, closes_on=key, context=context(o, "audit_id", "purpose"),
    )])


def completed(event: ReceivedEvent) -> Effects:
    c: AuditCompleted = event.data
    return Effects(close=[
        CloseTasks(stage_key(c.audit_id, stage), TaskStatus.DONE, "audit completed") for stage in ("audit", "peer-review", "moderation")
    ])


def safeguarding_concern_raised(event: ReceivedEvent) -> Effects:
    """A task and an email at once to the case's team manager and the accountable service manager
    (seed 004, 4.7: "Action should not wait until auditing is completed"); open until the outcome is
    recorded. The email says nothing of the child: the concern is read on the audit. Of kind
    ``safeguarding_concern``: its email cannot be turned off, and it is chased every working day
    until acknowledged (a concern raised before that kind existed stays an ``audit_copy``)."""
    c: SafeguardingConcernRaised = event.data
    return Effects(open=[
        task(
            person_id, TaskKind.SAFEGUARDING_CONCERN,
            subject=f"Immediate safeguarding concern raised in audit {c.audit_id}",
            action="Read the concern, make sure the case-holding social worker takes appropriate action now, and record the action and its outcome",
            link=_link(c.audit_id), assigned_by=c.raised_by, closes_on=concern_key(c.audit_id, c.concern_id),
            context=context(c, "audit_id", "concern_id"),
            email=EmailSpec("safeguarding_concern", {"audit_id": c.audit_id, "reason": why}),
        )
        for person_id, why in c.recipients()
    ])


def copy_routed(event: ReceivedEvent) -> Effects:
    """A task and an email for each recipient, linking to the PDF. A multi-agency audit is named
    only as such: no code, no case (seed 002: circulated "without the code")."""
    r: AuditCopyRouted = event.data
    stage_label = STAGE_LABELS.get(r.stage, r.stage)
    what = "a multi-agency audit" if r.multi_agency else f"audit {r.audit_id}"
    return Effects(open=[
        task(
            recipient.person_id, TaskKind.AUDIT_COPY,
            subject=f"Copy of {what} ({stage_label})",
            action="Read the completed audit form" + (f" (sent to you as {recipient.reason})" if recipient.reason else ""),
            link=_link(r.audit_id),
            context=context(r, "audit_id", "stage"),
            email=EmailSpec(
                "audit_copy",
                {"what": what, "stage_label": stage_label, "reason": recipient.reason or "a manager of this audit"},
                document_path=r.document_path,
            ),
        )
        for recipient in r.everyone()
    ])


MAPPINGS = [
    Mapping(ALLOCATED, pure(allocated)),
    Mapping(SUBMITTED, pure(submitted)),
    closes(PEER_REVIEW_SUBMITTED, lambda p: stage_key(p.audit_id, "peer-review"), "peer review submitted", by="peer_reviewer_id"),
    Mapping(MODERATION_REQUIRED, pure(moderation_required)),
    closes(MODERATION_AGREED, lambda m: stage_key(m.audit_id, "moderation"), "moderated grading agreed", by="agreed_by"),
    Mapping(OFFICER_APPOINTED, pure(officer_appointed)),
    closes(MODERATION_FINALISED, lambda m: stage_key(m.audit_id, "moderation"), "moderated grading finalised", by="officer_id"),
    closes(CRITICAL_GRADE_CONFIRMED, lambda c: stage_key(c.audit_id, "critical-confirmation"), "grade confirmed", by="officer_id"),
    Mapping(COMPLETED, pure(completed)),
    Mapping(COPY_ROUTED, pure(copy_routed)),
    Mapping(CONCERN_RAISED, pure(safeguarding_concern_raised)),
    closes(CONCERN_ACKNOWLEDGED, lambda c: concern_key(c.audit_id, c.concern_id), "safeguarding concern acknowledged", by="acknowledged_by"),
]
