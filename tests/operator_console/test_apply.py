"""Bring HeForShe to your organisation: the public application on the global host."""

from __future__ import annotations

from sqlalchemy import func, select

from operator_console.models import ApplicationStatus, PartnerApplication
from tests.helpers import csrf_token, host

GLOBAL = host()
VALID = {"organisation": "Newco Industries", "kind": "university", "country": "KE", "website": "https://newco.example",
         "contact_name": "Nadia Novak", "contact_email": "nadia@newco.example", "subdomain": "newco", "consent": "y"}


def send(client, **changes):
    page = client.get("/join/", base_url=GLOBAL)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), **VALID, **changes}
    return client.post("/join/", base_url=GLOBAL, data={k: v for k, v in data.items() if v is not None})


def applications(db) -> list[PartnerApplication]:
    return list(db.session.scalars(select(PartnerApplication)))


def test_the_global_pages_lead_to_the_application_and_a_partners_do_not(client, make_tenant):
    make_tenant("acme")
    assert 'href="/join/"' in client.get("/", base_url=GLOBAL).get_data(as_text=True)
    assert 'href="/join/"' not in client.get("/", base_url=host("acme")).get_data(as_text=True)


def test_an_organisation_applies_and_waits_in_the_operators_queue(client, db):
    page = client.get("/join/", base_url=GLOBAL)
    assert page.status_code == 200 and "Bring HeForShe to your organisation" in page.get_data(as_text=True)
    sent = send(client)
    assert sent.status_code == 303 and sent.location == "/join/thanks"
    assert "Thank you for your application" in client.get(sent.location, base_url=GLOBAL).get_data(as_text=True)
    (found,) = applications(db)
    assert (found.organisation, found.kind.value, found.country_code, found.subdomain, found.status) == (
        "Newco Industries", "university", "KE", "newco", ApplicationStatus.PENDING)


def test_the_form_speaks_the_visitors_language(client):
    page = client.get("/join/?lang=fr", base_url=GLOBAL, headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert 'lang="fr"' in page.get_data(as_text=True)


def test_bad_input_is_explained_and_nothing_typed_is_lost(client, db):
    refused = send(client, contact_email="not an address", subdomain="Bad_Name!", consent=None, website="newco")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for message in ("Please enter a valid email address.", "Use 1 to 63 lower-case letters",
                    "Please agree, so that we may consider the application.", "Please enter a web address"):
        assert message in body
    assert 'value="Newco Industries"' in body and 'value="Nadia Novak"' in body and 'value="bad_name!"' in body
    assert applications(db) == []


def test_hostile_input_is_refused_without_an_error(client, db):
    refused = send(client, organisation="Newco\x00<script>", kind="movement", country="XX")
    assert refused.status_code == 400
    assert applications(db) == []


def test_the_subdomain_check_says_taken_invalid_or_available(client, db, make_tenant):
    make_tenant("acme")
    send(client, subdomain="pending-co")  # asked for by a waiting application: taken too

    def state(name):
        answer = client.get("/join/subdomain.json", base_url=GLOBAL, query_string={"name": name})
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        return answer.get_json()

    assert state("newco") == {"state": "available", "message": "This address is free."}
    assert state("acme")["state"] == "taken" and state("pending-co")["state"] == "taken"
    assert state("portal") == {"state": "invalid",
                               "message": "This address is kept for HeForShe itself. Please choose another."}
    for bad in ("-newco", "new_co", "a" * 64, "", "new co", "ÿ"):
        assert state(bad)["state"] == "invalid", bad


def test_the_server_checks_the_subdomain_again_when_the_form_is_sent(client, db, make_tenant):
    page = client.get("/join/", base_url=GLOBAL)
    make_tenant("newco")  # taken after the page (and its live check) said it was free
    refused = client.post("/join/", base_url=GLOBAL, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                           **VALID})
    assert refused.status_code == 400
    assert "This address is taken already. Please choose another." in refused.get_data(as_text=True)
    assert applications(db) == []


def test_the_application_is_not_on_a_tenants_host(client, make_tenant):
    make_tenant("acme")
    for path in ("/join/", "/join/subdomain.json?name=x", "/join/thanks"):
        assert client.get(path, base_url=host("acme")).status_code == 404, path


def test_applications_are_rate_limited_per_network_and_mistakes_do_not_count(app, client, db):
    app.config["APPLICATION_RATE_LIMIT"] = "2 per hour"
    assert send(client, contact_email="wrong").status_code == 400  # a mistake, corrected: not counted
    assert send(client, subdomain="first").status_code == 303
    assert send(client, subdomain="second").status_code == 303
    limited = send(client, subdomain="third")
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert db.session.scalar(select(func.count(PartnerApplication.id))) == 2
