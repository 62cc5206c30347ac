"""Check the HeForShe daily snapshots: every SHA-256, every Ed25519 signature, every link of the hash chain.

    python3 verify_snapshots.py https://commit.heforshe.org [--key-id FINGERPRINT ...]
    python3 verify_snapshots.py ./snapshots-folder          # the files `flask snapshots export` writes

Needs only Python 3 and the ``cryptography`` package. With ``--key-id``, only those keys are trusted (compare them
with a fingerprint published elsewhere); without, the site's own key list is, and the keys used are printed.
Exits 0 when every snapshot holds, 1 naming the first day that does not.
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.request
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization


def reader(source):
    if Path(source).is_dir():
        return lambda name: (Path(source) / name).read_bytes()
    base = source.rstrip("/") + "/snapshots/"
    return lambda name: urllib.request.urlopen(base + name, timeout=30).read()


def check(read, trusted):
    keys = {}
    for entry in json.loads(read("keys.json"))["keys"]:
        key = serialization.load_pem_public_key(entry["public_key"].encode())
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if hashlib.sha256(raw).hexdigest() == entry["key_id"] and (not trusted or entry["key_id"] in trusted):
            keys[entry["key_id"]] = key
    previous, used = None, set()
    days = sorted(entry["day"] for entry in json.loads(read("index.json"))["snapshots"])
    for day in days:
        try:
            published = json.loads(read(f"{day}.json"))
        except OSError as error:
            return f"the snapshot of {day} cannot be read: {error}"
        body = published["body"].encode("utf-8")
        if hashlib.sha256(body).hexdigest() != published["sha256"]:
            return f"the snapshot of {day}: its body does not match its SHA-256"
        if published["key_id"] not in keys:
            return f"the snapshot of {day}: signed by a key that is not trusted ({published['key_id']})"
        try:
            keys[published["key_id"]].verify(base64.b64decode(published["signature"], validate=True), body)
        except (InvalidSignature, ValueError):
            return f"the snapshot of {day}: its signature does not verify"
        fields = json.loads(body)
        if (fields["day"], fields["key_id"]) != (day, published["key_id"]):
            return f"the snapshot of {day}: its body names another day or key ({fields['day']}, {fields['key_id']})"
        if fields["previous_sha256"] != previous:
            return f"the snapshot of {day}: the chain breaks (a day before it was removed, added or changed)"
        previous = published["sha256"]
        used.add(published["key_id"])
    print(f"OK: {len(days)} snapshots hold" + (f", {days[0]} to {days[-1]}" if days else "")
          + "".join(f"\n  signed by key {key_id}" for key_id in sorted(used)))
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the site's address, or a folder of exported snapshot files")
    parser.add_argument("--key-id", action="append", default=[], help="a key fingerprint to trust (repeatable)")
    arguments = parser.parse_args()
    failure = check(reader(arguments.source), set(arguments.key_id))
    if failure:
        print(f"FAILED: {failure}", file=sys.stderr)
    sys.exit(1 if failure else 0)
