"""The directory API's request bodies: a team, a person and a child's case as written (one at a
time, or row by row in a bulk import), with the limits of the OpenAPI document.

The domain (``domain``) has the same records, plain, and checks the rules across fields:
``to_domain`` turns a body into the domain's record, whose ``ValueError`` answers 422.
"""

from __future__ import annotations

from datetime import date
from typing import TypeAlias

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from shared.ids import IdField

from . import domain
from .domain import CaseStatus, CaseType, Role

Ident: TypeAlias = IdField


# No docstrings on the bodies: a docstring would become the schema's description in the OpenAPI document.
class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Team(_Record):
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(min_length=1, max_length=200)
    area: str = Field(min_length=1, max_length=200)
    service: str = Field(min_length=1, max_length=200)
    manager_id: Ident | None = None

    def to_domain(self) -> domain.Team:
        return domain.Team(**dict(self))


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

    def to_domain(self) -> domain.Person:
        return domain.Person(**dict(self))


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
        self.to_domain()  # the domain's rules (a case is not closed before it opened): a ValueError answers 422
        return self

    def to_domain(self) -> domain.ChildCase:
        return domain.ChildCase(**dict(self))


#: A record as written (``to_domain`` gives the domain's record).
Body: TypeAlias = Team | Person | ChildCase
