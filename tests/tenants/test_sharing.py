"""The thank-you page worth sharing: a personal greeting once, plain share links to the networks' own pages
carrying the sign-up page's address, links to one's commitment and the map."""

import html
import io
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask_babel import force_locale, gettext
from PIL import Image, ImageDraw, features

from core import maps, page_cache
from tenants.services import share_card
from tests.conftest import cannot_run
from tests.helpers import host, sign_up

ACME = host("acme")
LINK = re.compile(r'<a class="share-(\w+)" href="([^"]+)"')


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def share_links(page: str) -> dict[str, str]:
    return {network: html.unescape(href) for network, href in LINK.findall(page)}


def test_the_person_is_thanked_by_first_name_once_and_the_page_is_not_kept(app, client, acme):
    answer = sign_up(client, "acme", name="Sam Rivera")
    first = client.get(answer.location, base_url=ACME)
    assert "Thank you, Sam</h1>" in first.get_data(as_text=True)
    assert "Rivera" not in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    again = client.get(answer.location, base_url=ACME)
    assert "Thank you</h1>" in again.get_data(as_text=True), "a reload greets no one"
    assert again.headers["Cache-Control"] == "no-store", "it still holds the person's plan (tenants/actions)"
    shared = app.test_client().get(answer.location, base_url=ACME)
    assert "no-store" not in shared.headers.get("Cache-Control", ""), "the address shared is everyone's page"


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


# The share card


def card(client, base_url=ACME, lang="en", **headers):
    return client.get(f"/share-card.png?lang={lang}", base_url=base_url, headers=headers)


def picture(response) -> Image.Image:
    assert (response.status_code, response.mimetype) == (200, "image/png")
    image = Image.open(io.BytesIO(response.get_data()))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    return image


@pytest.fixture
def fonts():
    for path in (share_card.LATIN_FONT, share_card.CHINESE_FONT):
        if not path.exists():
            cannot_run("fonts", f"needs {path} (apt-get install fonts-dejavu-core fonts-wqy-microhei)")
    if not features.check("raqm"):
        cannot_run("fonts", "needs libraqm for Arabic (apt-get install libraqm0)")


def test_the_card_is_a_picture_per_tenant_and_language(client, acme, make_tenant, fonts):
    make_tenant("globex", "Globex", primary_color="#1d4ed8")
    english = picture(card(client))
    assert english.convert("RGB").getpixel((5, 5)) == (0x5b, 0x2a, 0x86), "in the tenant's colour"
    assert picture(card(client, host("globex"))).tobytes() != english.tobytes()
    assert picture(card(client, lang="fr")).tobytes() != english.tobytes()


def test_the_card_is_kept_and_sets_no_language(client, acme, fonts):
    first = card(client, lang="fr")
    assert first.headers["Cache-Control"] == "public, max-age=3600" and first.headers["ETag"]
    assert "Set-Cookie" not in first.headers, "a crawler's language is nobody's choice"
    assert card(client, lang="fr", **{"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_an_unknown_language_gives_the_default_card(client, acme, fonts):
    assert picture(card(client, lang="xx")).tobytes() == picture(card(client, lang="en")).tobytes()
    assert card(client, lang="../ar").status_code == 200


def test_the_movement_has_its_card(client, movement, fonts):
    picture(card(client, host(None)))


def glyphs_drawn(text: str) -> None:
    """Every letter of ``text`` is drawn by the font the card picks for it, none as the empty box (tofu)."""
    face = share_card.font(text, 72)

    def drawn(letter: str) -> bytes:
        image = Image.new("L", (200, 200))
        ImageDraw.Draw(image).text((50, 50), letter, font=face, fill=255)
        return image.tobytes()

    tofu = drawn("\U0010fffd")
    for letter in set(text) - {" "}:
        left, top, right, bottom = face.getbbox(letter)
        assert right > left and bottom > top, letter
        assert drawn(letter) != tofu, f"{letter!r} has no glyph in {share_card.font_path(text)}"


@pytest.mark.parametrize("language", ["ar", "zh", "ru"])
def test_cards_in_other_scripts_draw_every_letter(client, acme, fonts, language):
    with force_locale(language):
        headline = gettext("Join %(name)s in HeForShe", name="Acme Corporation")
    assert "Join" not in headline
    glyphs_drawn(headline)
    assert picture(card(client, lang=language)).tobytes() != picture(card(client)).tobytes()


def test_arabic_is_set_right_to_left(client, acme, fonts):
    image = picture(card(client, lang="ar")).convert("RGB")
    background = image.getpixel((5, 5))
    headline_rows = [(x, y) for y in range(200, 330, 4) for x in range(0, 1200, 4)
                     if image.getpixel((x, y)) != background]
    assert max(x for x, _ in headline_rows) > 1050 and min(x for x, _ in headline_rows) > 80


def test_share_meta_points_at_the_card(client, acme):
    for path in ("/", "/thanks"):
        page = client.get(f"{path}?lang=ar", base_url=ACME).get_data(as_text=True)
        assert f'<meta property="og:image" content="{ACME}/share-card.png?lang=ar">' in page
        assert '<meta property="og:locale" content="ar_AR">' in page
        assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta property="og:url" content="{ACME}/">' in client.get("/thanks", base_url=ACME).get_data(as_text=True)


def test_the_kept_sign_up_page_names_its_own_host(app, client, acme):
    app.config["PAGE_CACHE_SECONDS"] = 1
    page_cache.init_app(app)  # pages kept for a second, as in production
    client.get("/", base_url=ACME)
    other = client.get("/", base_url=f"{ACME}:8080").get_data(as_text=True)
    assert f'content="{ACME}:8080/share-card.png?lang=en"' in other


# One's place on the map


def test_the_person_sees_their_country_on_a_small_map_once(client, acme):
    answer = sign_up(client, "acme", country="EG")
    first = client.get(answer.location, base_url=ACME)
    page = first.get_data(as_text=True)
    assert "You are on the map, in Egypt." in page and '<path class="my-country" d="M' in page
    assert first.headers["Cache-Control"] == "no-store"
    assert 'class="my-marker"' in page and "<script" not in page.split('class="my-place"')[1].split("</figure>")[0]
    assert "You are on the map" not in client.get(answer.location, base_url=ACME).get_data(as_text=True)


def test_a_country_outline_fits_its_box_and_unknown_codes_have_none():
    assert maps.country_outline("XX") is None and maps.country_outline("\x00") is None
    france = maps.country_outline("FR")
    assert france["path"].startswith("M") and 0 < france["x"] < 200 and 0 < france["y"] < 120
