"""The QA framework's task kinds (issue 11). How each of the audit service's QA framework events
becomes tasks is a contract between the two services: tests/contract/test_audit_qa_framework_events_meet_notify.py.
"""

from __future__ import annotations

from notify.domain.kinds import LABELS, TaskKind, is_chased, is_statutory


def test_each_new_kind_has_a_label_and_only_hampshires_emails_are_statutory_and_none_is_chased() -> None:
    new = [TaskKind.HAMPSHIRE_FILES_READY, TaskKind.HAMPSHIRE_FILE_AUDIT, TaskKind.PRACTICE_REVIEW, TaskKind.OBSERVATION_DUE,
           TaskKind.IMPROVEMENT_ACTION, TaskKind.MULTI_AGENCY_ACTION, TaskKind.SERVICE_DEVELOPMENT_REFERRAL]
    assert all(LABELS.get(k) for k in new)
    assert [k for k in new if is_statutory(k)] == [TaskKind.HAMPSHIRE_FILES_READY, TaskKind.HAMPSHIRE_FILE_AUDIT]
    assert not any(is_chased(k) for k in new)
