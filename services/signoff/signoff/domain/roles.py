"""Role strings, as the directory spells them (the gateway's ``Role`` enum), and the groups of
roles sign-off's rules name. Kept here because services share events, not code: a role the
directory adds later is unknown to exemplar types until it is added below."""

from __future__ import annotations

SOCIAL_WORKER = "social_worker"
SENIOR_PRACTITIONER = "senior_practitioner"
PRACTICE_SUPERVISOR = "practice_supervisor"
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
AUDITOR = "auditor"
PEER_REVIEWER = "peer_reviewer"
PRACTICE_DEVELOPMENT_OFFICER = "practice_development_officer"
QA_OFFICER = "qa_officer"
LEAD_QA_AUDITOR = "lead_qa_auditor"
PERFORMANCE_OFFICER = "performance_officer"
ADMINISTRATOR = "administrator"
#: The seed's "team admin" / "duty admin officer": completes (and clones) exemplars, adds the
#: index-child case note and work-flows them to the duty senior; never signs (seed 000).
ADMIN_OFFICER = "admin_officer"
INTEGRATION = "integration"

KNOWN_ROLES = frozenset(
    {
        SOCIAL_WORKER, SENIOR_PRACTITIONER, PRACTICE_SUPERVISOR, TEAM_LEADER, TEAM_MANAGER, DUTY_SENIOR,
        DISTRICT_MANAGER, SERVICE_MANAGER, PRINCIPAL_SOCIAL_WORKER, HEAD_OF_SERVICE, ASSISTANT_DIRECTOR,
        SERVICE_DIRECTOR, EXECUTIVE_DIRECTOR, IRO, CP_CHAIR, FGC_COORDINATOR, AUDITOR, PEER_REVIEWER,
        PRACTICE_DEVELOPMENT_OFFICER, QA_OFFICER, LEAD_QA_AUDITOR, PERFORMANCE_OFFICER, ADMINISTRATOR, ADMIN_OFFICER, INTEGRATION,
    }
)

#: The seed's "relevant Manager[s]" who may give a second signature.
SEED_COUNTER_SIGNERS = frozenset(
    {SENIOR_PRACTITIONER, PRACTICE_SUPERVISOR, TEAM_LEADER, DISTRICT_MANAGER, PRINCIPAL_SOCIAL_WORKER}
)

#: "Relevant managers" who may unlock a signed exemplar of a child in a team they belong to or manage.
MANAGERS = frozenset(
    {
        SENIOR_PRACTITIONER, PRACTICE_SUPERVISOR, TEAM_LEADER, TEAM_MANAGER, DUTY_SENIOR, DISTRICT_MANAGER,
        SERVICE_MANAGER, PRINCIPAL_SOCIAL_WORKER, HEAD_OF_SERVICE,
    }
)

#: Who may unlock ("open") a signed exemplar of a child in a team they belong to or manage: "all
#: admin, social workers & relevant managers"; "the admin officer can open the exemplar" (seed 000).
UNLOCKERS = frozenset({SOCIAL_WORKER, ADMIN_OFFICER}) | MANAGERS

#: Roles that read any child's exemplars and chronology (oversight across teams).
READ_ANY_CASE = frozenset(
    {
        ADMINISTRATOR, PRINCIPAL_SOCIAL_WORKER, SERVICE_MANAGER, HEAD_OF_SERVICE, ASSISTANT_DIRECTOR,
        SERVICE_DIRECTOR, EXECUTIVE_DIRECTOR, IRO, CP_CHAIR, QA_OFFICER, LEAD_QA_AUDITOR, PERFORMANCE_OFFICER,
    }
)

#: Roles that read the timeliness report (performance monitoring, statutory returns).
REPORT_READERS = frozenset(
    {
        ADMINISTRATOR, PERFORMANCE_OFFICER, PRINCIPAL_SOCIAL_WORKER, TEAM_MANAGER, DISTRICT_MANAGER, SERVICE_MANAGER,
        HEAD_OF_SERVICE, ASSISTANT_DIRECTOR, SERVICE_DIRECTOR, EXECUTIVE_DIRECTOR, LEAD_QA_AUDITOR, QA_OFFICER,
    }
)

#: Who may add and change exemplar types.
TYPE_EDITORS = frozenset({ADMINISTRATOR})
