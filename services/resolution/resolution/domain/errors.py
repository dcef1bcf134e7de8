"""The errors a person can cause against the resolution rules, each with a problem slug.

The app maps them to problem+json in one place (``main.py``): ``NotAllowed`` is 403,
``RuleConflict`` 409, ``InvalidInput`` 422, ``UnknownItem`` 404.
"""

from __future__ import annotations


class ResolutionError(Exception):
    """Base of every domain error: a short ``slug`` naming the problem and a human ``detail``."""

    slug = "resolution-error"
    title = "Resolution rule"

    def __init__(self, detail: str, *, slug: str | None = None, title: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title


class NotAllowed(ResolutionError):
    """The caller may not do this (wrong person or role)."""

    slug = "forbidden"
    title = "Not allowed"


class RuleConflict(ResolutionError):
    """The request is well-formed but the form's state does not allow it now."""

    slug = "conflict"
    title = "Conflict"


class InvalidInput(ResolutionError):
    """The request names or says something the rules cannot accept."""

    slug = "invalid-input"
    title = "Invalid input"


class UnknownItem(ResolutionError):
    """A form or theme that does not exist."""

    slug = "not-found"
    title = "Not found"
