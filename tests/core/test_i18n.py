"""Every page in the six UN languages: the choice of language, right to left, complete catalogs."""

from pathlib import Path

import lxml.html
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale, pgettext

from core.i18n import LANGUAGES
from tenants.models import Role
from tests.helpers import host, sign_up

ROOT = Path(__file__).resolve().parents[2]
SIGN_UP_HEADLINE = {
    "en": "Join Acme in HeForShe",
    "fr": "Rejoignez Acme au sein du mouvement HeForShe",
    "es": "Únase a Acme en HeForShe",
    "ar": "انضم إلى Acme في حركة HeForShe",
    "zh": "与Acme一起加入HeForShe",
    "ru": "Acme приглашает вас присоединиться к движению HeForShe",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_up_page_is_translated(client, make_tenant, language):
    make_tenant("acme", "Acme")
    page = client.get(f"/?lang={language}", base_url=host("acme")).get_data(as_text=True)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page
    assert SIGN_UP_HEADLINE[language] in page


@pytest.mark.parametrize("language,thanks", [("fr", "Merci"), ("ar", "شكرًا"), ("zh", "感谢您"), ("ru", "Спасибо")])
def test_the_thank_you_page_is_translated(client, make_tenant, language, thanks):
    make_tenant("acme", "Acme")
    client.get(f"/?lang={language}", base_url=host("acme"))
    response = sign_up(client, "acme")
    page = client.get(response.headers["Location"], base_url=host("acme")).get_data(as_text=True)
    assert f"<h1>{thanks}" in page


def test_a_chosen_language_is_remembered(client, make_tenant):
    make_tenant("acme", "Acme")
    client.get("/?lang=es", base_url=host("acme"))
    page = client.get("/", base_url=host("acme"), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="es"' in page


def test_the_browser_language_is_used_within_the_tenants_languages(client, make_tenant):
    make_tenant("acme", "Acme", enabled_languages=["en", "fr"], default_language="fr")
    page = lambda accept: client.get("/", base_url=host("acme"), headers={"Accept-Language": accept}).get_data(
        as_text=True)
    assert '<html lang="en"' in page("en-GB,en;q=0.9")
    assert '<html lang="fr"' in page("ru, zh;q=0.8"), "neither is enabled: the tenant's default"
    assert '<html lang="fr"' in page("")
    assert '<html lang="fr"' in client.get("/?lang=ru", base_url=host("acme")).get_data(as_text=True)


def test_country_names_follow_the_page_language(client, make_tenant):
    make_tenant("acme", "Acme")
    assert '<option value="DE">Allemagne</option>' in client.get("/?lang=fr", base_url=host("acme")).get_data(
        as_text=True)
    assert '<option value="DE">ألمانيا</option>' in client.get("/?lang=ar", base_url=host("acme")).get_data(
        as_text=True)


def test_validation_messages_are_translated(client, make_tenant):
    make_tenant("acme", "Acme")
    client.get("/?lang=fr", base_url=host("acme"))
    page = sign_up(client, "acme", email="").get_data(as_text=True)
    assert "Veuillez saisir votre adresse électronique." in page


def _extracted_messages() -> set[tuple[str | None, str]]:
    """Every (context, msgid) the code and templates ask for."""
    method_map = [("**/.venv/**", "ignore"), ("**/tests/**", "ignore"), ("**.py", "python"),
                  ("**/templates/**.html", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
                "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
    found = set()
    for directory in ("core", "tenants", "tenant_portal", "billing", "operator_console"):
        for _, _, message, _, context in extract_from_dir(ROOT / directory, method_map, keywords=keywords):
            found.add((context, message if isinstance(message, str) else message[0]))
    return found


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated(language):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", encoding="utf-8") as po:
        catalog = read_po(po, locale=language)
    translated = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
                  if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = _extracted_messages() - translated
    assert not missing, f"untranslated in {language} (run pybabel extract/update and translate): {sorted(missing)}"


@pytest.mark.parametrize("language, msgid, senses", [
    ("fr", "Import", {"a button": "Importer", "how people committed": "Importation"}),
    ("fr", "What", {"what a column of a file holds": "Contenu", "the action in an audit log": "Action"}),
    ("ru", "Site", {"the website": "Сайт", "a place of work": "Площадка"}),
])
def test_a_word_with_two_senses_is_translated_for_each(app, language, msgid, senses):
    with app.test_request_context(f"/?lang={language}"), force_locale(language):
        assert {context: pgettext(context, msgid) for context in senses} == senses


def test_the_units_kinds_and_the_file_columns_read_as_places_and_contents(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation", enabled_languages=["en", "ru", "fr"])
    sign_in_as(acme, Role.ADMIN, client=client)
    units = lxml.html.fromstring(client.get("/portal/units/new?lang=ru", base_url=host("acme")).get_data(as_text=True))
    assert "Площадка" in units.xpath("//select[@name='kind']//option/text()")
    assert "Сайт" not in units.xpath("//select[@name='kind']//option/text()")
    columns = lxml.html.fromstring(client.get("/portal/units/import?lang=fr", base_url=host("acme")).get_data(
        as_text=True))
    assert columns.xpath("//thead//th/text()") == ["Colonne", "Contenu"]
