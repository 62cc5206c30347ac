"""The key that signs snapshots: an Ed25519 private key in a PEM file named by ``SNAPSHOT_SIGNING_KEY``.

A key is known by its id, the hex SHA-256 of its raw 32-byte public key; each snapshot names the id of the key
that signed it, and every public key that ever signed one stays in ``snapshot_keys``. Outside production a missing
key file is made (mode 0600) the first time a key is needed; production checks the key at start
(``check_signing_key``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select

from core.database import insert
from core.extensions import db
from core.snapshots.models import SnapshotKey

_EXTENSION = "core.snapshots.key"  # the app's loaded private key


def key_id(public_key: Ed25519PublicKey) -> str:
    """A public key's id: the hex SHA-256 of its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    """A public key as PEM (SubjectPublicKeyInfo), as ``/snapshots/key`` gives it."""
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _make_key_file(path: Path) -> None:
    """A new private key at ``path``, unless another process makes one there first (then theirs is kept). Written
    whole to a file of its own, then linked into place, so that no process reads half a key."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def load_signing_key(path: str, create: bool = False) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path`` (made first when ``create`` and it is missing); a
    ``RuntimeError`` that says what is wrong otherwise."""
    if not path:
        raise RuntimeError("SNAPSHOT_SIGNING_KEY must name the PEM file of the Ed25519 key that signs snapshots")
    file = Path(path)
    if create and not file.exists():
        _make_key_file(file)
    try:
        key = serialization.load_pem_private_key(file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise RuntimeError(f"SNAPSHOT_SIGNING_KEY: cannot read an unencrypted PEM private key from {path}: "
                           f"{error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"SNAPSHOT_SIGNING_KEY: {path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def check_signing_key(config) -> None:
    """Refuse to start (``RuntimeError``) without a readable Ed25519 signing key: production's check."""
    load_signing_key(config["SNAPSHOT_SIGNING_KEY"])


def signing_key() -> Ed25519PrivateKey:
    """The current app's signing key, read once (made first outside production)."""
    key = current_app.extensions.get(_EXTENSION)
    if key is None:
        key = current_app.extensions[_EXTENSION] = load_signing_key(
            current_app.config["SNAPSHOT_SIGNING_KEY"], create=not current_app.config["PRODUCTION"])
    return key


def publish(public_key: Ed25519PublicKey) -> str:
    """Add a public key to the published list, unless it is there already; returns its id."""
    identifier = key_id(public_key)
    db.session.execute(insert(SnapshotKey).values(
        key_id=identifier, public_key=public_pem(public_key), added_at=datetime.now(timezone.utc),
    ).on_conflict_do_nothing(index_elements=["key_id"]))
    return identifier


def published() -> list[SnapshotKey]:
    """Every public key that signs or signed snapshots, oldest first."""
    return list(db.session.scalars(select(SnapshotKey).order_by(SnapshotKey.added_at, SnapshotKey.key_id)))


def fingerprints() -> tuple[str, list[str]]:
    """The id of the key that signs now, and the ids of every key a checker should trust: each that signed a
    snapshot, and the current one."""
    current = key_id(signing_key().public_key())
    signed = [key.key_id for key in published()]
    return current, signed if current in signed else [*signed, current]
