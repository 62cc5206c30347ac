"""Signed daily snapshots: taken once a day, published on the global site, and any rewriting of the published
history caught, on the right day, by ``flask snapshots verify`` and by the stand-alone checking script."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from playwright.sync_api import expect

from core.app import create_app
from core.extensions import db as _db
from core import privacy
from core.rollup import steps
from core.rollup.models import Gender
from core.snapshots import daily, keys, services
from core.snapshots.models import Snapshot, SnapshotKey
from tests.helpers import BASE_DOMAIN, host

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_snapshots.py"
# Today (UTC) as the app sees it, and the three days before: set as each test starts (``_today``).
TODAY: date
DAYS: list[date]


@pytest.fixture(autouse=True)
def _today():
    """Name today as each test starts, not when the file was collected (a run that crossed midnight failed so),
    and never in a day's last 30 seconds, which one test could straddle."""
    global TODAY, DAYS
    now = datetime.now(timezone.utc)
    left = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), timezone.utc) - now).total_seconds()
    if left < 30:
        time.sleep(left + 0.1)
    TODAY = datetime.now(timezone.utc).date()
    DAYS = [TODAY - timedelta(days=n) for n in (3, 2, 1)]


def commit_many(make_commitment, tenant, n, **fields):
    for _ in range(n):
        make_commitment(tenant, **fields)


def cli(app, *arguments):
    return app.test_cli_runner().invoke(args=["snapshots", *arguments])


def take(app, day: date) -> None:
    result = cli(app, "take", "--date", day.isoformat())
    assert result.exit_code == 0, result.output


def take_days(app, make_tenant, make_commitment, days=None):
    """A listed partner with a few commitments before each day's snapshot (by default, of ``DAYS``)."""
    acme = make_tenant("acme", "Acme Corporation")
    for day in days or DAYS:
        commit_many(make_commitment, acme, 4, country="FR")
        take(app, day)


def as_owner(app, statement: str, **parameters) -> None:
    """Change the database behind the app's back, as someone with the tables' owner's rights could."""
    engine = sa.create_engine(app.config["MIGRATION_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text(statement), parameters)
    engine.dispose()
    _db.session.rollback()  # the commands that follow read afresh, as a new process would


def stored(db, day: date) -> Snapshot:
    db.session.rollback()
    return db.session.get(Snapshot, day, populate_existing=True)


def run_script(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def exported(app, folder: Path) -> Path:
    result = cli(app, "export", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def assert_caught(app, tmp_path, day: date, command_says: str, script_says: str) -> None:
    """Both checkers name ``day`` as the first that breaks, each with its own words for why."""
    result = cli(app, "verify")
    assert result.exit_code == 1
    assert f"The snapshot of {day.isoformat()} breaks: {command_says}" in result.output
    script = run_script(exported(app, tmp_path / "files"))
    assert script.returncode == 1
    assert f"the snapshot of {day.isoformat()}: {script_says}" in script.stderr


# Taking.

def test_taking_the_days_snapshot_again_changes_nothing(app, db, make_tenant, make_commitment):
    commit_many(make_commitment, make_tenant("acme"), 10)  # k on the global site: the breakdowns are released
    first = cli(app, "take")
    assert first.exit_code == 0 and f"Took the snapshot of {TODAY.isoformat()}" in first.output
    sha = stored(db, TODAY).sha256
    make_commitment(make_tenant("northfield"))
    again = cli(app, "take")
    assert again.exit_code == 0
    assert f"The snapshot of {TODAY.isoformat()} was taken already (SHA-256 {sha}); nothing changed." in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)) == 1
    assert json.loads(stored(db, TODAY).body)["total"] == 10, "the day's snapshot kept what it said"


def test_snapshots_are_taken_in_order_of_their_days_and_never_ahead(app, db):
    assert cli(app, "take", "--date", DAYS[1].isoformat()).exit_code == 0
    earlier = cli(app, "take", "--date", DAYS[0].isoformat())
    assert earlier.exit_code == 1 and f"the last snapshot is of {DAYS[1].isoformat()}" in earlier.output
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    ahead = cli(app, "take", "--date", tomorrow)
    assert ahead.exit_code == 1 and f"{tomorrow} has not begun yet" in ahead.output
    assert [s.day for s in db.session.scalars(sa.select(Snapshot))] == [DAYS[1]]


def test_two_processes_taking_the_same_day_at_once_make_one_snapshot(app, db):
    barrier, results = threading.Barrier(2), []

    def take():
        with app.app_context():
            barrier.wait()
            snapshot, new = services.take()
            _db.session.commit()
            results.append((snapshot.sha256, new))
            _db.session.remove()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(new for _, new in results) == [False, True], "one took it, the other found it taken"
    assert len({sha for sha, _ in results}) == 1, "both answer with the one stored snapshot"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)) == 1


