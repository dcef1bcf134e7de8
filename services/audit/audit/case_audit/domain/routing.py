"""Who receives a copy of an audit's PDF (Kent 4.4 and 4.6).

The parties: the auditor after stage 1; auditor and peer reviewer after the peer review and after
moderation (with the practice development officer who moderated). The managers, every time: the
service manager accountable for the child's case; the IRO team manager for a child in care; the
CP chairs' manager for child protection; the safeguarding QA service manager when the case is
graded outstanding, inadequate or inadequate (critical), and after every moderation, whatever the
grade (4.8: "Ensure that the Service Manager Safeguarding Quality Assurance is kept updated on the
outcome of the moderation").

Hillingdon's single-agency peer audit (5.2.3, Appendix D) is also sent to the QA team, the social
worker and the team manager of the child's case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ...common.grades import QA_SERVICE_MANAGER_GRADES, Grade
from ...common.roles import Role
from ...tools.domain.definition import CaseType, ProgrammeKind


class CopyStage(StrEnum):
    AUDIT = "audit"
    PEER_REVIEW = "peer_review"
    MODERATED = "moderated"


@dataclass(frozen=True)
class Contacts:
    """The managers an audit's copies may go to, as resolved for one case (any may be unknown)."""

    accountable_service_manager_id: str | None = None
    iro_team_manager_id: str | None = None
    cp_chairs_manager_id: str | None = None
    qa_service_manager_id: str | None = None
    #: The case's allocated social worker and its team manager (Hillingdon copies).
    social_worker_id: str | None = None
    team_manager_id: str | None = None
    #: The QA team: active QA officers and lead QA auditors (Hillingdon copies).
    qa_team_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipient:
    person_id: str
    reasons: tuple[str, ...]


def copies_the_case_team(programme: ProgrammeKind | None) -> bool:
    """Whether the programme's copies also go to the case's social worker, team manager and the QA
    team (Hillingdon 5.2.3); only then are they looked up."""
    return programme is ProgrammeKind.SINGLE_AGENCY


def copy_recipients(
    *,
    stage: CopyStage,
    case_type: CaseType,
    grades: Iterable[Grade | None],
    auditor_id: str,
    peer_reviewer_id: str | None,
    officer_id: str | None,
    contacts: Contacts,
    programme: ProgrammeKind | None = None,
) -> list[Recipient]:
    """Everyone a copy goes to, each once with every reason they receive it."""
    wanted: list[tuple[str | None, str]] = [(auditor_id, Role.AUDITOR)]
    if stage in (CopyStage.PEER_REVIEW, CopyStage.MODERATED):
        wanted.append((peer_reviewer_id, Role.PEER_REVIEWER))
    if stage is CopyStage.MODERATED:
        wanted.append((officer_id, Role.PRACTICE_DEVELOPMENT_OFFICER))
    wanted.append((contacts.accountable_service_manager_id, "accountable_service_manager"))
    if case_type is CaseType.CIC:
        wanted.append((contacts.iro_team_manager_id, "iro_team_manager"))
    if case_type is CaseType.CP:
        wanted.append((contacts.cp_chairs_manager_id, "cp_chairs_manager"))
    if stage is CopyStage.MODERATED or any(g in QA_SERVICE_MANAGER_GRADES for g in grades if g is not None):
        # Kent 4.8: kept updated on the outcome of every moderation, not only of the grades above.
        wanted.append((contacts.qa_service_manager_id, "safeguarding_qa_service_manager"))
    if copies_the_case_team(programme):
        wanted.append((contacts.social_worker_id, Role.SOCIAL_WORKER))
        wanted.append((contacts.team_manager_id, Role.TEAM_MANAGER))
        wanted.extend((person_id, "qa_team") for person_id in contacts.qa_team_ids)
    merged: dict[str, list[str]] = {}
    for person_id, reason in wanted:
        if person_id:
            merged.setdefault(person_id, []).append(reason)
    return [Recipient(person_id, tuple(reasons)) for person_id, reasons in merged.items()]
