"""While the database cannot be reached (restarting, failing over), workers still start, and people are told
to try again in a few seconds (503 with Retry-After), not shown a server error."""

import socket

from cryptography.fernet import Fernet

from core.app import create_app
from tests.helpers import host


def _unreachable_database() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://hfs_app@127.0.0.1:{port}/heforshe"


def test_a_worker_starts_while_the_database_is_unreachable(app_config):
    # gunicorn shuts every worker down when one fails to start: a worker replaced during a database restart
    # must start, or the whole site stays down after the database is back.
    app = create_app({**app_config, "PRODUCTION": True, "SECRET_KEY": "s" * 40,
                      "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "PEOPLE_PEPPER": "p" * 40,
                      "SQLALCHEMY_DATABASE_URI": _unreachable_database()})
    assert app.test_client().get("/", base_url=host("acme")).status_code == 503


def test_while_the_database_is_unreachable_people_are_asked_to_try_again(app_config):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": _unreachable_database()})
    client = app.test_client()
    page = client.get("/", base_url=host("acme"), headers={"Accept-Language": "en"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert "Please try again in a few seconds" in page.get_data(as_text=True)
    posted = client.post("/", base_url=host("acme"), data={"email": "sam@example.org"})
    assert posted.status_code == 503
    counts = client.get("/count.json", base_url=host("acme"))
    assert counts.status_code == 503 and "try again" in counts.get_json()["error"]
