"""Audit programmes and their tools, as data: a tool is a versioned definition of sections and
questions; an audit works on the *form* a tool shows for one case.

Which sections a form shows depends on the case type (Child in Need, Child Protection, Child in
Care / care leaver) and on whether the case has been open under or over three months (Kent 4.3:
"the sections of the form ... will vary depending on whether the case is a Child in Need, Child
Protection or Child in Care / Care Leaver and also whether the case has been open for less or
more than 3 months").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum

from shared.calendar import add_months

from ...common.grades import AnswerScale, Grade


class CaseType(StrEnum):
    CIN = "CIN"
    CP = "CP"
    #: Child in care, including care leavers.
    CIC = "CIC"


class OpenBand(StrEnum):
    UNDER_3_MONTHS = "under_3_months"
    OVER_3_MONTHS = "over_3_months"


def open_band(opened_on: date, on: date) -> OpenBand:
    """Whether a case opened on ``opened_on`` has been open under or over 3 months on ``on``."""
    return OpenBand.UNDER_3_MONTHS if on < add_months(opened_on, 3) else OpenBand.OVER_3_MONTHS


class ProgrammeKind(StrEnum):
    #: Kent online peer review: team-manager audit, peer review, moderation.
    PEER_REVIEW = "peer_review"
    #: Hampshire quality practice: evidence listed by worker and supervisor, auditor's judgement.
    QUALITY_PRACTICE = "quality_practice"
    #: Hillingdon single-agency peer audit: Ofsted grades and an action plan.
    SINGLE_AGENCY = "single_agency"
    #: Themed audits (supervision, care plans, decision making, the child's views).
    THEMED = "themed"
    #: Multi-agency audits: the case is known by a code to all but the auditors and coordinator.
    MULTI_AGENCY = "multi_agency"


ALL_CASE_TYPES = [CaseType.CIN, CaseType.CP, CaseType.CIC]
ALL_BANDS = [OpenBand.UNDER_3_MONTHS, OpenBand.OVER_3_MONTHS]


#: How many sections a tool may have.
MAX_SECTIONS = 40


@dataclass(frozen=True, kw_only=True)
class Question:
    key: str
    text: str
    scale: AnswerScale = AnswerScale.YES_NO_NA
    guidance: str = ""
    #: Hampshire: the worker and supervisor list the evidence (what, when, where); a standard
    #: judged as met ("yes") needs at least one item of evidence.
    evidence_list: bool = False


@dataclass(frozen=True, kw_only=True)
class Section:
    key: str
    title: str
    guidance: str = ""
    #: Graded at the end of the section (Kent's sub-sections).
    graded: bool = False
    #: Supervision / management oversight: the auditor comments on their own oversight instead
    #: of grading it; the peer reviewer grades it.
    oversight: bool = False
    case_types: list[CaseType] = field(default_factory=lambda: list(ALL_CASE_TYPES))
    open_bands: list[OpenBand] = field(default_factory=lambda: list(ALL_BANDS))
    questions: list[Question]

    def shown_for(self, case_type: CaseType, band: OpenBand) -> bool:
        return case_type in self.case_types and band in self.open_bands


@dataclass(frozen=True, kw_only=True)
class ToolDefinition:
    """One version of an audit tool, as an administrator or QA officer writes it. The API's model
    (``tools.schemas``) holds the limits of each field; the rules across fields are checked here
    (``ValueError``)."""

    title: str
    description: str = ""
    programme: ProgrammeKind
    #: Where the tool comes from (a procedure, a seed document).
    source: str = ""
    peer_review: bool = False
    moderation: bool = False
    overall_grade: bool = True
    analysis_required: bool = True
    recommendations_required: bool = True
    #: An action plan is required when the overall grade is one of these (Hillingdon).
    action_plan_for_grades: list[Grade] = field(default_factory=list)
    #: Multi-agency: the case is known by a code to all but the auditors and the coordinator.
    coded_case: bool = False
    #: Monthly draw: an auditor with no eligible case they line-manage is given one of their own
    #: service they do not manage, marked as such (off by default: Kent 2's rule is a line-managed case).
    own_service_fallback: bool = False
    sections: list[Section]

    def __post_init__(self) -> None:
        if not 1 <= len(self.sections) <= MAX_SECTIONS:
            raise ValueError(f"a tool has 1 to {MAX_SECTIONS} sections, not {len(self.sections)}")
        section_keys = [s.key for s in self.sections]
        if len(set(section_keys)) != len(section_keys):
            raise ValueError("section keys must be unique")
        question_keys = [q.key for s in self.sections for q in s.questions]
        if len(set(question_keys)) != len(question_keys):
            raise ValueError("question keys must be unique across the tool")
        if self.moderation and not self.peer_review:
            raise ValueError("moderation needs a peer review stage")
        if any(s.oversight for s in self.sections) and not self.peer_review:
            raise ValueError("a supervision / management oversight section is graded by a peer reviewer")
        if self.action_plan_for_grades and not self.overall_grade:
            raise ValueError("an action plan tied to grades needs an overall grade")

    def form_for(self, tool_id: str, version: int, case_type: CaseType, band: OpenBand) -> AuditForm:
        sections = [s for s in self.sections if s.shown_for(case_type, band)]
        if not sections:
            raise NoSectionsShown(tool_id, version, case_type, band)
        return AuditForm(
            tool_id=tool_id,
            tool_version=version,
            case_type=case_type,
            open_band=band,
            **{name: getattr(self, name) for name in _RULES},
            sections=sections,
        )


class NoSectionsShown(Exception):
    def __init__(self, tool_id: str, version: int, case_type: CaseType, band: OpenBand) -> None:
        super().__init__(f"tool {tool_id} version {version} shows no section for a {case_type} case open {band.value.replace('_', ' ')}")


@dataclass(frozen=True, kw_only=True)
class AuditForm:
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

    def questions(self) -> dict[str, Question]:
        return {q.key: q for s in self.sections for q in s.questions}

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def graded_sections(self, *, by_peer_reviewer: bool) -> list[str]:
        """Sections this party grades: the auditor grades all but oversight; the peer reviewer all."""
        return [s.key for s in self.sections if (s.graded or s.oversight) and (by_peer_reviewer or not s.oversight)]

    def oversight_sections(self) -> list[str]:
        return [s.key for s in self.sections if s.oversight]


#: The tool's rules a form carries: the fields a form shares with its tool, but its sections.
_RULES = tuple(f.name for f in fields(AuditForm) if f.name != "sections" and f.name in {g.name for g in fields(ToolDefinition)})
