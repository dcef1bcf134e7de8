"""Refusals of the multi-agency audit's rules, mapped to problem+json by ``multi_agency.api``. The
audit domain's ``NotAllowed`` (403), ``WrongStage`` (409), ``InvalidEntries`` and ``Gaps`` (422)
are reused as they are; these add what they do not say."""

from __future__ import annotations


class NoSuchAction(Exception):
    """The plan has no action with this id (404)."""


class NoSuchCase(Exception):
    """The baseline holds no case with this audit id (404)."""
