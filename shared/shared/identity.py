"""The caller's identity as asserted by the gateway.

The gateway verifies the person's token, then forwards who they are (person, roles, teams) in
the ``X-QA-Identity`` header, signed with HMAC-SHA256 under ``IDENTITY_SIGNING_KEY`` and valid
for ``IDENTITY_MAX_AGE_S`` seconds. Services trust nothing else; the gateway strips any such
header arriving from outside. Format: ``base64url(json) "." base64url(hmac)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, Field, ValidationError

from .errors import Problem

IDENTITY_HEADER = "X-QA-Identity"


class Identity(BaseModel):
    """Who is asking: a person of the directory with their roles and teams."""

    person_id: str = Field(min_length=1)
    name: str | None = None
    roles: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def in_team(self, team_id: str) -> bool:
        return team_id in self.teams


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_identity(identity: Identity, key: bytes, *, now: float | None = None) -> str:
    claims = identity.model_dump(mode="json")
    claims["roles"] = sorted(identity.roles)
    claims["teams"] = sorted(identity.teams)
    claims["iat"] = int(now if now is not None else time.time())
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


class InvalidIdentity(Exception):
    pass


def verify_identity(value: str, key: bytes, *, max_age_s: int, now: float | None = None) -> Identity:
    try:
        payload, signature = value.split(".")
        expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise InvalidIdentity("bad signature")
        claims = json.loads(_unb64(payload))
        if not isinstance(claims, dict):
            raise InvalidIdentity("identity claims are not an object")
        issued = int(claims.pop("iat"))
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidIdentity(f"malformed identity: {exc}") from exc
    age = (now if now is not None else time.time()) - issued
    if age > max_age_s or age < -30:
        raise InvalidIdentity("identity expired")
    try:
        return Identity.model_validate(claims)
    except ValidationError as exc:
        raise InvalidIdentity("malformed identity claims") from exc


def current_person(request: Request) -> Identity:
    """FastAPI dependency: the verified person behind this request, or a 401 problem."""
    settings = request.app.state.settings
    value = request.headers.get(IDENTITY_HEADER)
    if not value:
        raise Problem(401, "unauthenticated", "Authentication required", "This service is reached through the gateway with a signed identity.")
    try:
        return verify_identity(
            value, settings.identity_signing_key.get_secret_value().encode(), max_age_s=settings.identity_max_age_s
        )
    except InvalidIdentity as exc:
        raise Problem(401, "unauthenticated", "Authentication required", f"The identity could not be verified ({exc}).") from exc


CurrentPerson = Annotated[Identity, Depends(current_person)]
