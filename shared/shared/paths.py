"""Links a caller can follow: a service's paths (``/v1/...``) as the public path the request came
in under. ``shared.http`` re-exports ``public_path``; it lives here so that ``shared.errors``
(a problem's ``instance``) can use it without an import circle."""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection

#: The header the gateway sends with every request it forwards: the public path that stands for
#: the service's ``/v1`` (``/api/v1/signoff`` for the sign-off service).
FORWARDED_PREFIX_HEADER = "X-Forwarded-Prefix"
_FORWARDED_PREFIX = re.compile(r"/api/v1/[a-z][a-z0-9-]*", re.ASCII)
_SERVICE_ROOT = "/v1"


def forwarded_prefix(request: HTTPConnection | None) -> str | None:
    """The public prefix the gateway forwarded this request under, or None (a direct call, or a
    header value that is not a gateway prefix: it is ignored rather than echoed into links)."""
    if request is None:
        return None
    value = request.headers.get(FORWARDED_PREFIX_HEADER)
    if value is None or _FORWARDED_PREFIX.fullmatch(value) is None:
        return None
    return value


def public_path(request: HTTPConnection | None, path: str) -> str:
    """``path`` (a service path, ``/v1/...``) as the caller can follow it.

    Behind the gateway (``X-Forwarded-Prefix: /api/v1/signoff``) ``/v1/exemplars/x`` becomes
    ``/api/v1/signoff/exemplars/x``; called directly (tests, the service's own port) or for a path
    outside ``/v1`` (the gateway's own routes) it is unchanged. Use it for every ``Location`` and
    ``Content-Location`` header, every link in a body (``href``, ``links``) and a problem's ``instance``.
    """
    prefix = forwarded_prefix(request)
    if prefix is None or not (path == _SERVICE_ROOT or path.startswith((_SERVICE_ROOT + "/", _SERVICE_ROOT + "?"))):
        return path
    return prefix + path[len(_SERVICE_ROOT):]