def test_a_snapshot_holds_the_released_totals(app, client, db, make_tenant, make_commitment):
    acme = make_tenant("acme", "Acme Corporation")
    northfield = make_tenant("northfield", "Northfield University")
    globex = make_tenant("globex", "Globex", listed=False)
    commit_many(make_commitment, acme, 12, country="FR")
    commit_many(make_commitment, northfield, 10, country="KE", gender=Gender.WOMAN)
    commit_many(make_commitment, globex, 3, country="JP")
    commit_many(make_commitment, globex, 2, country="BR", gender=Gender.NON_BINARY)
    assert cli(app, "take").exit_code == 0
    snapshot = stored(db, TODAY)
    body = json.loads(snapshot.body)
    stats = client.get("/stats.json", base_url=host()).get_json()
    assert (body["total"], body["men"], body["k"]) == (27, 15, 10) == (stats["total"], stats["men"], stats["k"])
    assert body["by_country"] == stats["by_country"] == {"FR": {"total": 12, "men": 12, "verified": 0},
                                                         "KE": {"total": 10, "men": 0, "verified": 0}}
    assert body["fewer_than_k"]["by_country"] == {**stats["fewer_than_k"]["by_country"], "verified": 0} == {
        "total": 5, "men": 3, "verified": 0, "cells": 2}
    # The two non-binary people cannot be shown, nor can the women alone (subtracting would reveal them).
    assert body["by_gender"] == {"man": {"total": 15, "men": 15, "verified": 0}} and list(stats["by_gender"]) == ["man"]
    assert body["fewer_than_k"]["by_gender"] == {**stats["fewer_than_k"]["by_gender"], "verified": 0} == {
        "total": 12, "men": 0, "verified": 0, "cells": 2}
    assert body["by_partner"] == {"acme": {"total": 12, "men": 12, "verified": 0},
                                  "northfield": {"total": 10, "men": 0, "verified": 0}}
    assert body["unlisted_partners"] == {"total": 5}, "unlisted partners: their commitments summed, never named"
    assert "globex" not in snapshot.body.lower()
    assert (body["schema"], body["day"], body["previous_sha256"]) == (3, TODAY.isoformat(), None)
    assert body["verified_released_at"] == body["released_at"]
    assert body["made_from_day"] == body["made_from_release_day"] == {"total": 27, "men": 15, "verified": 0}
    assert datetime.fromisoformat(body["released_at"]).date() == TODAY
    assert datetime.fromisoformat(body["taken_at"]) <= datetime.now(timezone.utc)


def test_a_country_of_fewer_than_k_people_is_not_in_a_snapshot(app, db, make_tenant, make_commitment):
    acme = make_tenant("acme")
    commit_many(make_commitment, acme, 10, country="FR")
    commit_many(make_commitment, acme, 10, country="KE")
    commit_many(make_commitment, acme, 4, country="JP")
    commit_many(make_commitment, acme, 1, country="IS")
    assert cli(app, "take").exit_code == 0
    snapshot = stored(db, TODAY)
    body = json.loads(snapshot.body)
    assert set(body["by_country"]) == {"FR", "KE"}
    assert '"JP"' not in snapshot.body and '"IS"' not in snapshot.body
    assert body["fewer_than_k"]["by_country"] == {"total": 5, "men": 5, "verified": 0, "cells": 2}


