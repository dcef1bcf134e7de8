"""Schemathesis hooks for tests/e2e/test_schemathesis.py (loaded with SCHEMATHESIS_HOOKS): the
one check of ours, that every error answer is problem+json, whatever the input."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def errors_are_problem_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is ``application/problem+json`` with type, title and status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    media = (content_type[0] if isinstance(content_type, list) else content_type).split(";")[0].strip()
    if media != "application/problem+json":
        raise AssertionError(f"{response.status_code} answered as {media or 'no content type'}, not application/problem+json")
    body = response.json()
    if not (isinstance(body, dict) and {"type", "title", "status"} <= set(body) and body["status"] == response.status_code):
        raise AssertionError(f"{response.status_code} problem body lacks type/title/status: {str(body)[:200]}")
    return True
