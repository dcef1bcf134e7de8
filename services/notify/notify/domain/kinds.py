"""The kinds of task a work tray holds, and what each kind implies.

A kind says whether its email is statutory (the procedure says it is sent, so a person cannot
turn it off), whether an open task of that kind is chased by a reminder every few working days
(seed 004: the auditor and the peer reviewer are reminded every 10 working days until they
submit), and whether its email is sent at all by default.
"""

from __future__ import annotations

from enum import StrEnum


class TaskKind(StrEnum):
    #: A workflow message from an exemplar ("ready for first sign-off", "changes needed", free text).
    WORKFLOW_MESSAGE = "workflow_message"
    #: A "ready for counter-sign" workflow message: the exemplar waits for this person's counter-signature.
    COUNTER_SIGN = "counter_sign"
    #: A section of a resolution form was delegated to this person.
    SECTION_DELEGATED = "section_delegated"
    #: A case was allocated to this person (team manager) to audit this month.
    AUDIT = "audit"
    #: A submitted audit waits for this person's peer review.
    PEER_REVIEW = "peer_review"
    #: The auditor and the peer reviewer must agree a moderated grading.
    MODERATION = "moderation"
    #: A copy of an audit (PDF) routed to this person.
    AUDIT_COPY = "audit_copy"
    #: The mid-month list of audits not yet completed (assistant directors, service managers).
    INCOMPLETE_AUDITS_DIGEST = "incomplete_audits_digest"
    #: Hampshire: the month's files prepared and ready for audit, per team, for the service manager to select from.
    HAMPSHIRE_FILES_READY = "hampshire_files_ready"
    #: Hampshire: a prepared file selected for this person (the service manager or their delegate) to audit.
    HAMPSHIRE_FILE_AUDIT = "hampshire_file_audit"
    #: Hillingdon: an audit graded requires improvement or inadequate, for the case's service manager to review.
    PRACTICE_REVIEW = "practice_review"
    #: A social worker's next practice observation is due (for their line manager, the observer).
    OBSERVATION_DUE = "observation_due"
    #: An action of a team's improvement plan reached its due day unfinished.
    IMPROVEMENT_ACTION = "improvement_action"
    #: An action of a multi-agency action plan, for its agency's owner.
    MULTI_AGENCY_ACTION = "multi_agency_action"
    #: A team review's need for support beyond the team, for the assistant director for service development.
    SERVICE_DEVELOPMENT_REFERRAL = "service_development_referral"


#: Emails the audit procedure says are sent automatically: they cannot be turned off. Hampshire's
#: procedure (seed 003, 8.1-8.3, 10.1) says the service manager is sent the list of files ready and
#: the auditor the audit tools; Hillingdon's (seed 002) says who acts, not that anyone is emailed.
STATUTORY = frozenset(
    {TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.AUDIT_COPY, TaskKind.INCOMPLETE_AUDITS_DIGEST,
     TaskKind.HAMPSHIRE_FILES_READY, TaskKind.HAMPSHIRE_FILE_AUDIT}
)

#: Open tasks of these kinds are chased by a reminder every ``REMINDER_WORKING_DAYS``. Only seed 004
#: chases; the QA framework's own reminders (observations, improvement actions) are the audit
#: service's events, once per due date.
CHASED = frozenset({TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.COUNTER_SIGN})

#: Open tasks of these kinds are chased once overdue: from the first working day after their due
#: date, then every ``REMINDER_WORKING_DAYS`` (seed 001: a delegated section "not completed in
#: time"). One without a due date is never overdue, so never chased.
CHASED_WHEN_OVERDUE = frozenset({TaskKind.SECTION_DELEGATED})


LABELS = {
    TaskKind.WORKFLOW_MESSAGE: "Workflow message",
    TaskKind.COUNTER_SIGN: "Counter-signature needed",
    TaskKind.SECTION_DELEGATED: "Section delegated to you",
    TaskKind.AUDIT: "Case allocated to you for audit",
    TaskKind.PEER_REVIEW: "Peer review needed",
    TaskKind.MODERATION: "Moderation of grading needed",
    TaskKind.AUDIT_COPY: "Copy of an audit",
    TaskKind.INCOMPLETE_AUDITS_DIGEST: "Audits not yet completed",
    TaskKind.HAMPSHIRE_FILES_READY: "Files ready for audit",
    TaskKind.HAMPSHIRE_FILE_AUDIT: "File selected for you to audit",
    TaskKind.PRACTICE_REVIEW: "Case to review with the auditor",
    TaskKind.OBSERVATION_DUE: "Practice observation due",
    TaskKind.IMPROVEMENT_ACTION: "Improvement plan action due",
    TaskKind.MULTI_AGENCY_ACTION: "Multi-agency action assigned to you",
    TaskKind.SERVICE_DEVELOPMENT_REFERRAL: "Referral to service development",
}


def is_statutory(kind: TaskKind) -> bool:
    return kind in STATUTORY


def is_chased(kind: TaskKind) -> bool:
    return kind in CHASED or kind in CHASED_WHEN_OVERDUE


def is_chased_when_overdue(kind: TaskKind) -> bool:
    return kind in CHASED_WHEN_OVERDUE
