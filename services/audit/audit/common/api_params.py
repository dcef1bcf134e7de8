"""What audit's routes take the same way in a path, a query or a body: a month, and the id of a
record the service made."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: A month as a client writes it: YYYY-MM, 1900-01 to 2999-12.
MONTH_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"

#: The id of a record the audit service made (an audit, a prepared file, a baseline, a concern...).
RecordIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
