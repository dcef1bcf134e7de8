"""``./dev up`` for a front-end developer: signing keys kept across restarts, the banner naming
each demo person's roles, and CORS for any local origin."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import jwt
from gateway.auth import DevIssuer
from shared.roles import Role

from devstack import demo, devkeys
from devstack.__main__ import DEV_CORS_ORIGIN_REGEX


def test_the_dev_keys_are_made_once_and_kept_for_the_next_run(tmp_path: Path) -> None:
    first = devkeys.ensure(tmp_path / "dev-keys")
    pem = first.issuer_key_file.read_bytes()
    again = devkeys.ensure(tmp_path / "dev-keys")
    assert again == first and again.issuer_key_file.read_bytes() == pem and len(first.identity_signing_key) >= 32
    for path in (first.issuer_key_file, tmp_path / "dev-keys" / devkeys.IDENTITY_KEY):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A token minted before a restart verifies after it: same key, same kid.
    before = DevIssuer("qa-platform-dev-issuer", "qa-platform", pem)
    after = DevIssuer("qa-platform-dev-issuer", "qa-platform", again.issuer_key_file.read_bytes())
    token = before.mint("P-SW1", ttl_s=600)
    assert jwt.get_unverified_header(token)["kid"] == after.jwks()["keys"][0]["kid"]
    claims = jwt.decode(token, after.public_key, algorithms=["RS256"], audience="qa-platform", issuer="qa-platform-dev-issuer")
    assert claims["sub"] == "P-SW1"
    # Without a kept key, each process has its own (the old behaviour, still the default).
    assert DevIssuer("i", "a").jwks()["keys"][0]["kid"] != DevIssuer("i", "a").jwks()["keys"][0]["kid"]


def test_the_banner_names_every_demo_person_with_their_roles_and_how_to_get_a_token() -> None:
    text = demo.banner("http://127.0.0.1:8000", data_dir="/srv/var")
    for person_id, person in demo.PEOPLE.items():
        line = next((line for line in text.splitlines() if line.split() and line.split()[0] == person_id), None)
        assert line is not None, person_id
        assert ", ".join(person["roles"]) in line and person["name"] in line
    assert "curl -s -X POST http://127.0.0.1:8000/auth/dev/token" in text and '{"person_id": "P-SW1"}' in text
    assert "var/dev-keys" in text and "localhost" in text


def test_the_demo_authority_has_someone_in_every_role_a_person_can_hold() -> None:
    held = {role for person in demo.PEOPLE.values() for role in person["roles"]}
    # ``integration`` is the case-management system's account, not a person's role.
    assert held == {role.value for role in Role} - {Role.INTEGRATION.value}


def test_cors_in_a_dev_run_allows_local_origins_only() -> None:
    allowed = ("http://localhost:5173", "http://127.0.0.1:3000", "http://localhost")
    refused = ("https://localhost:5173", "http://localhost.evil.example", "http://evil.example", "http://127.0.0.1:3000.evil.example", "http://localhost:5173/x")
    assert all(re.fullmatch(DEV_CORS_ORIGIN_REGEX, origin) for origin in allowed)
    assert not any(re.fullmatch(DEV_CORS_ORIGIN_REGEX, origin) for origin in refused)
