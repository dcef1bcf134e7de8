"""The domain's refusals. Each maps to one problem+json status in ``signoff.main``:
NotAllowed 403, NotFound 404, Conflict (and Locked) 409, InvalidInput and MandatoryUnanswered
422. Whatever raised one, nothing was changed. A change from a stale read raises the platform's
``shared.versioned.Stale`` (412, in revisions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SignoffError(Exception):
    """A rule of sign-off refused what was asked."""


class NotAllowed(SignoffError):
    """The person may not do this (role, team, or the same-person rule)."""


class NotFound(SignoffError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"There is no {what} {ident!r}.")
        self.what = what
        self.ident = ident


class Conflict(SignoffError):
    """The request contradicts the exemplar's state (e.g. counter-signing a draft)."""


class ReadFirstNotSigned(Conflict):
    """A counter-signature that waits for another exemplar of the case to be counter-signed first
    (the Outcome of s47 Enquiries waits for the Strategy Discussion)."""

    def __init__(self, message: str, *, case_id: str, needs_type_code: str) -> None:
        super().__init__(message)
        self.case_id = case_id
        self.needs_type_code = needs_type_code


class Locked(Conflict):
    """The version was counter-signed and is locked: only an unlock makes a new, editable version."""


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422's ``errors[]``: ``code`` is ``unknown`` (names nothing we know),
    ``missing``, ``duplicate`` or ``invalid``."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


class InvalidInput(SignoffError):
    """Input that breaks a rule of the data (malformed answers, unknown case or person...)."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class Unanswered:
    question_id: str
    text: str


class MandatoryUnanswered(SignoffError):
    """The Exemplar Assistant's answer: every mandatory question still unanswered."""

    def __init__(self, version: int, unanswered: list[Unanswered]) -> None:
        listed = "; ".join(f"'{u.text}'" for u in unanswered)
        super().__init__(
            f"Version {version} cannot be signed: {len(unanswered)} mandatory question(s) must be answered first: {listed}."
        )
        self.version = version
        self.unanswered = unanswered
