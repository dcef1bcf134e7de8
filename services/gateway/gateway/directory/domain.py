"""Directory records and their rules (plain pydantic, no I/O).

A record is one team, one person (a member of staff) or one child's case. Each is identified by
the case-management system's own id, carries a version number (its ETag), and every change keeps
the previous version in the record's history.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


class Role(StrEnum):
    """Roles a person can hold, in the procedures' own words."""

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
    #: The case-management system's own account, which keeps the directory up to date.
    INTEGRATION = "integration"


DIRECTORY_WRITERS = frozenset({Role.ADMINISTRATOR, Role.INTEGRATION})


class CaseType(StrEnum):
    CIN = "CIN"
    CP = "CP"
    CIC = "CIC"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Team(_Record):
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(min_length=1, max_length=200)
    area: str = Field(min_length=1, max_length=200)
    service: str = Field(min_length=1, max_length=200)
    manager_id: Ident | None = None


class Person(_Record):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    roles: list[Role] = Field(min_length=1)
    team_id: Ident | None = None
    line_manager_id: Ident | None = None
    active: bool = True

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[Role]) -> list[Role]:
        return sorted(set(roles))


class ChildCase(_Record):
    child_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    case_type: CaseType
    status: CaseStatus = CaseStatus.OPEN
    team_id: Ident
    allocated_worker_id: Ident | None = None
    team_manager_id: Ident | None = None
    sibling_case_ids: list[Ident] = Field(default_factory=list, max_length=30)
    opened_on: date
    closed_on: date | None = None

    @field_validator("sibling_case_ids")
    @classmethod
    def _distinct_siblings(cls, ids: list[str]) -> list[str]:
        return sorted(set(ids))

    @model_validator(mode="after")
    def _closed_after_opened(self) -> ChildCase:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError(f"closed_on ({self.closed_on}) is before opened_on ({self.opened_on})")
        return self
