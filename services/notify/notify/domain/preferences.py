"""A person's email preferences: email on or off per kind of task, except the statutory kinds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .kinds import TaskKind, is_statutory


class StatutoryEmail(Exception):
    """Someone tried to turn off an email the procedure requires."""

    def __init__(self, kinds: list[TaskKind]) -> None:
        self.kinds = kinds
        names = ", ".join(sorted(k.value for k in kinds))
        super().__init__(f"Emails of kind {names} are required by the audit procedure and cannot be turned off.")


@dataclass
class Preferences:
    person_id: str
    #: Kinds whose email the person turned off (every other kind is on).
    email_off: set[TaskKind] = field(default_factory=set)
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None

    def wants_email(self, kind: TaskKind) -> bool:
        return is_statutory(kind) or kind not in self.email_off

    def email_settings(self) -> dict[TaskKind, bool]:
        return {kind: self.wants_email(kind) for kind in TaskKind}

    def change(self, email: dict[TaskKind, bool], *, by: str, at: datetime) -> None:
        """Apply the given on/off choices (kinds not named keep their setting)."""
        refused = [kind for kind, on in email.items() if not on and is_statutory(kind)]
        if refused:
            raise StatutoryEmail(refused)
        for kind, on in email.items():
            if on:
                self.email_off.discard(kind)
            else:
                self.email_off.add(kind)
        self.version += 1
        self.updated_at = at
        self.updated_by = by
