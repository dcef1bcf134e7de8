"""RFC 9457 problem+json: every error a caller can cause, in one shape, mapped in one place.

Services raise ``Problem`` (or a domain exception they map to one with ``problem_for``); the
handlers installed by ``install_problem_handlers`` turn those, request validation errors,
unknown routes and unexpected failures into ``application/problem+json`` responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .observability import correlation_id
from .paths import public_path

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://qa-platform.example/problems/"


def _optional_fields_without_default(schema: dict[str, Any]) -> None:
    """An optional field of an error body is omitted, never sent as null: say so in the schema
    (no ``default: null``, no null type), so generated clients do not expect it to be there."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
        variants = prop.get("anyOf")
        if variants is not None:
            kept = [v for v in variants if v != {"type": "null"}]
            if len(kept) == 1:
                del prop["anyOf"]
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept


class FieldError(BaseModel):
    """One thing wrong with a request, the same for request validation and for a domain's rules."""

    #: A rule may add what it refers to (e.g. ``team_id``).
    model_config = ConfigDict(extra="allow")

    field: str = Field(
        description="Dotted path of what is wrong. Request validation starts with where it was "
        "(``body.sections.0.answer``, ``query.month``, ``path.exemplar_id``, ``header.if-match``); "
        "a domain rule names the entry of the record or request it refers to (``answers.child_seen``).",
        examples=["body.answers.child_seen"],
    )
    message: str = Field(description="What is wrong, for a person to read", examples=["Field required"])
    code: str = Field(
        description="What is wrong, for a program: pydantic's error type for request validation "
        "(``missing``, ``string_pattern_mismatch``...), the domain's own code otherwise",
        examples=["missing"],
    )


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457). Optional members are omitted when empty; a
    problem type may add its own members (e.g. ``current_version`` of ``stale-version``)."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_optional_fields_without_default)

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[FieldError] | None = None


def field_errors(errors: Iterable[FieldError | Mapping[str, Any]], *, default_code: str) -> list[dict[str, Any]]:
    """``errors`` in the one ``FieldError`` shape (``field``, ``message``, ``code``; a rule's extra
    members kept). ``default_code`` is the code of an entry that names none (the problem's slug)."""
    out = []
    for error in errors:
        item = error.model_dump() if isinstance(error, FieldError) else dict(error)
        if "field" not in item and "location" in item:  # pydantic's shape: loc, msg, type
            item["field"] = ".".join(str(part) for part in item.pop("location"))
        item.setdefault("field", "")
        item.setdefault("message", "")
        item.setdefault("code", item.pop("type", None) or default_code)
        out.append(FieldError.model_validate(item).model_dump())
    return out


class Problem(Exception):
    """An error to answer with problem+json. ``slug`` names the problem type; one slug has one
    ``title`` everywhere (tests/test_problem_titles.py checks it): the specifics go in ``detail``."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        errors: Iterable[FieldError | Mapping[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = field_errors(errors, default_code=slug) if errors else None
        self.headers = headers or {}
        self.extensions = extensions


def bad_cursor() -> Problem:
    """400 ``bad-cursor``: a list's cursor that no page of it handed out."""
    return Problem(400, "bad-cursor", "Malformed cursor", "Pass back the 'next' value of the previous page unchanged.")


def forbidden(detail: str) -> Problem:
    """403 ``forbidden``: the caller may not do this; ``detail`` says who may."""
    return Problem(403, "forbidden", "Not allowed", detail)


def not_found(what: str, ident: str) -> Problem:
    """404 ``not-found``; ``what`` (e.g. "Audit") is named in the detail, the title is the slug's."""
    return Problem(404, "not-found", "Not found", f"There is no {what.lower()} {ident!r}.")


def problem_response(request: Request | None, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if request is not None:
        body["instance"] = public_path(request, request.url.path)
    cid = correlation_id.get()
    if cid:
        body["correlation_id"] = cid
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extensions)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers)


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    428: ("precondition-required", "Precondition required"),
    429: ("too-many-requests", "Too many requests"),
}


def install_problem_handlers(
    app: FastAPI, domain_errors: dict[type[Exception], Callable[[Exception], Problem]] | None = None
) -> None:
    """Map every error to problem+json. ``domain_errors`` maps a service's domain exceptions."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(field=".".join(str(part) for part in e.get("loc", ())), message=e.get("msg", ""), code=e.get("type", "") or "invalid")
            for e in exc.errors()
        ]
        return problem_response(
            request,
            Problem(422, "validation-error", "Invalid request", "The request does not match what this endpoint takes.", errors=errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail.lower() != title.lower() else None
        return problem_response(request, Problem(exc.status_code, slug, title, detail, headers=dict(exc.headers or {})))

    for exc_type, to_problem in (domain_errors or {}).items():

        def make(convert: Callable[[Exception], Problem]) -> Callable[[Request, Exception], Any]:
            async def handler(request: Request, exc: Exception) -> JSONResponse:
                return problem_response(request, convert(exc))

            return handler

        app.add_exception_handler(exc_type, make(to_problem))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(
            request,
            Problem(500, "internal-error", "Internal error", "Something went wrong on our side; nothing was changed by this request."),
        )
