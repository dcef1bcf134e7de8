"""Refusals of Hampshire's monthly rules, each mapped to problem+json by ``hampshire.api``. The
audit domain's ``NotAllowed`` (403), ``WrongStage`` (409), ``InvalidEntries`` and ``Gaps`` (422)
are reused as they are; these add what they do not say."""

from __future__ import annotations

from typing import Any

from ...common.errors import AuditRuleError, NotVisible


class FileNotVisible(NotVisible):
    """Not a party to the prepared file: its existence is not theirs to know (404)."""


class DelegationNotVisible(NotVisible):
    """Neither the service manager who delegated nor the delegate (404)."""


class AlreadyPrepared(AuditRuleError):
    """The worker already has a file prepared for this month (4.1: one file per worker) (409)."""

    def __init__(self, message: str, file_id: str) -> None:
        super().__init__(message)
        self.file_id = file_id


class SelectionRefused(AuditRuleError):
    """The month's selection cannot be closed as it stands; every reason is listed (409)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors
