"""HTTP conventions every service keeps: ETag / If-Match from an aggregate's version number,
cursor pagination on every list, and links written as the path the caller used (``public_path``)."""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Path, Query
from pydantic import BaseModel, Field

from .errors import Problem, bad_cursor
from .ids import ID_MAX_LENGTH, ID_PATTERN
from .paths import FORWARDED_PREFIX_HEADER as FORWARDED_PREFIX_HEADER  # links as the caller can follow them (shared.paths)
from .paths import forwarded_prefix as forwarded_prefix
from .paths import public_path as public_path

T = TypeVar("T")

# A quoted version as we send it ("3", or weak W/"3"); a bare 3 is accepted from lax clients.
_ETAG = re.compile(r'(?:W/)?(?:"([0-9]{1,18})"|([0-9]{1,18}))', re.ASCII)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an ``If-Match`` header names, or None when absent. ``*`` means any version."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        raise Problem(
            400, "bad-if-match", "Malformed If-Match", f"If-Match must be an ETag this API gave, such as '\"3\"'; got {value!r}."
        )
    return int(match.group(1) or match.group(2))


def optional_if_match(if_match: Annotated[str | None, Header()] = None) -> int | None:
    return parse_if_match(if_match)


def required_if_match(if_match: Annotated[str | None, Header()] = None) -> int:
    version = parse_if_match(if_match)
    if version is None:
        raise if_match_required()
    return version


def if_match_required(what: str | None = None, ident: str | None = None, current: int | None = None, *, counter: str = "version") -> Problem:
    """428: a change to an existing record that names no version. Given the record (``what``,
    ``ident``) and the ``current`` version it is at, the answer names them."""
    detail = "Send the ETag of the version you read as If-Match, so a change made since is never overwritten."
    if what is not None and current is not None:
        name = what if ident is None else f"{what} {ident!r}"
        detail = (
            f"The {name} exists, at {counter} {current}: send the ETag of the {counter} you read as If-Match, "
            "so a change made since is never overwritten."
        )
    return Problem(428, "if-match-required", "If-Match required", detail)


def stale(current_version: int, expected: int, what: str, *, counter: str = "version") -> Problem:
    """412: the ``what`` is at ``current_version``, not the ``expected`` one the caller read.
    ``counter`` is what the service calls its version numbers (sign-off says "revision")."""
    return Problem(
        412,
        "stale-version",
        "Changed since you read it",
        f"The {what} is now at {counter} {current_version}, not {expected}: read it again and redo your change.",
        current_version=current_version,
    )


def stale_absent(what: str, ident: str | None, expected: int, *, counter: str = "version") -> Problem:
    """412: the caller named a version of a ``what`` that does not exist."""
    name = what if ident is None else f"{what} {ident!r}"
    return Problem(412, "stale-version", "Changed since you read it", f"There is no {name} at {counter} {expected}.")


OptionalIfMatch = Annotated[int | None, Depends(optional_if_match)]
RequiredIfMatch = Annotated[int, Depends(required_if_match)]


# --- Ids (``shared.ids``) in paths and bodies ---------------------------------------------


def id_path(**extra: Any) -> Any:
    """A path parameter that is an id; ``extra`` (``description``, ``examples``...) as ``Path`` takes it."""
    return Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, **extra)


IdPath = Annotated[str, id_path()]


class Page(BaseModel, Generic[T]):
    """One page of a list. Pass ``next`` back as ``cursor`` for the following page."""

    items: list[T]
    next: str | None = Field(default=None, description="Cursor of the next page; absent on the last page.")


class PageParams(BaseModel):
    limit: int
    cursor: dict[str, Any] | None


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, default=str).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError) as exc:
        raise bad_cursor() from exc
    if not isinstance(value, dict):
        raise bad_cursor()
    return value


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    cursor: Annotated[str | None, Query(max_length=2000, description="The 'next' of the previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=_decode_cursor(cursor) if cursor else None)


Pagination = Annotated[PageParams, Depends(page_params)]
