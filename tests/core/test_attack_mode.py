"""Attack mode's proof of work: what a solution must be to count, and that it counts once."""

import base64
import json
from datetime import datetime, timedelta, timezone

import altcha
import pytest
from sqlalchemy import func, select

from core import attack_mode
from core.models import SpentChallenge


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ALTCHA_MAX_NUMBER": 40, "ALTCHA_COST": 10}


def solve(issued: dict) -> str:
    """What the widget sends for a challenge: the challenge and the counter it found, as base64 JSON."""
    challenge = altcha.Challenge.from_dict(issued)
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def edited(payload: str, change) -> str:
    body = json.loads(base64.b64decode(payload))
    change(body)
    return base64.b64encode(json.dumps(body).encode()).decode()


def test_a_challenge_asks_for_the_configured_work_and_expires(app, db):
    issued = attack_mode.challenge()
    parameters = issued["parameters"]
    assert (parameters["algorithm"], parameters["cost"]) == ("PBKDF2/SHA-256", 10)
    assert 290 <= parameters["expiresAt"] - datetime.now(timezone.utc).timestamp() <= 300
    counter = altcha.solve_challenge(altcha.Challenge.from_dict(issued)).counter
    assert 20 <= counter < 40, "between half the maximum and the maximum: never a free pass"
    assert attack_mode.challenge()["signature"] != issued["signature"]


def test_a_solution_is_accepted_once(app, db):
    payload = solve(attack_mode.challenge())
    assert attack_mode.accept(payload)
    assert not attack_mode.accept(payload), "a replay"
    assert db.session.scalar(select(func.count()).select_from(SpentChallenge)) == 1


def test_a_spent_solution_is_refused_by_another_worker(app, app_config, db):
    from core.app import create_app

    payload = solve(attack_mode.challenge())
    assert attack_mode.accept(payload)
    db.session.commit()
    other_worker = create_app(app_config)
    with other_worker.app_context():
        assert not attack_mode.accept(payload)


def test_a_solution_refused_with_its_form_can_be_used_again(app, db):
    payload = solve(attack_mode.challenge())
    assert attack_mode.accept(payload)
    db.session.rollback()  # the form had another mistake: nothing was kept
    assert attack_mode.accept(payload)


def test_an_expired_challenge_is_refused(app, db):
    app.config["ALTCHA_EXPIRES_SECONDS"] = -1
    assert not attack_mode.accept(solve(attack_mode.challenge()))


@pytest.mark.parametrize("change", [
    lambda body: body["challenge"]["parameters"].update(expiresAt=body["challenge"]["parameters"]["expiresAt"] + 3600),
    lambda body: body["challenge"]["parameters"].update(cost=1),
    lambda body: body["challenge"]["parameters"].update(keySignature="00" * 32),
    lambda body: body["challenge"].update(signature="00" * 32),
    lambda body: body["challenge"].pop("signature"),
    lambda body: body["solution"].update(derivedKey="00" * 32),
    lambda body: body["solution"].update(derivedKey=body["challenge"]["parameters"]["keyPrefix"]),
], ids=["longer life", "less work", "own key signature", "own signature", "unsigned", "wrong key", "known half"])
def test_a_tampered_solution_is_refused(app, db, change):
    payload = solve(attack_mode.challenge())
    assert not attack_mode.accept(edited(payload, change))
    assert attack_mode.accept(payload), "the untouched one still counts"


def test_a_challenge_signed_with_another_key_is_refused(app, db):
    app.config["ALTCHA_HMAC_KEY"] = "someone else's key"
    payload = solve(attack_mode.challenge())
    app.config["ALTCHA_HMAC_KEY"] = ""
    assert not attack_mode.accept(payload)


@pytest.mark.parametrize("payload", [
    None, "", "not base64 at all!", base64.b64encode(b"[]").decode(), base64.b64encode(b'"text"').decode(),
    base64.b64encode(b'{"challenge": {"parameters": []}, "solution": {}}').decode(),
    base64.b64encode(b'{"challenge": "x", "solution": "y"}').decode(),
    base64.b64encode(b"[" * 5000 + b"]" * 5000).decode(), "A" * 10_000, "\x00\ud800",
])
def test_anything_else_is_refused_without_an_error(app, db, payload):
    assert not attack_mode.accept(payload)


def test_expired_spent_challenges_are_cleared_as_new_ones_are_spent(app, db):
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    db.session.add_all(SpentChallenge(signature=f"old{n}", expires_at=long_ago) for n in range(3))
    db.session.commit()
    assert attack_mode.accept(solve(attack_mode.challenge()))
    assert db.session.scalars(select(SpentChallenge.signature)).all() != []
    assert not any(s.startswith("old") for s in db.session.scalars(select(SpentChallenge.signature)))
