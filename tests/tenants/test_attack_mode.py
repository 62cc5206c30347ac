"""Attack mode on the sign-up form: switched by the operator, per tenant or everywhere; while it is on, only a
form sent with a solved challenge is recorded, once."""

import html
import logging

import altcha
import pytest
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants.models import Commitment, Role
from tests.helpers import csrf_token, host, sign_up


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ALTCHA_MAX_NUMBER": 40, "ALTCHA_COST": 10}


def attack_mode(app, *args: str):
    result = app.test_cli_runner().invoke(args=["attack-mode", *args])
    assert result.exit_code == 0, result.output
    return result.output


def solved(client, slug: str) -> str:
    """Fetch a challenge on a tenant's host and solve it, as the widget does in the browser."""
    response = client.get("/altcha/challenge", base_url=host(slug))
    assert response.status_code == 200
    challenge = altcha.Challenge.from_dict(response.get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def commitments(db, tenant) -> int:
    with tenant_context(tenant):
        return db.session.scalar(select(func.count(Commitment.id)))


def test_while_attack_mode_is_off_the_form_is_unchanged(client, db, make_tenant):
    acme = make_tenant("acme")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "altcha" not in page.lower()
    assert sign_up(client, "acme").status_code == 303
    assert commitments(db, acme) == 1


def test_in_attack_mode_the_form_explains_the_check_and_needs_javascript_for_it(app, client, make_tenant):
    make_tenant("acme")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "<altcha-widget" in page and 'name="altcha"' in page
    assert "your browser first does a short calculation" in page
    assert "<noscript>" in page and "This check needs JavaScript" in page
    assert "vendor/altcha.min.js" in page and "vendor/altcha.css" in page


def test_in_attack_mode_a_form_without_a_solution_is_refused_and_nothing_typed_is_lost(app, client, db,
                                                                                      make_tenant):
    acme = make_tenant("acme")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    response = sign_up(client, "acme", email="sam@example.org", city="Lyon", name="Sam")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Your browser has not done its check yet (it needs JavaScript)" in page
    assert 'value="sam@example.org"' in page and 'value="Lyon"' in page and 'value="Sam"' in page
    assert commitments(db, acme) == 0


def test_in_attack_mode_a_solved_challenge_commits_once(app, client, db, make_tenant):
    acme = make_tenant("acme")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    payload = solved(client, "acme")
    first = sign_up(client, "acme", email="sam@example.org", altcha=payload)
    assert (first.status_code, first.headers["Location"]) == (303, "/thanks")
    again = sign_up(client, "acme", email="alex@example.org", altcha=payload)
    assert again.status_code == 400
    assert "check did not succeed or has expired" in html.unescape(again.get_data(as_text=True))
    assert commitments(db, acme) == 1


def test_a_solution_refused_with_its_form_still_counts_once_the_form_is_right(app, client, db, make_tenant):
    acme = make_tenant("acme")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    payload = solved(client, "acme")
    assert sign_up(client, "acme", email="sam@", altcha=payload).status_code == 400
    assert sign_up(client, "acme", email="sam@example.org", altcha=payload).status_code == 303
    assert commitments(db, acme) == 1


def test_a_solution_spent_on_one_tenant_is_refused_on_another(app, client, db, make_tenant):
    make_tenant("acme"), make_tenant("globex")
    attack_mode(app, "on", "--reason", "a botnet")
    payload = solved(client, "acme")
    assert sign_up(client, "acme", altcha=payload).status_code == 303
    assert sign_up(client, "globex", altcha=payload).status_code == 400


def test_an_expired_or_tampered_solution_is_refused(app, client, db, make_tenant):
    acme = make_tenant("acme")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    app.config["ALTCHA_EXPIRES_SECONDS"] = -1
    assert sign_up(client, "acme", altcha=solved(client, "acme")).status_code == 400
    app.config["ALTCHA_EXPIRES_SECONDS"] = 300
    payload = altcha.Payload.from_base64(solved(client, "acme"))
    payload.challenge.parameters.cost = 1
    assert sign_up(client, "acme", altcha=payload.to_base64()).status_code == 400
    assert commitments(db, acme) == 0


def test_the_challenge_is_new_each_time_and_never_cached(client, make_tenant):
    make_tenant("acme")
    for base_url in (host("acme"), host()):
        first, second = (client.get("/altcha/challenge", base_url=base_url) for _ in range(2))
        assert first.headers["Cache-Control"] == "no-store"
        assert first.get_json()["signature"] != second.get_json()["signature"]


def test_a_tenants_own_switch_leaves_the_others_alone(app, client, db, make_tenant):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    assert "<altcha-widget" not in client.get("/", base_url=host("globex")).get_data(as_text=True)
    assert sign_up(client, "globex").status_code == 303
    assert sign_up(client, "acme").status_code == 400
    attack_mode(app, "off", "--tenant", "acme", "--reason", "it stopped")
    assert sign_up(client, "acme").status_code == 303
    assert (commitments(db, acme), commitments(db, globex)) == (1, 1)


def test_the_switch_everywhere_covers_every_tenant_until_it_is_off(app, client, db, make_tenant):
    make_tenant("acme"), make_tenant("globex")
    attack_mode(app, "on", "--reason", "a botnet")
    for slug in ("acme", "globex"):
        assert "<altcha-widget" in client.get("/", base_url=host(slug)).get_data(as_text=True)
        assert sign_up(client, slug).status_code == 400
    attack_mode(app, "off", "--reason", "it stopped")
    for slug in ("acme", "globex"):
        assert sign_up(client, slug).status_code == 303


def test_a_one_click_commitment_through_single_sign_on_is_not_challenged(app, client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    attack_mode(app, "on", "--reason", "a botnet")
    sign_in_as(acme, Role.MEMBER, client=client)
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "Signed in through Acme Corporation" in page and "<altcha-widget" not in page
    response = client.post("/", base_url=host("acme"), data={
        "csrf_token": csrf_token(page), "gender": "man", "country": "FR", "consent": "y"})
    assert response.status_code == 303
    assert commitments(db, acme) == 1


def test_other_workers_follow_a_switch_within_two_seconds(app, app_config, make_tenant, monkeypatch):
    from core.app import create_app
    from tenants.services import hosts

    make_tenant("acme"), make_tenant("globex")
    now = [1000.0]
    monkeypatch.setattr(hosts.time, "monotonic", lambda: now[0])  # the same clock for both caches
    other_worker = create_app(app_config).test_client()
    assert sign_up(other_worker, "acme").status_code == 303  # remembers acme's host, and that all is off
    attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    attack_mode(app, "on", "--reason", "a botnet")
    assert sign_up(other_worker, "acme", email="kim@example.org").status_code == 303, "remembered a moment"
    assert sign_up(other_worker, "globex").status_code == 303, "remembered a moment (everywhere)"
    now[0] += 2.01
    assert sign_up(other_worker, "acme", email="alex@example.org").status_code == 400
    assert sign_up(other_worker, "globex", email="alex@example.org").status_code == 400


def test_the_operator_sees_where_it_is_on_since_when_and_why(app, make_tenant, caplog):
    make_tenant("acme"), make_tenant("globex")
    assert attack_mode(app, "status") == "Everywhere: off\nNo tenant has its own switch on.\n"
    with caplog.at_level(logging.WARNING):
        attack_mode(app, "on", "--tenant", "acme", "--reason", "a flood of sign-ups")
    assert "attack mode on for acme: a flood of sign-ups" in caplog.text
    attack_mode(app, "on", "--reason", "a botnet")
    status = attack_mode(app, "status")
    assert status.startswith("Everywhere: on since ") and "UTC (a botnet)" in status
    assert "acme: on since " in status and "(a flood of sign-ups)" in status and "globex" not in status
    off = attack_mode(app, "off", "--reason", "the botnet gave up")
    assert "Still on by their own switch: acme." in off
    assert attack_mode(app, "status").startswith("Everywhere: off since ")


@pytest.mark.parametrize("args, message", [
    (["on"], "Missing option '--reason'"),
    (["on", "--reason", "  "], "say why attack mode changes"),
    (["on", "--tenant", "nobody", "--reason", "x"], "no tenant 'nobody'"),
])
def test_a_switch_needs_a_reason_and_a_real_tenant(app, make_tenant, args, message):
    result = app.test_cli_runner().invoke(args=["attack-mode", *args])
    assert result.exit_code != 0 and message in result.output
    assert attack_mode(app, "status").startswith("Everywhere: off\n")


def test_as_the_app_role_a_tenant_adds_only_its_own_changes_and_none_is_rewritten(postgres, app, make_tenant):
    import sqlalchemy as sa
    from sqlalchemy import text

    acme, globex = make_tenant("acme"), make_tenant("globex")
    attack_mode(app, "on", "--tenant", "globex", "--reason", "a flood of sign-ups")
    add = "INSERT INTO attack_mode_changes (tenant_id, enabled, reason, changed_at) VALUES (:t, true, 'x', now())"
    engine = sa.create_engine(postgres["app"])
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
            connection.execute(text(add), {"t": acme.id})
            connection.execute(text(add), {"t": None})
            assert connection.execute(text("UPDATE attack_mode_changes SET enabled = false")).rowcount == 0
            assert connection.execute(text("DELETE FROM attack_mode_changes")).rowcount == 0
            assert connection.scalar(text("SELECT count(*) FROM attack_mode_changes")) == 3, "every host reads all"
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with engine.begin() as connection:
                connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(acme.id)})
                connection.execute(text(add), {"t": globex.id})
    finally:
        engine.dispose()
