"""Bearer tokens: what the verifier accepts from the dev issuer, and every way a token is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway.auth import DevIssuer, InvalidToken, TokenVerifier

AUDIENCE = "qa-platform"


@pytest.fixture
def issuer() -> DevIssuer:
    return DevIssuer("dev-issuer", AUDIENCE)


@pytest.fixture
def verifier(issuer: DevIssuer) -> TokenVerifier:
    return TokenVerifier(audience=AUDIENCE, issuer=None, jwks_url=None, session=None, dev_issuer=issuer)


def _forge(claims: dict[str, object], *, kid: str, key: rsa.RSAPrivateKey | None = None, algorithm: str = "RS256") -> str:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def _claims(issuer: DevIssuer, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": issuer.issuer, "aud": AUDIENCE, "sub": "P-1", "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, **overrides}


async def test_a_token_of_the_dev_issuer_is_accepted_and_its_claims_returned(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    claims = await verifier.verify(issuer.mint("P-1"))
    assert claims["sub"] == "P-1"
    assert claims["aud"] == AUDIENCE


async def test_an_expired_token_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint("P-1", ttl_s=60, now=time.time() - 3600)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


async def test_a_token_for_another_audience_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="another audience"):
        await verifier.verify(issuer.mint("P-1", audience="someone-else"))


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="Signature verification failed"):
        await verifier.verify(_forge(_claims(issuer), kid=issuer.kid))


async def test_a_token_whose_signature_was_tampered_with_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    header, payload, signature = issuer.mint("P-1").split(".")
    other_payload = jwt.utils.base64url_encode(jwt.utils.base64url_decode(payload).replace(b'"P-1"', b'"P-2"')).decode()
    with pytest.raises(InvalidToken):
        await verifier.verify(f"{header}.{other_payload}.{signature}")


async def test_a_token_with_an_unknown_kid_is_refused_when_no_issuer_is_configured(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="key we do not know"):
        await verifier.verify(_forge(_claims(issuer), kid="somebody-elses"))


async def test_a_token_from_another_issuer_signed_with_the_right_key_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    token = _forge(_claims(issuer, iss="https://evil.example"), kid=issuer.kid, key=issuer._key)
    with pytest.raises(InvalidToken, match="issuer we do not trust"):
        await verifier.verify(token)


async def test_a_token_without_an_expiry_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    claims = _claims(issuer)
    del claims["exp"]
    with pytest.raises(InvalidToken, match="exp"):
        await verifier.verify(_forge(claims, kid=issuer.kid, key=issuer._key))


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    """The algorithm-confusion attack: HS256 'signed' with the issuer's public key as the secret."""
    public_pem = issuer.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = b".".join(
        jwt.utils.base64url_encode(json.dumps(part).encode()) for part in ({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}, _claims(issuer))
    )
    signature = jwt.utils.base64url_encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    token = (signing_input + b"." + signature).decode()
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJQLTEifQ."], ids=["empty", "one-part", "garbage", "alg-none"])
async def test_malformed_and_unsigned_tokens_are_refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_an_accepted_token_is_not_verified_again_but_expires_from_the_cache(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    token = issuer.mint("P-1")
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # served from the cache, no RSA again
    verifier._verified[token] = (time.time() - 1, first)  # its cache entry ran out
    assert await verifier.verify(token) == first  # verified afresh