def test_the_body_is_canonical_json_signed_by_the_key_it_names(app, db, make_tenant, make_commitment):
    take_days(app, make_tenant, make_commitment)
    first, second = stored(db, DAYS[0]), stored(db, DAYS[1])
    body = json.loads(second.body)
    assert second.body.encode() == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert second.sha256 == hashlib.sha256(second.body.encode()).hexdigest()
    assert body["previous_sha256"] == hashlib.sha256(first.body.encode()).hexdigest()
    with app.app_context():
        public_key = keys.signing_key().public_key()
    assert body["key_id"] == second.key_id == keys.key_id(public_key)
    public_key.verify(base64.b64decode(second.signature), second.body.encode())  # raises if it does not verify


# Checking.

def test_an_untouched_history_verifies(app, make_tenant, make_commitment, tmp_path):
    take_days(app, make_tenant, make_commitment)
    result = cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "All 3 snapshots hold" in result.output and "No drift" in result.output
    script = run_script(exported(app, tmp_path / "files"))
    assert script.returncode == 0, script.stderr
    assert f"OK: 3 snapshots hold, {DAYS[0].isoformat()} to {DAYS[2].isoformat()}" in script.stdout


def _one_byte_changed(body: str) -> str:
    at = body.index('"total":') + len('"total":')
    return body[:at] + str((int(body[at]) + 1) % 10) + body[at + 1:]


def test_one_byte_changed_in_a_stored_snapshot_is_caught_on_its_day(app, db, make_tenant, make_commitment,
                                                                      tmp_path):
    take_days(app, make_tenant, make_commitment)
    tampered = stored(db, DAYS[1])
    as_owner(app, "UPDATE snapshots SET body = :body WHERE day = :day",
             body=_one_byte_changed(tampered.body), day=DAYS[1])
    assert_caught(app, tmp_path, DAYS[1], "its body does not match its SHA-256",
                  "its body does not match its SHA-256")
    assert "The 1 snapshots before it hold." in cli(app, "verify").output


def test_a_changed_body_with_its_hash_recomputed_fails_its_signature(app, db, make_tenant, make_commitment,
                                                                       tmp_path):
    take_days(app, make_tenant, make_commitment)
    body = _one_byte_changed(stored(db, DAYS[1]).body)
    as_owner(app, "UPDATE snapshots SET body = :body, sha256 = :sha WHERE day = :day",
             body=body, sha=hashlib.sha256(body.encode()).hexdigest(), day=DAYS[1])
    assert_caught(app, tmp_path, DAYS[1], "its signature does not verify", "its signature does not verify")


def test_a_removed_day_breaks_the_chain_at_the_day_after_it(app, make_tenant, make_commitment, tmp_path):
    take_days(app, make_tenant, make_commitment)
    as_owner(app, "DELETE FROM snapshots WHERE day = :day", day=DAYS[1])
    assert_caught(app, tmp_path, DAYS[2], "the chain breaks", "the chain breaks")


def test_reordered_days_are_caught(app, make_tenant, make_commitment, tmp_path):
    take_days(app, make_tenant, make_commitment)
    swap = "UPDATE snapshots SET day = :to WHERE day = :day"
    as_owner(app, swap, day=DAYS[0], to=TODAY + timedelta(days=30))
    as_owner(app, swap, day=DAYS[1], to=DAYS[0])
    as_owner(app, swap, day=TODAY + timedelta(days=30), to=DAYS[1])
    assert_caught(app, tmp_path, DAYS[0], "it is filed under another day", "its body names another day")


