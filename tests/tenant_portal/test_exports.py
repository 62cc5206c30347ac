"""Exports: the commitments file (admins only), the counts file (admins and viewers), both in the audit log."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from sqlalchemy import select

from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenant_portal.dashboard import services as exports
from tenant_portal.models import AuditEntry
from tenants.services import signups
from tenants.models import Commitment, Role
from tests.helpers import host

ACME = host("acme")


def today() -> str:
    """Today's date in UTC, as the files name it."""
    return datetime.now(timezone.utc).date().isoformat()


def rows(response) -> list[dict]:
    """A downloaded CSV file as a spreadsheet would read it (the UTF-8 mark dropped)."""
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def audit(db, tenant) -> list[tuple[str, str, str]]:
    with tenant_context(tenant):
        return [(e.action, e.target, e.actor_email) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.at))]


def test_an_admin_downloads_every_commitment_and_it_is_recorded(client, db, make_tenant, make_unit,
                                                                make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    paris = make_unit(acme, "Paris office")
    make_commitment(acme, email="sam@example.org", unit=paris, city="Paris", name="Sam Okafor", verified=True,
                    source=Source.SSO)
    make_commitment(acme, email="ana@example.org", gender=Gender.WOMAN, country="BR")
    with tenant_context(acme):
        signups.withdraw(db.session.scalars(select(Commitment).where(Commitment.country_code == "BR")).one())
        db.session.commit()
    sign_in_as(acme, Role.ADMIN, email="boss@acme.example", client=client)

    response = client.get("/portal/exports/commitments.csv", base_url=ACME)

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed, "made line by line, never the whole file at once"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="acme-commitments-{today()}.csv"')
    sam, ana = rows(response)
    assert {k: sam[k] for k in ("email", "name", "gender", "country", "city", "unit", "source", "verified",
                                "language", "consent_version", "withdrawn")} == {
        "email": "sam@example.org", "name": "Sam Okafor", "gender": "man", "country": "FR", "city": "Paris",
        "unit": "Paris office", "source": "sso", "verified": "yes", "language": "en", "consent_version": "2026-11",
        "withdrawn": ""}
    assert sam["created"].startswith(today())
    assert (ana["email"], ana["gender"], ana["verified"]) == ("ana@example.org", "woman", "no")
    assert ana["withdrawn"].startswith(today()), "withdrawn commitments are listed, with the date"
    assert audit(db, acme) == [("export.commitments", f"acme-commitments-{today()}.csv",
                                "boss@acme.example")]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    with tenant_context(acme):
        # The sign-up form refuses such names; an import or the API might not, so the export must not trust them.
        signups.commit(signups.SignUp(
            email='=HYPERLINK("http://evil.example","click")@example.org', name="=1+2", city="@SUM(A1)",
            gender=Gender.MAN, country_code="FR", language="en", consent_version="+1"))
        signups.commit(signups.SignUp(
            email="-2+3@example.org", name="\tTabbed", city="\rReturn", gender=Gender.MAN, country_code="FR",
            language="en", consent_version="2026-11"))
        db.session.commit()
    sign_in_as(acme, Role.ADMIN, client=client)

    first, second = rows(client.get("/portal/exports/commitments.csv", base_url=ACME))

    assert first["email"] == '\'=HYPERLINK("http://evil.example","click")@example.org'
    assert (first["name"], first["city"], first["consent_version"]) == ("'=1+2", "'@SUM(A1)", "'+1")
    assert (second["email"], second["name"], second["city"]) == ("'-2+3@example.org", "'\tTabbed", "'\rReturn")
    assert exports.neutralise("Sam") == "Sam" and exports.neutralise(None) == ""


def test_a_long_file_is_read_in_batches_and_nothing_is_lost(client, make_tenant, make_commitment, sign_in_as,
                                                            monkeypatch):
    acme = make_tenant("acme", "Acme Corporation")
    emails = [f"person{n}@example.org" for n in range(7)]
    for email in emails:
        make_commitment(acme, email=email)
    monkeypatch.setattr(exports, "EXPORT_BATCH", 2)
    sign_in_as(acme, Role.ADMIN, client=client)
    assert [row["email"] for row in rows(client.get("/portal/exports/commitments.csv", base_url=ACME))] == emails


def test_a_viewer_gets_the_counts_but_not_the_personal_data(client, db, make_tenant, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme, email="sam@example.org")
    sign_in_as(acme, Role.VIEWER, email="viewer@acme.example", client=client)

    page = client.get("/portal/exports", base_url=ACME).get_data(as_text=True)
    assert "Who may download it: admins only." in page and "ask one of your organisation" in page
    assert "/portal/exports/commitments.csv" not in page
    refused = client.get("/portal/exports/commitments.csv", base_url=ACME)
    assert refused.status_code == 403 and b"sam@example.org" not in refused.get_data()
    counts = client.get("/portal/exports/aggregates.csv", base_url=ACME)
    assert counts.status_code == 200
    assert counts.headers["Content-Disposition"] == f'attachment; filename="acme-aggregates-{today()}.csv"'
    assert audit(db, acme) == [("export.aggregates", f"acme-aggregates-{today()}.csv",
                                "viewer@acme.example")]


def test_the_counts_file_applies_the_privacy_threshold(client, make_tenant, make_unit, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    paris = make_unit(acme, "Paris office")
    berlin = make_unit(acme, "Berlin office", country="DE")
    lyon = make_unit(acme, "Lyon office")
    for n in range(5):
        make_commitment(acme, unit=paris, source=Source.SSO)
    make_commitment(acme, unit=berlin, country="DE")
    make_commitment(acme, unit=lyon, country="IT", gender=Gender.WOMAN)
    sign_in_as(acme, Role.ADMIN, client=client)

    counts = rows(client.get("/portal/exports/aggregates.csv", base_url=ACME))

    table = {(row["breakdown"], row["name"]): (row["people"], row["men"]) for row in counts}
    assert table[("unit", "Paris office")] == ("5", "5")
    assert table[("unit", "Groups of fewer than 5 people (2 together)")] == ("2", "1")
    assert table[("country", "France")] == ("5", "5")
    assert table[("country", "Groups of fewer than 5 people (2 together)")] == ("2", "1")
    # The sign-up page's 2 people cannot be shown, and alone they would be "all minus single sign-on".
    assert table[("source", "Groups of fewer than 5 people (2 together)")] == ("7", "6")
    assert table[("day", "Groups of fewer than 5 people (1 together)")] == ("7", "6"), "one day, 6 men and 1 woman"
    assert not any(name in {"Berlin office", "Lyon office", "Germany", "Italy", "Sign-up page", "Single sign-on"}
                   for _, name in table)


def test_another_tenants_data_never_appears_in_a_file(client, make_tenant, make_unit, make_commitment, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=5)
    globex = make_tenant("globex", "Globex", privacy_k=5)
    lab = make_unit(globex, "Globex Lab", country="JP")
    for n in range(6):
        make_commitment(globex, email=f"g{n}@globex.example", unit=lab, country="JP")
    make_commitment(acme, email="sam@example.org")
    sign_in_as(acme, Role.ADMIN, client=client)

    people = client.get("/portal/exports/commitments.csv", base_url=ACME).get_data(as_text=True)
    counts = client.get("/portal/exports/aggregates.csv", base_url=ACME).get_data(as_text=True)

    assert [row["email"] for row in rows(client.get("/portal/exports/commitments.csv", base_url=ACME))] == [
        "sam@example.org"]
    for text in (people, counts):
        assert "globex" not in text.lower() and "Japan" not in text and "JP" not in text
    assert client.get("/portal/exports/commitments.csv", base_url=host("globex")).status_code == 302


def test_the_exports_page_says_what_each_file_holds(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", privacy_k=7)
    assert client.get("/portal/exports", base_url=ACME).location.startswith("/portal/sign-in")
    sign_in_as(acme, Role.MEMBER, client=client)
    assert client.get("/portal/exports", base_url=ACME).status_code == 403
    assert client.get("/portal/exports/aggregates.csv", base_url=ACME).status_code == 403
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/exports", base_url=ACME).get_data(as_text=True)
    assert "No group of fewer than 7 people is listed on its own" in page
    assert "email, name if given, gender, country, city, unit, source" in page
    assert "/portal/exports/commitments.csv" in page and "/portal/exports/aggregates.csv" in page
