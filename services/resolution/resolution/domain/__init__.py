"""The resolution domain in plain Python: the form aggregate, its stages and delegated sections,
themes, and the events they record. No web, database or broker code lives here."""

from .errors import InvalidInput, NotAllowed, ResolutionError, RuleConflict, UnknownItem
from .form import ResolutionForm
from .section import Delegation, DelegationStatus, Section, SectionState
from .stages import Stage
from .themes import Theme
from .values import CaseContacts, CaseSnapshot, Concern, FormStatus, NextStep, PersonRef, StageDates, StageRecord, StageResolution

__all__ = [
    "CaseContacts",
    "CaseSnapshot",
    "Concern",
    "Delegation",
    "DelegationStatus",
    "FormStatus",
    "InvalidInput",
    "NextStep",
    "NotAllowed",
    "PersonRef",
    "ResolutionError",
    "ResolutionForm",
    "RuleConflict",
    "Section",
    "SectionState",
    "Stage",
    "StageDates",
    "StageRecord",
    "StageResolution",
    "Theme",
    "UnknownItem",
]
