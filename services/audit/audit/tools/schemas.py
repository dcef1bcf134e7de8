"""The tools API's request and response shapes: a tool definition as written (``ToolDefinition``,
with its sections and questions) and the form an audit fills in (``AuditForm``), with the limits
and descriptions of the OpenAPI document. The domain (``domain.definition``) has the same values,
plain, and checks the rules across fields: ``parse_definition`` turns a written or stored
definition into the domain's, ``definition_json`` a domain definition into its stored JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from ..common.grades import AnswerScale, Grade
from .domain import definition as domain
from .domain.definition import ALL_BANDS, ALL_CASE_TYPES, MAX_SECTIONS, CaseType, OpenBand, ProgrammeKind

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)


class Question(_Model):
    key: Key
    text: str = Field(min_length=1, max_length=1000)
    scale: AnswerScale = AnswerScale.YES_NO_NA
    guidance: str = Field(default="", max_length=4000)
    evidence_list: bool = False


class Section(_Model):
    key: Key
    title: str = Field(min_length=1, max_length=200)
    guidance: str = Field(default="", max_length=4000)
    graded: bool = False
    oversight: bool = False
    case_types: list[CaseType] = Field(default_factory=lambda: list(ALL_CASE_TYPES), min_length=1)
    open_bands: list[OpenBand] = Field(default_factory=lambda: list(ALL_BANDS), min_length=1)
    questions: list[Question] = Field(min_length=1, max_length=100)

    def to_domain(self) -> domain.Section:
        return domain.Section(**{**dict(self), "questions": [domain.Question(**dict(q)) for q in self.questions]})


class ToolDefinition(_Model):
    """One version of an audit tool, as an administrator or QA officer writes it."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    programme: ProgrammeKind
    source: str = Field(default="", max_length=500)
    peer_review: bool = False
    moderation: bool = False
    overall_grade: bool = True
    analysis_required: bool = True
    recommendations_required: bool = True
    action_plan_for_grades: list[Grade] = Field(default_factory=list)
    coded_case: bool = False
    own_service_fallback: bool = Field(
        default=False,
        description="Monthly draw (documented fallback, off by default): an auditor with no eligible case they line-manage is given a case of "
        "their own service (the first service manager up their line) that they do not manage, marked `own_service` on the cycle's assignment",
    )
    sections: list[Section] = Field(min_length=1, max_length=MAX_SECTIONS)

    @model_validator(mode="after")
    def _consistent(self) -> ToolDefinition:
        self.to_domain()  # the domain's rules: a ValueError answers 422 "Value error, ..."
        return self

    def to_domain(self) -> domain.ToolDefinition:
        return domain.ToolDefinition(**{**dict(self), "sections": [s.to_domain() for s in self.sections]})


class AuditForm(_Model):
    """What one audit fills in: the tool's rules and the sections shown for its case."""

    tool_id: str
    tool_version: int
    case_type: CaseType
    open_band: OpenBand
    title: str
    programme: ProgrammeKind
    peer_review: bool
    moderation: bool
    overall_grade: bool
    analysis_required: bool
    recommendations_required: bool
    action_plan_for_grades: list[Grade]
    coded_case: bool
    sections: list[Section]


def parse_definition(raw: Any) -> domain.ToolDefinition:
    """A definition as JSON (shipped, stored or written) as the domain's, checked as the API checks
    it (``ValidationError``)."""
    return ToolDefinition.model_validate(raw).to_domain()


_DEFINITION = TypeAdapter(domain.ToolDefinition)


def definition_json(definition: domain.ToolDefinition) -> dict[str, Any]:
    """A domain definition as JSON, as it is stored and answered (``parse_definition`` reads it back)."""
    value: dict[str, Any] = _DEFINITION.dump_python(definition, mode="json")
    return value


class ToolSummaryOut(BaseModel):
    tool_id: str
    latest_version: int
    title: str
    programme: str
    updated_at: datetime
    updated_by: str


class ToolOut(BaseModel):
    tool_id: str
    version: int
    definition: dict[str, Any]
    created_by: str
    created_at: datetime
