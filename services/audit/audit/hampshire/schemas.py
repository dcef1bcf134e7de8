"""What the worker, the supervisor and the auditor write on a prepared file, as the API takes and
answers it: the limits and descriptions of the OpenAPI document. The domain's plain values
(``domain.prepared_file``) carry the same fields; ``preparation_of`` and ``work_of`` turn a body
into one, and a response reads the domain's values by attribute.
"""

from __future__ import annotations

from pydantic import Field

from ..case_audit.schemas import Evidence
from ..common.schemas import WrittenValue, to_domain
from .domain import prepared_file


class StandardPreparation(WrittenValue):
    """Column three of the tool for one standard: the evidence, a gap, or not applicable."""

    evidence: list[Evidence] = Field(default_factory=list, max_length=30)
    missing: bool = False
    action: str = Field(default="", max_length=4000, description="What will be done about the gap (required when missing)")
    not_applicable: bool = False
    note: str = Field(default="", max_length=4000)


class Preparation(WrittenValue):
    """The partially completed audit tool: evidence per standard and the team/unit manager's comments."""

    standards: dict[str, StandardPreparation] = Field(default_factory=dict)
    comments: str = Field(default="", max_length=20000)


class Judgement(WrittenValue):
    """Column four: does the auditor judge that the standard is met (Yes / No / N/A), and why."""

    value: str = Field(min_length=1, max_length=16)
    comment: str = Field(default="", max_length=8000)


class AuditorWork(WrittenValue):
    judgements: dict[str, Judgement] = Field(default_factory=dict)
    comments: str = Field(default="", max_length=20000)


def preparation_of(body: Preparation) -> prepared_file.Preparation:
    return to_domain(body, prepared_file.Preparation)


def work_of(body: AuditorWork) -> prepared_file.AuditorWork:
    return to_domain(body, prepared_file.AuditorWork)
