"""The platform's ids: what a case, a person, a team, a form, a task... may be called.

An id is 1 to 64 letters, digits and ``. _ : -``, starting with a letter or a digit (the
case-management system's own ids, and the ones the services make). Plain Python, for domain code
and for file checks alike. A model's field that holds an id is ``IdField`` (pydantic validation, which
domain models may use too); the API's path parameters are ``shared.http.IdPath``, from the same
pattern.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
ID_MAX_LENGTH = 64
ID_RE = re.compile(ID_PATTERN)


def is_id(value: object) -> bool:
    """True when ``value`` is a string that is a well-formed id (as the API's validation says)."""
    return isinstance(value, str) and 1 <= len(value) <= ID_MAX_LENGTH and ID_RE.fullmatch(value) is not None


def id_field(**extra: Any) -> Any:
    """A model field that is an id; ``extra`` (``description``, ``examples``...) as ``Field`` takes it."""
    return Field(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, **extra)


IdField = Annotated[str, id_field()]
