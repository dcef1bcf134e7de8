"""The problems the shared mechanisms' exceptions are answered with, mapped once for every service.

``create_service_app`` installs ``COMMON_PROBLEMS`` in every service, under the service's own
``domain_errors`` (a service's entry for the same exception wins). Stores and use cases raise
the plain exceptions (``shared.versioned.Stale``); only this mapping knows HTTP.

Outages are mapped here too, so every service (the gateway included) answers them the same way:
an unreachable database (PyMongo's ``ConnectionFailure`` family: server selection timed out, a
lost connection, a network timeout) is 503 ``database-unavailable``, an unreachable broker on a
write that needs it (``shared.broker_access.BrokerUnavailable``) is 503 ``broker-unavailable``,
both with ``Retry-After``. Most writes need no broker: their events go to the transactional
outbox in the database and are published later.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo.errors import ConnectionFailure

from .broker_access import BrokerUnavailable
from .errors import Problem, not_found
from .http import if_match_required, stale, stale_absent
from .mongo import DatabaseUnavailable
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
            return Problem(404, "not-found", "Not found", f"There is no {exc.what}.")
        return not_found(title, exc.ident)
    if exc.expected is None:
        return if_match_required(exc.what, exc.ident, exc.current, counter=counter)
    return stale(exc.current, exc.expected, exc.what, counter=counter)


#: Seconds a client is asked to wait before trying again after an outage answer.
OUTAGE_RETRY_AFTER_S = 5


def database_unavailable(exc: Exception) -> Problem:
    """The database could not be reached in time: 503, nothing changed (unless the connection was
    lost while committing, when whether the change was saved is not known)."""
    headers = {"Retry-After": str(OUTAGE_RETRY_AFTER_S)}
    if isinstance(exc, DatabaseUnavailable) and exc.outcome_unknown:
        return Problem(
            503, "database-unavailable", "Database unavailable",
            "The database became unreachable while this change was being saved, so whether it was saved is not known. "
            "Read the record again once the service answers (or repeat the request with the same Idempotency-Key) "
            "before changing it again.",
            headers=headers, outcome="unknown",
        )
    return Problem(
        503, "database-unavailable", "Database unavailable",
        "The database cannot be reached at the moment; nothing was changed by this request. Try again shortly.",
        headers=headers,
    )


def broker_unavailable(exc: Exception) -> Problem:
    """The message broker (or its management API) could not be reached for a write that needs it."""
    return Problem(
        503, "broker-unavailable", "Message broker unavailable",
        "The message broker cannot be reached at the moment, and this change needs it; nothing was recorded. "
        "Try again shortly.",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
    )


COMMON_PROBLEMS: ProblemMap = {
    Stale: stale_problem,
    ConnectionFailure: database_unavailable,
    BrokerUnavailable: broker_unavailable,
}


def with_common_problems(domain_errors: ProblemMap | None) -> ProblemMap:
    """The common mapping with a service's own on top (the service's entry wins)."""
    return {**COMMON_PROBLEMS, **(domain_errors or {})}
