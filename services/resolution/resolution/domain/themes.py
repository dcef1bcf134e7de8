"""Themes: the managed list of categories a concern is filed under, for service-improvement
reporting. Themes are data kept by administrators and QA officers; a theme in use is retired,
never deleted, so reports over past concerns keep their names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Self

from .errors import InvalidInput, NotAllowed
from .roles import THEME_MANAGERS

MAX_NAME = 120
MAX_DESCRIPTION = 1000


def theme_key(name: str) -> str:
    """The name as compared for duplicates: case and spacing do not make a new theme."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def theme_id_for(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", theme_key(name)).strip("-")
    return slug[:60] or "theme"


def check_theme_manager(roles: frozenset[str], what: str = "theme") -> None:
    if roles.isdisjoint(THEME_MANAGERS):
        raise NotAllowed(f"Only an administrator or a QA officer may change the list of {what}s.")


def _clean_name(name: str, what: str = "theme") -> str:
    cleaned = re.sub(r"\s+", " ", name).strip()
    if not cleaned:
        raise InvalidInput(f"A {what} needs a name.")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"A {what}'s name is at most {MAX_NAME} characters.")
    return cleaned


def _clean_description(description: str, what: str = "theme") -> str:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"A {what}'s description is at most {MAX_DESCRIPTION} characters.")
    return description.strip()


@dataclass
class Theme:
    id: str
    name: str
    description: str
    active: bool
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    #: What the list holds, in messages (a closing reason is kept by the same rules).
    what = "theme"

    @property
    def key(self) -> str:
        return theme_key(self.name)

    @classmethod
    def create(cls, name: str, description: str, *, by: str, roles: frozenset[str], at: datetime) -> Self:
        check_theme_manager(roles, cls.what)
        cleaned = _clean_name(name, cls.what)
        return cls(theme_id_for(cleaned), cleaned, _clean_description(description, cls.what), True, 1, by, at, by, at)

    def change(
        self, *, by: str, roles: frozenset[str], at: datetime, name: str | None = None, description: str | None = None, active: bool | None = None
    ) -> bool:
        """Apply the given changes; returns whether anything changed (no new version otherwise)."""
        check_theme_manager(roles, self.what)
        new_name = _clean_name(name, self.what) if name is not None else self.name
        new_description = _clean_description(description, self.what) if description is not None else self.description
        new_active = self.active if active is None else active
        if (new_name, new_description, new_active) == (self.name, self.description, self.active):
            return False
        self.name, self.description, self.active = new_name, new_description, new_active
        self.version += 1
        self.updated_by = by
        self.updated_at = at
        return True
