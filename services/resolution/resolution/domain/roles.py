"""Who may do what, in the directory's role names (``gateway.directory.domain.Role`` values)."""

from __future__ import annotations

#: The people who raise a resolution and own the form.
IRO = "iro"
CP_CHAIR = "cp_chair"
FGC_COORDINATOR = "fgc_coordinator"
RAISER_ROLES = frozenset({IRO, CP_CHAIR, FGC_COORDINATOR})

#: Themes (the categories of concern) are data, kept by these roles.
THEME_MANAGERS = frozenset({"administrator", "qa_officer"})

#: Roles that may read every form and the reports, to monitor practice and services.
OVERSIGHT_ROLES = frozenset(
    {
        "administrator",
        "qa_officer",
        "performance_officer",
        "lead_qa_auditor",
        "service_manager",
        "head_of_service",
        "assistant_director",
        "service_director",
        "executive_director",
    }
)
