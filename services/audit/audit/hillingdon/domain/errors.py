"""Refusals of the Hillingdon rules. The audit domain's ``NotAllowed`` (403), ``WrongStage`` (409),
``InvalidEntries`` and ``Gaps`` (422) are reused as they are; these add what they do not say."""

from __future__ import annotations

from audit.common.errors import AuditRuleError, WrongStage


class NotFound(AuditRuleError):
    """No such record, or the caller is not party to it: its existence is not theirs to know (404)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"There is no {what.lower()} {ident!r}.")
        self.what = what
        self.ident = ident


class Issued(WrongStage):
    """The report was issued: it is kept as issued and never changed (409)."""
