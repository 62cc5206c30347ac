"""The app factory's safety checks, error pages and response headers."""

import uuid

import pytest

from core.app import create_app
from tenants.models import Unit, UnitKind
from tests.helpers import host


def test_production_refuses_the_default_secret(app_config):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**app_config, "PRODUCTION": True, "SECRET_KEY": "dev-only-secret-change-me"})


def test_production_refuses_sqlite(app_config):
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app({**app_config, "PRODUCTION": True, "SECRET_KEY": "x" * 40,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("pepper", ["", "short", "x" * 40], ids=["missing", "short", "the secret key"])
def test_production_refuses_to_start_without_a_pepper_of_its_own(app_config, pepper):
    with pytest.raises(RuntimeError, match="PEOPLE_PEPPER"):
        create_app({**app_config, "PRODUCTION": True, "SECRET_KEY": "x" * 40, "ENCRYPTION_KEYS": "k",
                    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                    "PEOPLE_PEPPER": pepper})


def test_unknown_pages_get_a_branded_translated_404(client, make_tenant):
    make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    response = client.get("/no-such-page", base_url=host("acme"), headers={"Accept-Language": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Acme Corporation" in page
    assert "Page introuvable" in page


def test_an_unexpected_error_shows_a_page_and_no_stack_trace(app, client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom", base_url=host("acme"))
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_oversized_requests_are_refused(client, make_tenant):
    make_tenant("acme")
    response = client.post("/", base_url=host("acme"), data={"name": "x" * 200_000})
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)


def test_pages_carry_a_strict_content_security_policy(client, make_tenant):
    make_tenant("acme")
    response = client.get("/", base_url=host("acme"))
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_failed_database_write_still_shows_the_error_page(app, client, db, make_tenant, sign_in_as):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/write-twice")
    def write_twice():
        unit_id = uuid.uuid4()
        db.session.add_all([Unit(id=unit_id, name="One", kind=UnitKind.OFFICE), Unit(id=unit_id, name="Two", kind=UnitKind.OFFICE)])
        db.session.flush()  # the same key twice: the flush fails and leaves its transaction void

    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, client=client)  # the page greets the member, so it reads the database again
    response = client.get("/write-twice", base_url=host("acme"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
