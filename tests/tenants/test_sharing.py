"""The thank-you page worth sharing: a personal greeting once, plain share links to the networks' own pages
carrying the sign-up page's address, links to one's commitment and the map."""

import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.helpers import host, sign_up

ACME = host("acme")
LINK = re.compile(r'<a class="share-(\w+)" href="([^"]+)"')


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def share_links(page: str) -> dict[str, str]:
    return {network: html.unescape(href) for network, href in LINK.findall(page)}


def test_the_person_is_thanked_by_first_name_once_and_the_page_is_not_kept(client, acme):
    answer = sign_up(client, "acme", name="Sam Rivera")
    first = client.get(answer.location, base_url=ACME)
    assert "Thank you, Sam</h1>" in first.get_data(as_text=True)
    assert "Rivera" not in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    again = client.get(answer.location, base_url=ACME)
    assert "Thank you</h1>" in again.get_data(as_text=True), "a reload greets no one"
    assert "no-store" not in again.headers.get("Cache-Control", "")


def test_no_name_no_greeting(client, acme):
    page = client.get(sign_up(client, "acme").location, base_url=ACME).get_data(as_text=True)
    assert "Thank you</h1>" in page


def test_someone_else_on_the_page_is_not_greeted(app, client, acme):
    sign_up(client, "acme", name="Sam Rivera")
    other = app.test_client().get("/thanks", base_url=ACME).get_data(as_text=True)
    assert "Sam" not in other


def test_share_links_carry_the_sign_up_address_encoded(client, acme):
    page = client.get("/thanks", base_url=ACME).get_data(as_text=True)
    links = share_links(page)
    address = f"{ACME}/"
    assert set(links) == {"linkedin", "whatsapp", "x", "facebook", "email"}
    linkedin = urlsplit(links["linkedin"])
    assert (linkedin.netloc, linkedin.path) == ("www.linkedin.com", "/sharing/share-offsite/")
    assert parse_qs(linkedin.query) == {"url": [address]}
    whatsapp = urlsplit(links["whatsapp"])
    assert whatsapp.netloc == "wa.me"
    assert parse_qs(whatsapp.query)["text"] == [
        f"I have committed to gender equality with HeForShe at Acme Corporation. Join me: {address}"]
    x = urlsplit(links["x"])
    assert (x.netloc, x.path) == ("x.com", "/intent/post")
    assert parse_qs(x.query)["url"] == [address] and "Acme Corporation" in parse_qs(x.query)["text"][0]
    facebook = urlsplit(links["facebook"])
    assert facebook.netloc == "www.facebook.com" and parse_qs(facebook.query) == {"u": [address]}
    mail = links["email"]
    assert mail.startswith("mailto:?subject=Join%20me%20in%20HeForShe&body=") and "+" not in mail
    assert unquote(mail.split("body=")[1]).endswith(address)
    assert f'value="{address}"' in page, "the address stays visible and selectable without a script"
    assert "<script>" not in page and "linkedin.com/" not in re.sub(r'href="[^"]+"', "", page)


def test_the_movement_shares_its_sign_up_form(client, movement):
    page = client.get("/thanks", base_url=host(None)).get_data(as_text=True)
    assert parse_qs(urlsplit(share_links(page)["linkedin"]).query)["url"] == [f"{host(None)}/commit"]


def test_share_texts_in_the_page_language(client, acme):
    page = client.get("/thanks?lang=fr", base_url=ACME).get_data(as_text=True)
    text = parse_qs(urlsplit(share_links(page)["whatsapp"]).query)["text"][0]
    assert "Acme Corporation" in text and "HeForShe" in text and "I have committed" not in text


def test_links_to_ones_commitment_and_the_map(client, acme):
    page = client.get("/thanks", base_url=ACME).get_data(as_text=True)
    assert 'href="/me"' in page and 'href="/map"' in page