def test_the_script_checks_the_live_site(app, db, make_tenant, make_commitment, live_server):
    app.config["BASE_DOMAIN"] = "localhost"  # a name the script's plain HTTP client can reach
    take_days(app, make_tenant, make_commitment)
    site = f"http://localhost:{live_server}"
    with app.app_context():
        key_id = keys.key_id(keys.signing_key().public_key())
    good = run_script(site, "--key-id", key_id)
    assert good.returncode == 0, good.stderr
    assert f"signed by key {key_id}" in good.stdout
    untrusted = run_script(site, "--key-id", "0" * 64)
    assert untrusted.returncode == 1 and f"the snapshot of {DAYS[0].isoformat()}: signed by a key that is not trusted" \
        in untrusted.stderr
    as_owner(app, "UPDATE snapshots SET body = :body WHERE day = :day",
             body=_one_byte_changed(stored(db, DAYS[2]).body), day=DAYS[2])
    broken = run_script(site)
    assert broken.returncode == 1
    assert f"the snapshot of {DAYS[2].isoformat()}: its body does not match its SHA-256" in broken.stderr


def test_snapshots_signed_before_a_key_rotation_still_verify(app, app_config, db, make_tenant, make_commitment,
                                                             tmp_path):
    take_days(app, make_tenant, make_commitment, DAYS[:2])
    rotated = create_app({**app_config, "SNAPSHOT_SIGNING_KEY": str(tmp_path / "new-key.pem")})
    with rotated.app_context():  # the commands run in the app of the context they find
        try:
            take(rotated, DAYS[2])
            result = cli(rotated, "verify")
            assert result.exit_code == 0, result.output
            folder = exported(rotated, tmp_path / "files")
        finally:
            _db.session.remove()
            _db.engine.dispose()
    published = rotated.test_client().get("/snapshots/keys.json", base_url=host()).get_json()
    old, new = (entry["key_id"] for entry in published["keys"])
    assert published["current"] == new != old
    assert json.loads(stored(db, DAYS[2]).body)["key_id"] == new
    assert run_script(folder, "--key-id", old, "--key-id", new).returncode == 0
    only_new = run_script(folder, "--key-id", new)
    assert only_new.returncode == 1 and f"the snapshot of {DAYS[0].isoformat()}: signed by a key that is not " \
        "trusted" in only_new.stderr


def test_the_app_role_cannot_rewrite_a_snapshot(app, db, postgres, make_tenant, make_commitment):
    take_days(app, make_tenant, make_commitment, DAYS[:1])
    for statement in (sa.update(Snapshot).values(body="x"), sa.delete(Snapshot),
                      sa.update(SnapshotKey).values(public_key="x"), sa.delete(SnapshotKey)):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            db.session.execute(statement)
        db.session.rollback()
    assert cli(app, "verify").exit_code == 0


# Drift.

def test_counts_changed_outside_the_sign_ups_are_reported_as_drift(app, make_tenant, make_commitment):
    acme = make_tenant("acme")
    commit_many(make_commitment, acme, 10)
    take(app, DAYS[2])  # filed under yesterday; today's commitments are what was made from its day on
    commit_many(make_commitment, acme, 2, country="KE")  # made since: no drift
    result = cli(app, "verify")
    assert result.exit_code == 0 and "plus what was made since (total 2, men 2, verified 0)" in result.output
    as_owner(app, "UPDATE global_tallies SET total = total + 7, men = men + 7 "
                  "WHERE dimension = 'gender' AND key = 'man' AND shard = "
                  "(SELECT MIN(shard) FROM global_tallies WHERE dimension = 'gender' AND key = 'man')")
    drifted = cli(app, "verify")
    assert drifted.exit_code == 2
    # Compared: what was made before the day its copy was released (today), all of it in the copy.
    assert (f"Drift since the snapshot of {DAYS[2].isoformat()}: commitments made before {TODAY.isoformat()} "
            "counted total 0, men 0, verified 0 then, total 7, men 7, verified 0 now.") in drifted.output


