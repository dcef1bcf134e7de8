"""The roles the audit service acts on, in the procedures' own words (the directory's vocabulary),
and the groups of them its rules name. Plain Python: domain rules, use cases and routes all ask
here rather than spelling a role string themselves. ``Role`` is the platform's one list
(``shared.roles``), the roles the directory accepts: a role audit named that nobody could be
given would make its rule unreachable."""

from __future__ import annotations

from shared.roles import Role as Role

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
