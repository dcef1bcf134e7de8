"""Who receives a copy of each PDF, for every case type and grade."""

from __future__ import annotations

import pytest
from audit.case_audit.domain.routing import Contacts, CopyStage, copy_recipients
from audit.common.grades import Grade
from audit.tools.domain.definition import CaseType

CONTACTS = Contacts(accountable_service_manager_id="P-SM", iro_team_manager_id="P-IROM", cp_chairs_manager_id="P-CPM", qa_service_manager_id="P-QASM")
BY_TYPE = {CaseType.CIN: [], CaseType.CP: ["P-CPM"], CaseType.CIC: ["P-IROM"]}
QA_COPY = {Grade.OUTSTANDING: True, Grade.GOOD: False, Grade.REQUIRES_IMPROVEMENT: False, Grade.INADEQUATE: True, Grade.INADEQUATE_CRITICAL: True}


@pytest.mark.parametrize("case_type", list(CaseType))
@pytest.mark.parametrize("grade", list(Grade))
def test_the_managers_a_copy_goes_to_by_case_type_and_grade(case_type: CaseType, grade: Grade) -> None:
    recipients = copy_recipients(
        stage=CopyStage.AUDIT, case_type=case_type, grades=[grade], auditor_id="P-TM", peer_reviewer_id="P-PR", officer_id=None, contacts=CONTACTS
    )
    expected = ["P-TM", "P-SM", *BY_TYPE[case_type], *(["P-QASM"] if QA_COPY[grade] else [])]
    assert [r.person_id for r in recipients] == expected


def test_the_parties_copied_grow_with_the_stages() -> None:
    def people(stage: CopyStage) -> list[str]:
        return [
            r.person_id
            for r in copy_recipients(stage=stage, case_type=CaseType.CIN, grades=[Grade.GOOD], auditor_id="P-TM", peer_reviewer_id="P-PR", officer_id="P-PDO", contacts=Contacts())
        ]

    assert people(CopyStage.AUDIT) == ["P-TM"]
    assert people(CopyStage.PEER_REVIEW) == ["P-TM", "P-PR"]
    assert people(CopyStage.MODERATED) == ["P-TM", "P-PR", "P-PDO"]


def test_either_partys_grade_after_the_peer_review_can_bring_in_the_qa_service_manager() -> None:
    recipients = copy_recipients(
        stage=CopyStage.PEER_REVIEW, case_type=CaseType.CIN, grades=[Grade.GOOD, Grade.OUTSTANDING], auditor_id="P-TM",
        peer_reviewer_id="P-PR", officer_id=None, contacts=CONTACTS,
    )
    assert "P-QASM" in [r.person_id for r in recipients]


def test_one_person_in_several_roles_gets_one_copy_with_every_reason() -> None:
    contacts = Contacts(accountable_service_manager_id="P-X", cp_chairs_manager_id="P-X", qa_service_manager_id="P-X")
    recipients = copy_recipients(
        stage=CopyStage.AUDIT, case_type=CaseType.CP, grades=[Grade.INADEQUATE], auditor_id="P-TM", peer_reviewer_id=None, officer_id=None, contacts=contacts
    )
    assert [(r.person_id, r.reasons) for r in recipients] == [
        ("P-TM", ("auditor",)),
        ("P-X", ("accountable_service_manager", "cp_chairs_manager", "safeguarding_qa_service_manager")),
    ]


def test_unknown_managers_are_left_out_rather_than_invented() -> None:
    recipients = copy_recipients(
        stage=CopyStage.AUDIT, case_type=CaseType.CIC, grades=[Grade.INADEQUATE], auditor_id="P-TM", peer_reviewer_id=None, officer_id=None, contacts=Contacts()
    )
    assert [r.person_id for r in recipients] == ["P-TM"]


FULL = Contacts(
    accountable_service_manager_id="P-SM", qa_service_manager_id="P-QASM", social_worker_id="P-SW", team_manager_id="P-TM2",
    qa_team_ids=("P-LQA", "P-QA1", "P-SM"),
)


def test_a_hillingdon_single_agency_audit_also_goes_to_the_qa_team_social_worker_and_team_manager() -> None:
    from audit.tools.domain.definition import ProgrammeKind

    recipients = copy_recipients(
        stage=CopyStage.AUDIT, case_type=CaseType.CIN, grades=[Grade.GOOD], auditor_id="P-AUD", peer_reviewer_id=None, officer_id=None,
        contacts=FULL, programme=ProgrammeKind.SINGLE_AGENCY,
    )
    assert [(r.person_id, r.reasons) for r in recipients] == [
        ("P-AUD", ("auditor",)),
        ("P-SM", ("accountable_service_manager", "qa_team")),
        ("P-SW", ("social_worker",)),
        ("P-TM2", ("team_manager",)),
        ("P-LQA", ("qa_team",)),
        ("P-QA1", ("qa_team",)),
    ]


@pytest.mark.parametrize("programme", ["peer_review", "quality_practice", "themed", "multi_agency", None])
def test_other_programmes_do_not_copy_the_social_worker_team_manager_or_qa_team(programme: str | None) -> None:
    from audit.tools.domain.definition import ProgrammeKind

    recipients = copy_recipients(
        stage=CopyStage.AUDIT, case_type=CaseType.CIN, grades=[Grade.GOOD], auditor_id="P-AUD", peer_reviewer_id=None, officer_id=None,
        contacts=FULL, programme=ProgrammeKind(programme) if programme else None,
    )
    assert [r.person_id for r in recipients] == ["P-AUD", "P-SM"]
