"""The roles sign-off's rules name, and the groups of them: each is the directory's role string
(``shared.roles.Role``, the one list of roles), so ``roles.DUTY_SENIOR`` is ``"duty_senior"``.
A role the directory adds later is unknown to exemplar types until ``shared.roles`` lists it.

The seed's "team admin" / "duty admin officer" is ``ADMIN_OFFICER``: completes (and clones)
exemplars, adds the index-child case note and work-flows them to the duty senior; never signs
(seed 000)."""

from __future__ import annotations

from shared.roles import Role


def __getattr__(name: str) -> str:
    """``roles.SOCIAL_WORKER`` and every other role: the directory's string for it."""
    try:
        return Role[name].value
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def _roles(*roles: Role) -> frozenset[str]:
    return frozenset(role.value for role in roles)


KNOWN_ROLES = _roles(*Role)

#: The seed's "relevant Manager[s]" who may give a second signature.
SEED_COUNTER_SIGNERS = _roles(
    Role.SENIOR_PRACTITIONER, Role.PRACTICE_SUPERVISOR, Role.TEAM_LEADER, Role.DISTRICT_MANAGER,
    Role.PRINCIPAL_SOCIAL_WORKER
)

#: "Relevant managers" who may unlock a signed exemplar of a child in a team they belong to or manage.
MANAGERS = _roles(
    Role.SENIOR_PRACTITIONER, Role.PRACTICE_SUPERVISOR, Role.TEAM_LEADER, Role.TEAM_MANAGER, Role.DUTY_SENIOR,
    Role.DISTRICT_MANAGER, Role.SERVICE_MANAGER, Role.PRINCIPAL_SOCIAL_WORKER, Role.HEAD_OF_SERVICE
)

#: Who may unlock ("open") a signed exemplar of a child in a team they belong to or manage: "all
#: admin, social workers & relevant managers"; "the admin officer can open the exemplar" (seed 000).
UNLOCKERS = _roles(Role.SOCIAL_WORKER, Role.ADMIN_OFFICER) | MANAGERS

#: Roles that read any child's exemplars and chronology (oversight across teams).
READ_ANY_CASE = _roles(
    Role.ADMINISTRATOR, Role.PRINCIPAL_SOCIAL_WORKER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE,
    Role.ASSISTANT_DIRECTOR, Role.SERVICE_DIRECTOR, Role.EXECUTIVE_DIRECTOR, Role.IRO, Role.CP_CHAIR,
    Role.QA_OFFICER, Role.LEAD_QA_AUDITOR, Role.PERFORMANCE_OFFICER
)

#: Roles that read the timeliness report (performance monitoring, statutory returns).
REPORT_READERS = _roles(
    Role.ADMINISTRATOR, Role.PERFORMANCE_OFFICER, Role.PRINCIPAL_SOCIAL_WORKER, Role.TEAM_MANAGER,
    Role.DISTRICT_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE, Role.ASSISTANT_DIRECTOR,
    Role.SERVICE_DIRECTOR, Role.EXECUTIVE_DIRECTOR, Role.LEAD_QA_AUDITOR, Role.QA_OFFICER
)

#: Who may add and change exemplar types.
TYPE_EDITORS = _roles(Role.ADMINISTRATOR)
