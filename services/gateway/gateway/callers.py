"""Who is calling: a verified bearer token, resolved to a person of the directory with their
roles and teams, and signed for the services as ``X-QA-Identity``. Each authenticated request
also spends one token of the person's rate limit (``limits.RateLimiter``)."""

from __future__ import annotations

import time
from dataclasses import KW_ONLY, dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase
from shared.errors import Problem
from shared.identity import Identity, sign_identity
from shared.mongo import Document
from shared.roles import Role

from .auth import InvalidToken, TokenVerifier
from .directory.store import PEOPLE, TEAMS


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, "unauthenticated", "Authentication required", detail, headers={"WWW-Authenticate": 'Bearer realm="qa-platform"'})


@dataclass(eq=False)
class CallerResolver:
    verifier: TokenVerifier
    db: AsyncDatabase[Document]
    _: KW_ONLY
    person_claim: str
    cache_s: float
    signing_key: bytes
    #: Given as the services' max age; held as half of it, to re-sign well before that runs out.
    signed_ttl_s: int
    integration_clients: frozenset[str] = frozenset()
    _people: dict[str, tuple[float, Identity | None]] = field(default_factory=dict, init=False)
    _signed: dict[str, tuple[float, str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.signed_ttl_s = max(1, self.signed_ttl_s // 2)

    def forget(self, person_id: str | None = None) -> None:
        """Drop cached identities (after a directory change in this replica)."""
        if person_id is None:
            self._people.clear()
            self._signed.clear()
        else:
            self._people.pop(person_id, None)
            self._signed.pop(person_id, None)

    async def resolve(self, authorization: str | None) -> Identity:
        if not authorization:
            raise _unauthenticated("Send a bearer token in the Authorization header.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("The Authorization header must be 'Bearer <token>'.")
        try:
            claims = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            raise _unauthenticated(f"The token was refused: {exc}.") from exc
        person_id = claims.get(self.person_claim)
        if not isinstance(person_id, str) or not person_id:
            raise _unauthenticated(f"The token has no {self.person_claim!r} claim naming a person.")
        identity = await self._person(person_id)
        if identity is None:
            raise Problem(403, "not-in-directory", "Not in the directory", "Your account is not an active member of staff in the directory.")
        return identity

    async def _person(self, person_id: str) -> Identity | None:
        if person_id in self.integration_clients:
            return Identity(person_id=person_id, name="case-management system", roles=frozenset({Role.INTEGRATION}))
        now = time.monotonic()
        cached = self._people.get(person_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        doc = await self.db[PEOPLE.collection].find_one({"_id": person_id})
        identity: Identity | None = None
        if doc is not None and doc["data"].get("active", True):
            teams = {doc["data"]["team_id"]} if doc["data"].get("team_id") else set()
            managed = await self.db[TEAMS.collection].find({"data.manager_id": person_id}, {"_id": 1}).to_list()
            teams |= {t["_id"] for t in managed}
            identity = Identity(person_id=person_id, name=doc["data"]["name"], roles=frozenset(doc["data"]["roles"]), teams=frozenset(teams))
        self._people[person_id] = (now + self.cache_s, identity)
        return identity

    def signed(self, identity: Identity) -> str:
        now = time.monotonic()
        cached = self._signed.get(identity.person_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = sign_identity(identity, self.signing_key)
        self._signed[identity.person_id] = (now + min(self.signed_ttl_s, self.cache_s), value)
        return value


async def authenticate(request: Request) -> Identity:
    extra = request.app.state.runtime.extra
    resolver: CallerResolver = extra["callers"]
    identity = await resolver.resolve(request.headers.get("authorization"))
    extra["limiter"].check(identity.person_id)
    return identity


Caller = Annotated[Identity, Depends(authenticate)]