def test_people_counted_after_the_copy_was_released_are_no_drift(app, db, make_tenant, make_commitment):
    """The pages' copy of yesterday, then a few sign-ups before midnight (fewer than k: still not in it), then
    today's snapshot, made from that copy: the sign-ups since the copy are what was made since, not drift."""
    acme = make_tenant("acme")
    yesterday = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), timezone.utc)
    commit_many(make_commitment, acme, 10, created_at=yesterday + timedelta(hours=12))
    steps.global_counts((), privacy.DEFAULT_K)  # a page view releases the copy...
    db.session.commit()
    as_owner(app, "UPDATE global_releases SET released_at = :at", at=yesterday + timedelta(hours=13))  # ...at 13:00
    commit_many(make_commitment, acme, 3, created_at=yesterday + timedelta(hours=20))
    take(app, TODAY)
    assert json.loads(_db.session.get(Snapshot, TODAY).body)["total"] == 10, "made from the copy"
    result = cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "plus what was made since (total 3, men 3, verified 0)" in result.output


# The public pages.

def test_the_public_list_shows_the_snapshots_newest_first_with_the_key(app, client, db, make_tenant,
                                                                      make_commitment):
    take_days(app, make_tenant, make_commitment)
    page = client.get("/snapshots/", base_url=host())
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    links = [f'/snapshots/{day.isoformat()}.json' for day in reversed(DAYS)]
    assert [text.index(link) for link in links] == sorted(text.index(link) for link in links)
    with app.app_context():
        assert keys.key_id(keys.signing_key().public_key()) in text
    assert "verify_snapshots.py" in text
    french = client.get("/snapshots/?lang=fr", base_url=host())
    assert french.status_code == 200 and 'lang="fr"' in french.get_data(as_text=True)


def test_the_public_list_is_paginated(app, client):
    days = [TODAY - timedelta(days=n) for n in range(services.PAGE_SIZE + 2, 0, -1)]
    for day in days:
        take(app, day)
    first = client.get("/snapshots/", base_url=host()).get_data(as_text=True)
    last = client.get("/snapshots/?page=2", base_url=host()).get_data(as_text=True)
    assert f"/snapshots/{days[-1].isoformat()}.json" in first and f"/snapshots/{days[0].isoformat()}.json" not in first
    assert f"/snapshots/{days[0].isoformat()}.json" in last and 'rel="prev"' in last and "Page 2 of 2" in last
    assert client.get("/snapshots/?page=99", base_url=host()).status_code == 200  # past the end: the last page


def test_a_days_file_is_the_stored_bytes_signed_and_cached_for_good(app, client, db, make_tenant, make_commitment):
    take_days(app, make_tenant, make_commitment)
    snapshot = stored(db, DAYS[1])
    response = client.get(f"/snapshots/{DAYS[1].isoformat()}.json", base_url=host())
    assert response.status_code == 200 and response.mimetype == "application/json"
    published = json.loads(response.data)
    assert published == {"body": snapshot.body, "key_id": snapshot.key_id, "sha256": snapshot.sha256,
                         "signature": snapshot.signature}
    assert response.data == json.dumps(published, sort_keys=True, separators=(",", ":")).encode()
    assert {"public", "immutable"} <= {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert response.cache_control.max_age >= 365 * 24 * 3600
    pem = client.get("/snapshots/key", base_url=host())
    assert pem.mimetype == "text/plain" and pem.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    serialization.load_pem_public_key(pem.data).verify(base64.b64decode(published["signature"]),
                                                       published["body"].encode())
    index = client.get("/snapshots/index.json", base_url=host()).get_json()
    assert index == {"snapshots": [{"day": day.isoformat(), "sha256": stored(db, day).sha256} for day in DAYS]}
    for missing in ("2001-01-01", "2026-02-30", "20261201", "latest"):
        assert client.get(f"/snapshots/{missing}.json", base_url=host()).status_code == 404


def test_on_a_tenants_host_there_are_no_snapshots(app, client, db, make_tenant, make_commitment):
    take_days(app, make_tenant, make_commitment, DAYS[:1])
    for path in ("/snapshots/", f"/snapshots/{DAYS[0].isoformat()}.json", "/snapshots/index.json",
                 "/snapshots/keys.json", "/snapshots/key"):
        assert client.get(path, base_url=host()).status_code == 200, path
        assert client.get(path, base_url=host("acme")).status_code == 404, path


def test_the_snapshot_list_in_a_browser(page, axe, app, make_tenant, make_commitment):
    take_days(app, make_tenant, make_commitment, DAYS[1:])
    for language, heading in (("en", "Daily snapshots of the count"), ("ar", None)):
        page.goto(f"http://{BASE_DOMAIN}:{page.port}/snapshots/?lang={language}")
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("row")).to_have_count(3)
        assert axe(page) == [], f"snapshot list in {language}"
    page.goto(f"http://{BASE_DOMAIN}:{page.port}/snapshots/?lang=en")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the snapshot of").first.click()
    assert json.loads(Path(download.value.path()).read_text())["sha256"]
    assert page.hosts_asked == {BASE_DOMAIN}


