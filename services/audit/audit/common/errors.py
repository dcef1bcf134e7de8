"""What can go wrong when a person acts on an audit (mapped to problem+json in ``main.py``)."""

from __future__ import annotations

from typing import Any


class AuditRuleError(Exception):
    """Base of the audit domain's refusals."""


class NotVisible(AuditRuleError):
    """The person is not party to the audit: even its existence is not theirs to know (404)."""


class NotAllowed(AuditRuleError):
    """A party to the audit tried something that is not theirs to do (403)."""


class WrongStage(AuditRuleError):
    """The audit is not at a stage where this can happen (409)."""


class InvalidEntries(AuditRuleError):
    """What was written does not fit the form: unknown questions, answers off the scale (422)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


class Gaps(InvalidEntries):
    """Submitting with something missing: every gap is listed (422)."""
