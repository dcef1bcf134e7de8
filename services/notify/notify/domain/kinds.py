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


#: Emails the audit procedure says are sent automatically: they cannot be turned off.
STATUTORY = frozenset(
    {TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.AUDIT_COPY, TaskKind.INCOMPLETE_AUDITS_DIGEST}
)

#: Open tasks of these kinds are chased by a reminder every ``REMINDER_WORKING_DAYS``.
CHASED = frozenset({TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.COUNTER_SIGN})


LABELS = {
    TaskKind.WORKFLOW_MESSAGE: "Workflow message",
    TaskKind.COUNTER_SIGN: "Counter-signature needed",
    TaskKind.SECTION_DELEGATED: "Section delegated to you",
    TaskKind.AUDIT: "Case allocated to you for audit",
    TaskKind.PEER_REVIEW: "Peer review needed",
    TaskKind.MODERATION: "Moderation of grading needed",
    TaskKind.AUDIT_COPY: "Copy of an audit",
    TaskKind.INCOMPLETE_AUDITS_DIGEST: "Audits not yet completed",
}


def is_statutory(kind: TaskKind) -> bool:
    return kind in STATUTORY


def is_chased(kind: TaskKind) -> bool:
    return kind in CHASED
