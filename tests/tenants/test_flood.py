"""A sign-up flood against two server processes sharing one Redis and PostgreSQL: scripts from two networks
are held to their network's limit across both processes (or noted as suspect), while a person from another
network signs people up at a human pace, every one of them counted."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import func, select

from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenants.models import Commitment
from tests.core.test_live_across_workers import app_environment, gunicorn_processes, redis_url  # noqa: F401
from tests.helpers import BASE_DOMAIN, hidden_fields

NETWORK_LIMIT = 25  # per 10 minutes: the flood (under a minute) stays inside one window
FLOOD = {"127.0.1.1": "127.0.1.0/24", "127.0.1.2": "127.0.1.0/24",  # two scripts on each of two networks
         "127.0.2.1": "127.0.2.0/24", "127.0.2.2": "127.0.2.0/24"}
POSTS_PER_SCRIPT = 300  # 1,200 posts: 50 let in, so at least 95% held back or noted
HONEST = "127.0.3.1"
PEOPLE = 6
HOST = {"Host": f"acme.{BASE_DOMAIN}"}


class _From(HTTPAdapter):
    """Connections from one loopback address (Linux routes all of 127/8 to lo)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def _browser(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _From(address))
    return session


def _form(session: requests.Session, port: int) -> dict:
    page = session.get(f"http://127.0.0.1:{port}/", headers=HOST, timeout=30)
    assert page.status_code == 200
    return hidden_fields(page.text)


def _post(session: requests.Session, port: int, fields: dict, email: str) -> int:
    return session.post(f"http://127.0.0.1:{port}/", headers=HOST, allow_redirects=False, timeout=30, data={
        **fields, "website": "", "email": email, "gender": "man", "country": "KE", "consent": "y"}).status_code


def _script(address: str, ports: list[int]) -> list[tuple[int, int]]:
    """One page fetched, then its form sent as fast as answers come, to both processes in turn."""
    session = _browser(address)
    fields = _form(session, ports[0])
    answers = []
    for n, port in zip(range(POSTS_PER_SCRIPT), itertools.cycle(ports)):
        answers.append((port, _post(session, port, fields, f"bot-{address}-{n}@flood{n % 7}.example")))
    return answers


def _person(n: int, ports: list[int], pace: float) -> int:
    """Someone who opens the page, reads and types for a while, and commits."""
    session = _browser(HONEST)
    port = ports[n % 2]
    fields = _form(session, port)
    time.sleep(pace)
    return _post(session, port, fields, f"person{n}@example.org")


@pytest.mark.long
def test_a_flood_is_held_to_its_networks_limits_across_processes_and_people_still_get_in(
        postgres, app_config, redis_url, tmp_path, make_tenant, db):  # noqa: F811
    acme = make_tenant("acme", "Acme Corporation")
    environment = app_environment(
        app_config, REDIS_URL=redis_url, RATELIMIT_KEY_PREFIX=f"flood-{uuid.uuid4().hex}",
        SIGNUP_RATE_LIMIT_NETWORK=f"{NETWORK_LIMIT} per 10 minutes", SIGNUP_RATE_LIMIT_TENANT="100000 per minute",
        SIGNUP_RATE_LIMIT_DOMAIN="100000 per minute", SIGNUP_MIN_SECONDS="1")
    with gunicorn_processes(environment, 2, tmp_path) as ports:
        started = time.monotonic()
        with ThreadPoolExecutor(len(FLOOD) + 2) as pool:
            scripts = [pool.submit(_script, address, ports) for address in FLOOD]
            people = [pool.submit(_person, n, ports, 1.3) for n in range(PEOPLE)]
            flood = [answer for script in scripts for answer in script.result()]
            honest = [person.result() for person in people]
        took = time.monotonic() - started

    statuses = Counter(status for _, status in flood)
    assert set(statuses) <= {303, 429}, statuses
    held_back_by = Counter(port for port, status in flood if status == 429)
    assert all(held_back_by[port] for port in ports), "both processes held scripts back"
    assert honest == [303] * PEOPLE, "every person got in"

    with tenant_context(acme):
        per_network = dict(db.session.execute(
            select(Commitment.client_network, func.count()).group_by(Commitment.client_network)).all())
        flagged = db.session.scalar(select(func.count()).where(
            Commitment.client_network.in_(set(FLOOD.values())), Commitment.suspect.is_not(None)))
        people_noted = db.session.execute(select(Commitment.suspect).where(
            Commitment.client_network == "127.0.3.0/24")).scalars().all()
        counted = rollup.tenant_counts().total
    # Each network got exactly its limit in, though its scripts spread over two addresses and two processes.
    assert per_network == {"127.0.1.0/24": NETWORK_LIMIT, "127.0.2.0/24": NETWORK_LIMIT, "127.0.3.0/24": PEOPLE}
    assert statuses[303] == 2 * NETWORK_LIMIT
    assert (statuses[429] + flagged) / len(flood) >= 0.95
    assert people_noted == [None] * PEOPLE, "nobody taking their time is suspect"
    assert counted == 2 * NETWORK_LIMIT + PEOPLE
    print(f"{len(flood)} flood posts in {took:.1f} s: {statuses[429]} held back, {statuses[303]} let in "
          f"({flagged} of them noted as suspect)")
