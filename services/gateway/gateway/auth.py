"""Bearer tokens: verifying an OIDC issuer's JWTs, and the dev issuer for local runs and tests.

Production verifies against the issuer's JWKS (fetched without blocking, cached for
``JWKS_CACHE_S`` and fetched again at once when a token names a key we do not know, which is
how rotation shows up). The dev issuer exists only when ``DEV_ISSUER_ENABLED`` is set: it holds
a fresh RSA key per process and mints tokens for people in the directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class InvalidToken(Exception):
    pass


class DevIssuer:
    """Mints RS256 tokens for demo people. Never enabled unless explicitly configured."""

    def __init__(self, issuer: str, audience: str, private_key_pem: bytes | None = None) -> None:
        self.issuer = issuer
        self.audience = audience
        if private_key_pem is None:
            self.kid = f"dev-{uuid.uuid4().hex[:8]}"
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:  # a key kept across restarts (DEV_ISSUER_KEY_FILE): its tokens stay valid, under the same kid
            key = serialization.load_pem_private_key(private_key_pem, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("the dev issuer's key must be an RSA private key (PEM)")
            self._key = key
            public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            self.kid = f"dev-{hashlib.sha256(public).hexdigest()[:8]}"

    @property
    def public_key(self) -> Any:
        return self._key.public_key()

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def mint(self, person_id: str, *, ttl_s: int = 3600, audience: str | None = None, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": person_id,
            "iat": issued,
            "exp": issued + ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


@dataclass(kw_only=True, eq=False)
class TokenVerifier:
    """Verifies JWTs from the configured issuer (and the dev issuer, when enabled)."""

    audience: str
    issuer: str | None
    jwks_url: str | None
    session: aiohttp.ClientSession | None
    cache_s: int = 300
    dev_issuer: DevIssuer | None = None
    min_refetch_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, Any] = field(default_factory=dict, init=False)
    _fetched_at: float = field(default=0.0, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    #: Verified tokens, so a busy front end does not pay for RSA on every request.
    _verified: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict, init=False)

    async def verify(self, token: str) -> dict[str, Any]:
        cached = self._verified.get(token)
        now = time.time()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        kid = header.get("kid")
        key, issuer = await self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "iss", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("token from an issuer we do not trust") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"token rejected: {exc}") from exc
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (min(float(claims["exp"]), now + 60), claims)
        return claims

    async def _key_for(self, kid: str | None) -> tuple[Any, str | None]:
        if self.dev_issuer is not None and kid == self.dev_issuer.kid:
            return self.dev_issuer.public_key, self.dev_issuer.issuer
        if not self.jwks_url:
            raise InvalidToken("token signed by a key we do not know")
        stale = not self._keys or self.clock() - self._fetched_at > self.cache_s
        if stale or kid not in self._keys:
            await self._refresh(force=not stale)
        if kid in self._keys:
            return self._keys[kid], self.issuer
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values())), self.issuer
        raise InvalidToken("token signed by a key we do not know")

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            since = self.clock() - self._fetched_at
            if not force and self._keys and since <= self.cache_s:
                return  # another request fetched them while this one waited
            # An unknown kid may be rotation; but at most one fetch every ``min_refetch_s``, whatever
            # tokens arrive, so a flood of made-up kids cannot turn us against the issuer.
            if force and since < self.min_refetch_s:
                return
            assert self.session is not None and self.jwks_url is not None
            try:
                async with self.session.get(self.jwks_url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    resp.raise_for_status()
                    document = await resp.json(content_type=None)
                keys = {jwk.key_id: jwk.key for jwk in jwt.PyJWKSet.from_dict(document).keys if jwk.key_id}
            except Exception as exc:
                if self._keys:
                    return  # keep the keys we have; the issuer is briefly unreachable
                raise InvalidToken(f"the issuer's keys could not be fetched: {exc}") from exc
            self._keys = keys
            self._fetched_at = self.clock()
