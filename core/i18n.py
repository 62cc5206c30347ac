"""Language choice and locale-aware helpers shared by every page."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry
from babel import Locale
from flask import g, has_request_context, request
from flask_babel import get_locale

LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")
LANGUAGE_COOKIE = "lang"


def available_languages() -> list[str]:
    """The languages offered on this host: the tenant's enabled ones, or all six on the global site."""
    tenant = g.get("tenant")
    if tenant is None:
        return list(LANGUAGES)
    return [code for code in tenant.enabled_languages if code in LANGUAGES] or [tenant.default_language]


def select_locale() -> str:
    """An explicit choice (``?lang=``, then the remembered cookie), else Accept-Language, else the default.

    Outside a request (an operator command echoing a refused setting) texts are in English.
    """
    if not has_request_context():
        return "en"
    offered = available_languages()
    for choice in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if choice in offered:
            return choice
    tenant = g.get("tenant")
    default = tenant.default_language if tenant is not None and tenant.default_language in offered else offered[0]
    return request.accept_languages.best_match(offered, default=default)


def remember_language(response):
    """Keep an explicit ``?lang=`` choice for the next visits (host-only cookie, one year); not where the
    language names a resource rather than the visitor's choice (``g.language_not_chosen``: the share card)."""
    choice = request.args.get("lang")
    if choice and choice in available_languages() and not g.get("language_not_chosen"):
        response.set_cookie(LANGUAGE_COOKIE, choice, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def text_direction() -> str:
    """``rtl`` for Arabic, ``ltr`` otherwise."""
    return get_locale().text_direction


@lru_cache(maxsize=None)
def _country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code."""
    return code in _country_codes()


def _sort_key(name: str) -> str:
    # Accents sort with their base letter (Åland with A, Réunion with R).
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


@lru_cache(maxsize=16)
def _country_names(locale_code: str) -> dict[str, str]:
    locale = Locale.parse(locale_code)
    names = {code: locale.territories.get(code) or pycountry.countries.get(alpha_2=code).name
             for code in _country_codes()}
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def country_choices() -> list[tuple[str, str]]:
    """(code, name) for every country, named and sorted in the page's language."""
    return list(_country_names(str(get_locale())).items())


def country_name(code: str) -> str:
    """A country's name in the page's language."""
    return _country_names(str(get_locale())).get(code, code)


@lru_cache(maxsize=None)
def language_name(code: str) -> str:
    """A language's name in that language (what a reader of it looks for in a switcher)."""
    return Locale.parse(code).display_name
