"""What people write on a multi-agency audit, as the API takes and answers it: the partners, a
party's consultation, the meeting, the action plan and the bespoke tool, with the limits and
descriptions of the OpenAPI document. The domain's plain values (``domain.audit``) carry the same
fields; the routes turn a body into one (``case_audit.schemas.to_domain``), and a response reads the
domain's values by attribute.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, TypeAlias

from pydantic import Field
from shared.ids import IdField

from ..common.grades import Grade
from ..common.schemas import WrittenValue
from ..tools.schemas import Section

#: An agency's key (health, police, education), and a service area's: lower case, digits and underscores.
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
AgencyKey = Annotated[str, Field(min_length=1, max_length=40, pattern=KEY_PATTERN, description="e.g. health, police, education")]
#: A case's code, which stands for the child in a multi-agency audit.
CaseCode = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[A-Z0-9-]+$")]
PersonId: TypeAlias = IdField


class Partner(WrittenValue):
    """An agency taking part, with its named representative (its lead auditor or manager)."""

    agency: AgencyKey
    name: str = Field(min_length=1, max_length=200, description="The agency as people call it, e.g. 'Hillingdon Hospital'")
    representative_id: PersonId


class ConsultationInput(WrittenValue):
    """One party's views on the impact of the work, or why they could not be obtained."""

    obtained: bool = True
    method: str = Field(min_length=1, max_length=100)
    held_on: date
    views: str = Field(default="", max_length=20000)
    reason_not_obtained: str = Field(default="", max_length=4000)


class Attendee(WrittenValue):
    """Someone at the meeting other than the partners' representatives."""

    role: AgencyKey
    person_id: PersonId


class MeetingInput(WrittenValue):
    held_on: date
    partners_present: list[AgencyKey] = Field(min_length=1, max_length=20)
    others_present: list[Attendee] = Field(default_factory=list, max_length=30)
    findings: str = Field(min_length=1, max_length=20000)
    agreed_grade: Grade


class ActionInput(WrittenValue):
    agency: AgencyKey
    action: str = Field(min_length=1, max_length=4000)
    due_on: date


class PlanInput(WrittenValue):
    """The multi-agency action plan: an owner per agency, and the agencies' actions."""

    owners: dict[AgencyKey, PersonId] = Field(min_length=1, max_length=20)
    actions: list[ActionInput] = Field(min_length=1, max_length=100)


class BespokeTool(WrittenValue):
    """The audit group's tool for this audit: the base multi-agency tool with its own sections."""

    base_tool_id: str = Field(default="multi-agency", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")
    base_version: int | None = Field(default=None, ge=1, description="Defaults to the base tool's latest version")
    sections: list[Section] = Field(default_factory=list, max_length=20, description="Sections added for this audit's theme")
