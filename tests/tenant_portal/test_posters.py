"""Posters from the Units page: a unit's poster, whose QR code (read back by zbarimg from the page pdftoppm draws)
opens the sign-up page with the unit chosen, and an event poster in the language asked for."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pdfplumber
import pytest

from tenants.models import Role
from tests.conftest import cannot_run
from tests.helpers import csrf_token, host

ACME = host("acme")


@pytest.fixture
def acme(client, make_tenant, make_unit, sign_in_as, weasyprint):
    """Acme, its Paris office, and its admin signed in; the tools that read a poster back."""
    for tool, package in (("pdftoppm", "poppler-utils"), ("zbarimg", "zbar-tools")):
        if shutil.which(tool) is None:
            cannot_run("pdf", f"needs {tool} (apt-get install {package})")
    tenant = make_tenant("acme", "Acme Corporation")
    sign_in_as(tenant, Role.ADMIN, client=client)
    return tenant, make_unit(tenant, "Paris office")


def read_poster(document: bytes, folder) -> tuple[str, str]:
    """The poster's text (its lines joined), and the address its QR code holds."""
    with pdfplumber.open(io.BytesIO(document)) as pdf:
        assert len(pdf.pages) == 1, "a poster is one page"
        text = " ".join(pdf.pages[0].extract_text().split())
    (folder / "poster.pdf").write_bytes(document)
    subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", "-singlefile", str(folder / "poster.pdf"),
                    str(folder / "poster")], check=True)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(folder / "poster.png")], capture_output=True,
                             text=True, check=True).stdout
    return text, decoded.strip()


def test_a_units_poster_opens_the_sign_up_page_with_the_unit_chosen(client, acme, tmp_path):
    _tenant, paris = acme
    units = client.get("/portal/units?lang=fr", base_url=ACME).get_data(as_text=True)
    assert f'href="/portal/units/{paris.id}/poster.pdf"' in units and f"/portal/units/{paris.id}/qr.svg" in units
    poster = client.get(f"/portal/units/{paris.id}/poster.pdf", base_url=ACME)
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    text, address = read_poster(poster.data, tmp_path)
    assert address == f"http://acme.hfs.test/units/{paris.id}?lang=fr"
    assert "Rejoignez Acme Corporation" in text and "Paris office" in text and "Scannez le code" in text
    scanned = client.application.test_client().get(address.removeprefix(ACME), base_url=ACME)
    page = scanned.get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert re.search(rf'<option selected value="{paris.id}">Paris office</option>', page), "the unit is chosen"
    code = client.get(f"/portal/units/{paris.id}/qr.svg", base_url=ACME)
    assert code.mimetype == "image/svg+xml" and code.data.startswith(b"<svg")


def test_an_event_poster_says_what_when_and_where_in_its_language(client, acme, tmp_path):
    page = client.get("/portal/units/poster", base_url=ACME).get_data(as_text=True)
    poster = client.post("/portal/units/poster", base_url=ACME, data={
        "csrf_token": csrf_token(page), "event": "Desayuno HeForShe", "details": "12 de marzo, 8:30, sala principal",
        "unit": "", "language": "es"})
    assert poster.status_code == 200 and poster.headers["Content-Disposition"].startswith("attachment")
    text, address = read_poster(poster.data, tmp_path)
    assert address == "http://acme.hfs.test/?lang=es"
    assert "Únase a Acme Corporation en HeForShe" in text and "Desayuno HeForShe" in text
    assert "12 de marzo, 8:30, sala principal" in text and "Escanee el código" in text


def test_an_event_poster_of_another_tenants_unit_is_refused(client, acme, make_tenant, make_unit):
    globex_unit = make_unit(make_tenant("globex", "Globex"), "Cairo office", country="EG")
    page = client.get("/portal/units/poster", base_url=ACME).get_data(as_text=True)
    refused = client.post("/portal/units/poster", base_url=ACME, data={
        "csrf_token": csrf_token(page), "unit": str(globex_unit.id), "language": "en", "event": "=HYPERLINK(1)"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert "Cairo" not in body and "Please do not start with =, +, - or @." in body
