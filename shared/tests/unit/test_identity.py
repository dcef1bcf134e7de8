"""The gateway-signed identity header: HMAC-SHA256 over base64url JSON, valid for a short time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from shared.identity import Identity, InvalidIdentity, sign_identity, verify_identity

KEY = b"test-signing-key"
ISSUED = 1_780_000_000.0
MAX_AGE = 120

PERSON = Identity(
    person_id="p-1",
    name="Ada Lovelace",
    roles=frozenset({"reviewer", "lead"}),
    teams=frozenset({"team-a", "team-b"}),
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_claims(claims: dict, key: bytes = KEY) -> str:
    """A header signed the way the gateway does it, for claims the test chooses."""
    payload = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def test_signed_identity_verifies_back_to_the_same_person():
    header = sign_identity(PERSON, KEY, now=ISSUED)

    identity = verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED + 1)

    assert identity == PERSON
    assert identity.roles == frozenset({"reviewer", "lead"})
    assert isinstance(identity.roles, frozenset)
    assert isinstance(identity.teams, frozenset)
    assert identity.name == "Ada Lovelace"


def test_identity_without_roles_or_teams_round_trips():
    bare = Identity(person_id="p-2")

    assert verify_identity(sign_identity(bare, KEY, now=ISSUED), KEY, max_age_s=MAX_AGE, now=ISSUED) == bare


def test_signing_is_deterministic_whatever_the_set_order():
    reordered = Identity(
        person_id="p-1",
        name="Ada Lovelace",
        roles=frozenset(["lead", "reviewer"]),
        teams=frozenset(["team-b", "team-a"]),
    )

    assert sign_identity(reordered, KEY, now=ISSUED) == sign_identity(PERSON, KEY, now=ISSUED)


def test_header_is_payload_dot_signature_in_unpadded_base64url():
    header = sign_identity(PERSON, KEY, now=ISSUED)

    payload, signature = header.split(".")
    assert "=" not in header
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iat"] == int(ISSUED)
    assert claims["roles"] == ["lead", "reviewer"]
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 32


def test_identity_signed_with_another_key_is_rejected():
    header = sign_identity(PERSON, b"someone-elses-key", now=ISSUED)

    with pytest.raises(InvalidIdentity, match="bad signature"):
        verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_tampered_payload_is_rejected():
    header = sign_identity(PERSON, KEY, now=ISSUED)
    _, signature = header.split(".")
    escalated = sign_claims(
        {"person_id": "p-1", "roles": ["admin"], "teams": [], "iat": int(ISSUED)}
    ).split(".")[0]

    with pytest.raises(InvalidIdentity, match="bad signature"):
        verify_identity(f"{escalated}.{signature}", KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_tampered_signature_is_rejected():
    payload, signature = sign_identity(PERSON, KEY, now=ISSUED).split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]

    with pytest.raises(InvalidIdentity):
        verify_identity(f"{payload}.{flipped}", KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_identity_is_valid_up_to_its_maximum_age():
    header = sign_identity(PERSON, KEY, now=ISSUED)

    assert verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED + MAX_AGE) == PERSON


def test_identity_older_than_its_maximum_age_is_rejected():
    header = sign_identity(PERSON, KEY, now=ISSUED)

    with pytest.raises(InvalidIdentity, match="expired"):
        verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED + MAX_AGE + 1)


def test_identity_issued_slightly_in_the_future_is_tolerated_for_clock_skew():
    header = sign_identity(PERSON, KEY, now=ISSUED + 30)

    assert verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED) == PERSON


def test_identity_issued_more_than_30_seconds_in_the_future_is_rejected():
    header = sign_identity(PERSON, KEY, now=ISSUED + 31)

    with pytest.raises(InvalidIdentity, match="expired"):
        verify_identity(header, KEY, max_age_s=MAX_AGE, now=ISSUED)


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "no-dot-at-all",
        "too.many.dots",
        "!!!.@@@",
        "A.A",
        ".",
    ],
)
def test_malformed_headers_are_rejected(malformed):
    with pytest.raises(InvalidIdentity):
        verify_identity(malformed, KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_correctly_signed_payload_that_is_not_json_is_rejected():
    payload = b64(b"not json")
    signature = b64(hmac.new(KEY, payload.encode(), hashlib.sha256).digest())

    with pytest.raises(InvalidIdentity, match="malformed"):
        verify_identity(f"{payload}.{signature}", KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_correctly_signed_claims_without_issue_time_are_rejected():
    with pytest.raises(InvalidIdentity, match="malformed"):
        verify_identity(sign_claims({"person_id": "p-1"}), KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_correctly_signed_claims_without_a_person_are_rejected():
    with pytest.raises(InvalidIdentity, match="claims"):
        verify_identity(sign_claims({"person_id": "", "iat": int(ISSUED)}), KEY, max_age_s=MAX_AGE, now=ISSUED)


def test_has_role_is_true_when_any_named_role_is_held():
    assert PERSON.has_role("lead")
    assert PERSON.has_role("admin", "reviewer")
    assert not PERSON.has_role("admin")
    assert not PERSON.has_role()


def test_in_team_checks_team_membership():
    assert PERSON.in_team("team-a")
    assert not PERSON.in_team("team-c")
    assert not Identity(person_id="p-2").in_team("team-a")


@pytest.mark.parametrize("claims", [b'"x"', b"5", b"[1, 2]", b'{"person_id": "p", "iat": 1e400}'])
def test_a_signed_but_malformed_identity_is_refused_as_invalid(claims: bytes) -> None:
    import base64
    import hashlib
    import hmac

    from shared.identity import InvalidIdentity, verify_identity

    key = b"k"
    payload = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(key, payload.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(InvalidIdentity):
        verify_identity(f"{payload}.{signature}", key, max_age_s=60)
