"""The problems the shared mechanisms' exceptions are answered with, mapped once for every service.

``create_service_app`` installs ``COMMON_PROBLEMS`` in every service, under the service's own
``domain_errors`` (a service's entry for the same exception wins). Stores and use cases raise
the plain exceptions (``shared.versioned.Stale``); only this mapping knows HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import Problem, not_found
from .http import if_match_required, stale, stale_absent
from .versioned import Stale

ProblemMap = dict[type[Exception], Callable[[Exception], Problem]]


def stale_problem(exc: Exception, *, counter: str = "version") -> Problem:
    """``Stale`` as problem+json.

    - at another version than the one named: 412 ``stale-version`` with ``current_version``;
    - a version named of a record that does not exist: 412 ``stale-version``;
    - a record that does not exist, no version named: 404 ``not-found``;
    - an existing record changed without naming a version: 428 ``if-match-required``.

    ``counter`` is what the service calls its version numbers (sign-off: "revision").
    """
    assert isinstance(exc, Stale)
    if exc.current is None:
        if exc.expected is not None:
            return stale_absent(exc.what, exc.ident, exc.expected, counter=counter)
        title = exc.what[:1].upper() + exc.what[1:]
        if exc.ident is None:
            return Problem(404, "not-found", f"{title} not found", f"There is no {exc.what}.")
        return not_found(title, exc.ident)
    if exc.expected is None:
        return if_match_required()
    return stale(exc.current, exc.expected, exc.what, counter=counter)


COMMON_PROBLEMS: ProblemMap = {Stale: stale_problem}


def with_common_problems(domain_errors: ProblemMap | None) -> ProblemMap:
    """The common mapping with a service's own on top (the service's entry wins)."""
    return {**COMMON_PROBLEMS, **(domain_errors or {})}
