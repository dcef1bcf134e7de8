"""Who may do what, in the directory's role names (``shared.roles.Role``)."""

from __future__ import annotations

from shared.roles import Role

#: The people who raise a resolution and own the form.
IRO = Role.IRO
CP_CHAIR = Role.CP_CHAIR
FGC_COORDINATOR = Role.FGC_COORDINATOR
RAISER_ROLES = frozenset({IRO, CP_CHAIR, FGC_COORDINATOR})

#: Themes (the categories of concern) are data, kept by these roles.
THEME_MANAGERS = frozenset({Role.ADMINISTRATOR, Role.QA_OFFICER})

#: Roles that may read every form and the reports, to monitor practice and services.
OVERSIGHT_ROLES = frozenset(
    {
        Role.ADMINISTRATOR,
        Role.QA_OFFICER,
        Role.PERFORMANCE_OFFICER,
        Role.LEAD_QA_AUDITOR,
        Role.SERVICE_MANAGER,
        Role.HEAD_OF_SERVICE,
        Role.ASSISTANT_DIRECTOR,
        Role.SERVICE_DIRECTOR,
        Role.EXECUTIVE_DIRECTOR,
    }
)
