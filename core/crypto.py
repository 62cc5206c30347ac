"""Secrets at rest (identity-provider client secrets, SAML private keys, TOTP seeds), encrypted with Fernet.

Keys come from ``ENCRYPTION_KEYS``: a comma-separated list of Fernet keys, newest first. The first one
encrypts; every one decrypts, so a key can be rotated without downtime:

1. put a new key in front of the list and restart;
2. run ``flask sso rotate-keys`` (re-encrypts every stored secret with the new key);
3. drop the old key from the list and restart.

Without ``ENCRYPTION_KEYS`` (the embedded run and the tests) a key is derived from ``SECRET_KEY``;
production refuses to start without real keys.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet_from_config", "rotate"]


def fernet_from_config(config) -> MultiFernet:
    """The key ring the app's settings describe."""
    keys = [k.strip() for k in config.get("ENCRYPTION_KEYS", "").split(",") if k.strip()]
    if not keys:
        derived = hashlib.sha256(b"heforshe-secrets-at-rest:" + config["SECRET_KEY"].encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def _ring() -> MultiFernet:
    ring = current_app.extensions.get("secrets_ring")
    if ring is None:
        ring = current_app.extensions["secrets_ring"] = fernet_from_config(current_app.config)
    return ring


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key."""
    return _ring().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever key made ``token``; raises ``InvalidToken`` if none did."""
    return _ring().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret, re-encrypted with the newest key."""
    return _ring().rotate(token.encode()).decode()
