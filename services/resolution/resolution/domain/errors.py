"""The errors a person can cause against the resolution rules, each with a problem slug.

The app maps them to problem+json in one place (``main.py``): ``NotAllowed`` is 403,
``RuleConflict`` 409, ``InvalidInput`` 422, ``UnknownItem`` 404.
"""

from __future__ import annotations

#: The title of each slug a rule names besides its class's own: one title per problem type
#: (a slug raised without a title takes its title from here, never the class's generic one).
PROBLEM_TITLES: dict[str, str] = {
    "theme-exists": "Theme exists",
    "closing-reason-exists": "Closing reason exists",
    "case-closed": "Case closed",
    "form-finished": "Form finished",
    "stage-not-active": "Stage not active",
    "stage-over": "Stage over",
    "stage-already-active": "Stage already active",
    "stage-passed": "Stage passed",
    "too-many-concerns": "Too many concerns",
    "recorded-by-owner": "Recorded by the owner",
    "section-still-delegated": "Section still delegated",
    "last-stage": "Last stage",
    "section-finalised": "Section finalised",
    "section-empty": "Section empty",
    "already-delegated": "Already delegated",
    "section-not-finalised": "Section not finalised",
    "section-not-active": "Section not active",
    "contact-already-recorded": "Contact already recorded",
}


class ResolutionError(Exception):
    """Base of every domain error: a short ``slug`` naming the problem and a human ``detail``.
    Each kind names its slug and title in its class statement."""

    slug = "resolution-error"
    title = "Resolution rule"

    def __init_subclass__(cls, *, slug: str | None = None, title: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.slug = slug or cls.slug
        cls.title = title or cls.title

    def __init__(self, detail: str, *, slug: str | None = None, title: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
            self.title = PROBLEM_TITLES.get(slug, self.title)
        if title is not None:
            self.title = title


class NotAllowed(ResolutionError, slug="forbidden", title="Not allowed"):
    """The caller may not do this (wrong person or role)."""


class RuleConflict(ResolutionError, slug="conflict", title="Conflict"):
    """The request is well-formed but the form's state does not allow it now."""


class InvalidInput(ResolutionError, slug="invalid-input", title="Invalid input"):
    """The request names or says something the rules cannot accept."""


class UnknownItem(ResolutionError, slug="not-found", title="Not found"):
    """A form or theme that does not exist."""
