"""Tokens of an OIDC issuer, verified against its JWKS fetched from a URL: caching and key rotation."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway.auth import InvalidToken, TokenVerifier
from jwt.algorithms import RSAAlgorithm

from ..conftest import INTEGRATION, serve_gateway, serve_stand_in

ISSUER = "https://idp.council.example"
AUDIENCE = "qa-platform"


class SigningKey:
    def __init__(self) -> None:
        self.kid = f"k-{uuid.uuid4().hex[:6]}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        return {**RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def mint(self, sub: str = "P-1", *, audience: str = AUDIENCE, issued: float | None = None, ttl: int = 600, kid: str | None = None) -> str:
        now = int(issued if issued is not None else time.time())
        claims = {"iss": ISSUER, "aud": audience, "sub": sub, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass
class Issuer:
    """An OIDC issuer's JWKS endpoint, whose keys the test rotates."""

    url: str = ""
    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0
    down: bool = False

    async def jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response({"keys": [k.jwk() for k in self.keys]})


@pytest.fixture
async def idp() -> AsyncIterator[Issuer]:
    issuer = Issuer(keys=[SigningKey()])
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", issuer.jwks)
    async with serve_stand_in(app) as url:
        issuer.url = f"{url}/.well-known/jwks.json"
        yield issuer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _verifier(idp: Issuer, session: aiohttp.ClientSession, clock: Clock) -> TokenVerifier:
    return TokenVerifier(audience=AUDIENCE, issuer=ISSUER, jwks_url=idp.url, session=session, cache_s=300, min_refetch_s=10, clock=clock)


async def test_keys_are_fetched_once_and_a_new_kid_after_rotation_is_fetched(idp: Issuer, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    verifier = _verifier(idp, session, clock)
    old = idp.keys[0]
    assert (await verifier.verify(old.mint("P-1")))["sub"] == "P-1"
    assert (await verifier.verify(old.mint("P-2")))["sub"] == "P-2"
    assert idp.fetches == 1

    new = SigningKey()
    idp.keys = [new, old]  # the issuer rotates: a new key signs from now on
    clock.now += 11
    assert (await verifier.verify(new.mint("P-3")))["sub"] == "P-3"
    assert idp.fetches == 2
    assert (await verifier.verify(old.mint("P-4")))["sub"] == "P-4"  # the old key still counts while published
    assert idp.fetches == 2


async def test_made_up_kids_are_refused_without_hammering_the_issuer(idp: Issuer, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    verifier = _verifier(idp, session, clock)
    await verifier.verify(idp.keys[0].mint())
    stranger = SigningKey()
    for _ in range(20):
        with pytest.raises(InvalidToken, match="key we do not know"):
            await verifier.verify(stranger.mint())
    assert idp.fetches == 1  # within min_refetch_s of the last fetch: no new fetch
    clock.now += 11
    with pytest.raises(InvalidToken, match="key we do not know"):
        await verifier.verify(stranger.mint())
    assert idp.fetches == 2


async def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused(idp: Issuer, session: aiohttp.ClientSession) -> None:
    verifier = _verifier(idp, session, Clock())
    impostor = SigningKey()
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await verifier.verify(impostor.mint(kid=idp.keys[0].kid))


async def test_keys_are_fetched_again_after_the_cache_runs_out_and_kept_while_the_issuer_is_down(idp: Issuer, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    verifier = _verifier(idp, session, clock)
    key = idp.keys[0]
    await verifier.verify(key.mint("P-1"))
    clock.now += 301
    idp.down = True
    assert (await verifier.verify(key.mint("P-2")))["sub"] == "P-2"  # fetched again (and failed): old keys kept
    assert idp.fetches == 2


async def test_when_the_issuers_keys_cannot_be_fetched_at_all_tokens_are_refused(idp: Issuer, session: aiohttp.ClientSession) -> None:
    idp.down = True
    verifier = _verifier(idp, session, Clock())
    with pytest.raises(InvalidToken, match="could not be fetched"):
        await verifier.verify(idp.keys[0].mint())


async def test_the_gateway_accepts_the_issuers_tokens_and_refuses_each_kind_of_bad_one(service_env, idp: Issuer) -> None:
    async with serve_gateway(dev_issuer_enabled=False, jwks_url=idp.url, jwt_issuer=ISSUER) as gw:
        key = idp.keys[0]
        writer = {"Authorization": f"Bearer {key.mint(INTEGRATION)}"}
        body = {"name": "Ann Example", "email": "ann@council.example", "roles": ["social_worker"], "team_id": "T-1"}
        assert (await gw.http.put("/api/v1/directory/people/P-1", json=body, headers=writer)).status_code == 201
        assert (await gw.http.post("/auth/dev/token", json={"person_id": "P-1"})).status_code == 404  # no dev issuer here

        me = await gw.http.get("/api/v1/me", headers={"Authorization": f"Bearer {key.mint('P-1')}"})
        assert me.status_code == 200 and me.json()["person_id"] == "P-1"
        bad = {
            "expired": key.mint("P-1", issued=time.time() - 7200),
            "wrong audience": key.mint("P-1", audience="another-app"),
            "bad signature": SigningKey().mint("P-1", kid=key.kid),
            "unknown kid": SigningKey().mint("P-1"),
        }
        for what, token in bad.items():
            resp = await gw.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 401, what
            assert resp.headers["content-type"] == "application/problem+json", what
            assert resp.headers["www-authenticate"].startswith("Bearer"), what