# Keys and the daily taker.

def test_the_embedded_run_makes_its_signing_key_once(app_config, tmp_path):
    path = tmp_path / "instance" / "snapshot-signing-key.pem"
    ids = []
    for _ in range(2):
        application = create_app({**app_config, "SNAPSHOT_SIGNING_KEY": str(path)})
        with application.app_context():
            ids.append(keys.key_id(keys.signing_key().public_key()))
    assert ids[0] == ids[1]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no draft left behind"


def _production(app_config, **settings) -> dict:
    return {**app_config, "PRODUCTION": True, "SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://hfs_app@127.0.0.1:9/heforshe", **settings}


def test_production_refuses_to_start_without_a_signing_key(app_config, tmp_path):
    with pytest.raises(RuntimeError, match="SNAPSHOT_SIGNING_KEY must name"):
        create_app(_production(app_config, SNAPSHOT_SIGNING_KEY=""))
    missing = tmp_path / "missing.pem"
    with pytest.raises(RuntimeError, match="cannot read"):
        create_app(_production(app_config, SNAPSHOT_SIGNING_KEY=str(missing)))
    assert not missing.exists(), "production never makes a key of its own"
    other = tmp_path / "x25519.pem"
    other.write_bytes(X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(RuntimeError, match="not an Ed25519 key"):
        create_app(_production(app_config, SNAPSHOT_SIGNING_KEY=str(other)))


def test_the_embedded_run_takes_the_days_snapshot_from_a_thread(app, db):
    stop = daily.start_thread_taker(app)
    try:
        deadline = datetime.now() + timedelta(seconds=30)
        while stored(db, TODAY) is None and datetime.now() < deadline:
            stop.wait(0.1)
    finally:
        stop.set()
    assert stored(db, TODAY) is not None
    app.config["SNAPSHOT_TAKER"] = "command"  # production: a timer runs `flask snapshots take`
    assert daily.start_thread_taker(app) is None


def test_the_taker_wakes_just_after_midnight():
    assert daily.seconds_until_next_day(datetime(2026, 12, 4, 23, 59, tzinfo=timezone.utc)) == 90
    assert daily.seconds_until_next_day(datetime(2026, 12, 5, 0, 0, 10, tzinfo=timezone.utc)) == 86400 + 20


def test_before_any_release_people_made_earlier_are_no_drift(app, make_tenant, make_commitment):
    """Fewer than k people, made yesterday: nothing is released, the snapshot holds nobody, and that is no drift."""
    acme = make_tenant("acme")
    yesterday = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), timezone.utc)
    commit_many(make_commitment, acme, 3, created_at=yesterday + timedelta(hours=12))
    take(app, TODAY)
    assert json.loads(_db.session.get(Snapshot, TODAY).body)["released_at"] is None
    result = cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert "plus what was made since (total 3, men 3, verified 0)" in result.output
