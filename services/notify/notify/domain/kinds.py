"""The kinds of task a work tray holds, and what each kind implies.

A kind says whether its email is statutory (the procedure says it is sent, so a person cannot
turn it off), whether an open task of that kind is chased by a reminder every few working days
(seed 004: the auditor and the peer reviewer are reminded every 10 working days until they
submit) and how often, and whether its email is sent at all by default.

Kinds are stored with each task. A kind that took over from another (``FORMERLY``) leaves the
tasks already stored under the old one as they are: they read, list and close as before.
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
    #: Kent 4.7: an immediate safeguarding concern raised during an audit, for the case's team manager
    #: and the accountable service manager, until its action and outcome are recorded.
    SAFEGUARDING_CONCERN = "safeguarding_concern"
    #: Hampshire 10.5: the auditor judged not met a standard the team/unit manager said was met, for
    #: the team/unit manager, until the outcome is recorded.
    STANDARD_DISAGREEMENT = "standard_disagreement"
    #: Hillingdon Appendix D: the team manager's overview of the findings of the team's audits (to
    #: write, for the team manager; to read, for the service manager it is reported to).
    FINDINGS_OVERVIEW = "findings_overview"


#: Emails the audit procedure says are sent automatically: they cannot be turned off. Hampshire's
#: procedure (seed 003, 8.1-8.3, 10.1) says the service manager is sent the list of files ready and
#: the auditor the audit tools; Hillingdon's (seed 002) says who acts, not that anyone is emailed.
#: Kent 4.7's safeguarding concern goes "at once (task and email)": its email cannot be turned off either.
STATUTORY = frozenset(
    {TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.AUDIT_COPY, TaskKind.INCOMPLETE_AUDITS_DIGEST,
     TaskKind.HAMPSHIRE_FILES_READY, TaskKind.HAMPSHIRE_FILE_AUDIT, TaskKind.SAFEGUARDING_CONCERN}
)

#: Open tasks of these kinds are chased by a reminder every ``REMINDER_WORKING_DAYS`` (or their own
#: interval, ``REMINDER_INTERVALS``). Seed 004 chases its stages, and a safeguarding concern until it
#: is acknowledged ("Action should not wait until auditing is completed"). A Hampshire disagreement
#: is chased too: 10.5 has the auditor raise it, and the task is how it reaches an outcome before the
#: month's tools go to the performance management unit. The QA framework's own reminders
#: (observations, improvement actions) are the audit service's events, once per due date.
CHASED = frozenset(
    {TaskKind.AUDIT, TaskKind.PEER_REVIEW, TaskKind.MODERATION, TaskKind.COUNTER_SIGN, TaskKind.SAFEGUARDING_CONCERN,
     TaskKind.STANDARD_DISAGREEMENT}
)

#: Open tasks of these kinds are chased once overdue: from the first working day after their due
#: date, then every ``REMINDER_WORKING_DAYS`` (seed 001: a delegated section "not completed in
#: time"; seed 002 App. D: the overview is due with the round's audits). One without a due date
#: is never overdue, so never chased (the service manager's overview to read has none).
CHASED_WHEN_OVERDUE = frozenset({TaskKind.SECTION_DELEGATED, TaskKind.FINDINGS_OVERVIEW})

#: Kinds chased more often than every ``REMINDER_WORKING_DAYS``: a safeguarding concern daily
#: (every working day) until its outcome is recorded.
REMINDER_INTERVALS: dict[TaskKind, int] = {TaskKind.SAFEGUARDING_CONCERN: 1}

#: The kind each newer kind's tasks were stored under before it existed. Those tasks keep their
#: stored kind (their ids derive from it, so a replayed event must find them under it).
FORMERLY: dict[TaskKind, TaskKind] = {
    TaskKind.SAFEGUARDING_CONCERN: TaskKind.AUDIT_COPY,
    TaskKind.STANDARD_DISAGREEMENT: TaskKind.WORKFLOW_MESSAGE,
    TaskKind.FINDINGS_OVERVIEW: TaskKind.WORKFLOW_MESSAGE,
}


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
    TaskKind.SAFEGUARDING_CONCERN: "Immediate safeguarding concern",
    TaskKind.STANDARD_DISAGREEMENT: "Auditor disagrees that a standard is met",
    TaskKind.FINDINGS_OVERVIEW: "Overview of the team's audit findings",
}


def is_statutory(kind: TaskKind) -> bool:
    return kind in STATUTORY


def is_chased(kind: TaskKind) -> bool:
    return kind in CHASED or kind in CHASED_WHEN_OVERDUE


def is_chased_when_overdue(kind: TaskKind) -> bool:
    return kind in CHASED_WHEN_OVERDUE


def reminder_interval(kind: TaskKind, default: int) -> int:
    """Working days between two reminders of an open task of ``kind`` (``default``: the setting)."""
    return REMINDER_INTERVALS.get(kind, default)
