"""The audit service's one problem table: every error a user can cause, as problem+json. Built on
the shared mapping (``shared.problems``); the contexts' own errors are added by their api modules.

A ``Stale`` of any store answers as the shared mapping says (412 at another version, 428 when an
existing record is changed without naming its version), except that a version named of a record
that is gone answers 404, as the audit service always has.
"""

from __future__ import annotations

from shared.errors import Problem, field_errors, forbidden, not_found
from shared.problems import ProblemMap, stale_problem
from shared.versioned import Stale

from .common.errors import Gaps, InvalidEntries, NotAllowed, NotVisible, WrongStage
from .cycles import api as cycles_api
from .cycles.usecases import CycleRefused
from .hampshire import api as hampshire_api
from .hillingdon import api as hillingdon_api
from .multi_agency import api as multi_agency_api
from .practice.domain.errors import RecordExists, RecordNotFound


def _stale(exc: Exception) -> Problem:
    assert isinstance(exc, Stale)
    if exc.current is None and exc.expected is not None:
        return not_found(exc.what[:1].upper() + exc.what[1:], exc.ident or "")
    return stale_problem(exc)


PROBLEMS: ProblemMap = {
    NotVisible: lambda e: not_found("Audit", str(e)),
    NotAllowed: lambda e: forbidden(str(e)),
    WrongStage: lambda e: Problem(409, "wrong-stage", "Not at this stage", str(e)),
    Gaps: lambda e: Problem(422, "audit-gaps", "Gaps to fill", str(e), errors=field_errors(e.errors, default_code="missing")),
    InvalidEntries: lambda e: Problem(422, "invalid-entries", "Invalid entries", str(e), errors=field_errors(e.errors, default_code="invalid")),
    Stale: _stale,
    CycleRefused: lambda e: Problem(409, "cycle-refused", "The month cannot be drawn", str(e)),
    **cycles_api.PROBLEMS,
    **multi_agency_api.PROBLEMS,
    **hampshire_api.ERRORS,
    **hillingdon_api.DOMAIN_ERRORS,
    RecordNotFound: lambda e: not_found(e.what, e.record_id),
    RecordExists: lambda e: Problem(409, "exists", "Already exists", e.detail),
}
