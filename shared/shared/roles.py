"""The roles a person can hold, as the directory (the gateway) spells them: the one list every
service reads a caller's or a directory record's roles against. A ``StrEnum``: each role is its
string, so a role in a set of strings, a document or an event is the same value."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Roles a person can hold, in the procedures' own words."""

    SOCIAL_WORKER = "social_worker"
    SENIOR_PRACTITIONER = "senior_practitioner"
    PRACTICE_SUPERVISOR = "practice_supervisor"
    #: Hillingdon's practice mentors, who progress a monthly report's recommendations (seed 002, 5.2.5).
    PRACTICE_MENTOR = "practice_mentor"
    TEAM_LEADER = "team_leader"
    TEAM_MANAGER = "team_manager"
    DUTY_SENIOR = "duty_senior"
    DISTRICT_MANAGER = "district_manager"
    SERVICE_MANAGER = "service_manager"
    PRINCIPAL_SOCIAL_WORKER = "principal_social_worker"
    HEAD_OF_SERVICE = "head_of_service"
    ASSISTANT_DIRECTOR = "assistant_director"
    SERVICE_DIRECTOR = "service_director"
    EXECUTIVE_DIRECTOR = "executive_director"
    IRO = "iro"
    CP_CHAIR = "cp_chair"
    FGC_COORDINATOR = "fgc_coordinator"
    #: Who gather service users' feedback and consultation results, and keep the complaints log (seed 002).
    PARTICIPATION_OFFICER = "participation_officer"
    COMPLAINTS_MANAGER = "complaints_manager"
    AUDITOR = "auditor"
    PEER_REVIEWER = "peer_reviewer"
    PRACTICE_DEVELOPMENT_OFFICER = "practice_development_officer"
    QA_OFFICER = "qa_officer"
    LEAD_QA_AUDITOR = "lead_qa_auditor"
    PERFORMANCE_OFFICER = "performance_officer"
    #: Hampshire's performance management unit, who collate the audited files (seed 003, 12.2, 14.3).
    PERFORMANCE_MANAGEMENT = "performance_management"
    ADMINISTRATOR = "administrator"
    #: Team admin / the duty admin officer (sign-off, seed 000): completes and clones exemplars, never signs.
    ADMIN_OFFICER = "admin_officer"
    #: The case-management system's own account, which keeps the directory up to date.
    INTEGRATION = "integration"
