"""The roles the audit service acts on, in the procedures' own words (the directory's vocabulary),
and the groups of them its rules name. Plain Python: domain rules, use cases and routes all ask
here rather than spelling a role string themselves."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"
    SENIOR_PRACTITIONER = "senior_practitioner"
    PRACTICE_SUPERVISOR = "practice_supervisor"
    PRACTICE_MENTOR = "practice_mentor"
    TEAM_MANAGER = "team_manager"
    DISTRICT_MANAGER = "district_manager"
    SERVICE_MANAGER = "service_manager"
    HEAD_OF_SERVICE = "head_of_service"
    ASSISTANT_DIRECTOR = "assistant_director"
    SERVICE_DIRECTOR = "service_director"
    EXECUTIVE_DIRECTOR = "executive_director"
    IRO = "iro"
    CP_CHAIR = "cp_chair"
    PARTICIPATION_OFFICER = "participation_officer"
    COMPLAINTS_MANAGER = "complaints_manager"
    AUDITOR = "auditor"
    PEER_REVIEWER = "peer_reviewer"
    PRACTICE_DEVELOPMENT_OFFICER = "practice_development_officer"
    QA_OFFICER = "qa_officer"
    LEAD_QA_AUDITOR = "lead_qa_auditor"
    PERFORMANCE_OFFICER = "performance_officer"
    PERFORMANCE_MANAGEMENT = "performance_management"
    ADMINISTRATOR = "administrator"


#: QA staff: run the programmes, add tool versions, create audits by hand and see every audit.
QA_STAFF_ROLES = frozenset({Role.QA_OFFICER, Role.LEAD_QA_AUDITOR, Role.ADMINISTRATOR})
#: Roles that add tool versions, draw months and create audits by hand.
PROGRAMME_ROLES = QA_STAFF_ROLES
#: Who may appoint a practice development officer to a moderation.
APPOINTING_ROLES = frozenset({Role.QA_OFFICER, Role.LEAD_QA_AUDITOR})
#: Who the monthly draw allocates a case to audit, and who peer reviews it.
AUDITOR_ROLES = (Role.AUDITOR, Role.TEAM_MANAGER)
PEER_REVIEWER_ROLE = Role.PEER_REVIEWER
#: Who reads the service-wide reports (completion, grades, trends, themes).
REPORT_ROLES = frozenset({
    Role.QA_OFFICER, Role.LEAD_QA_AUDITOR, Role.ADMINISTRATOR, Role.PERFORMANCE_OFFICER, Role.ASSISTANT_DIRECTOR,
    Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE, Role.SERVICE_DIRECTOR, Role.EXECUTIVE_DIRECTOR, Role.DISTRICT_MANAGER,
})
