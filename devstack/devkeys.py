"""The dev run's signing keys, kept across ``./dev up`` restarts in ``var/dev-keys`` (gitignored
with ``var/``), so that a front-end developer's token survives a restart: the dev issuer's RSA
key (``DEV_ISSUER_KEY_FILE``: tokens it minted still verify) and ``IDENTITY_SIGNING_KEY`` (the
gateway's signature on the identity it forwards to the services). Local runs only: each file is
readable by its owner alone, and a deployment configures its own issuer and secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER_KEY = "dev-issuer.pem"
IDENTITY_KEY = "identity-signing-key"


@dataclass(frozen=True)
class DevKeys:
    identity_signing_key: str
    issuer_key_file: Path


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to a new file only its owner may read (an existing one is kept)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)


def ensure(directory: Path) -> DevKeys:
    """The keys in ``directory``, made the first time (and kept as they are afterwards)."""
    directory.mkdir(parents=True, exist_ok=True)
    issuer = directory / ISSUER_KEY
    if not issuer.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_private(issuer, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    identity = directory / IDENTITY_KEY
    if not identity.exists():
        _write_private(identity, secrets.token_urlsafe(32).encode())
    return DevKeys(identity.read_text().strip(), issuer)
