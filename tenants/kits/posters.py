"""Event posters: a page to print, in the site's brand and one language, whose QR code opens the sign-up page, with
a unit chosen already when the poster is a unit's (its sign-up link, ``/units/<id>``)."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from tenants.kits import pdf
from tenants.kits.services import brand
from tenants.models import Tenant, Unit
from tenants.services import public


def signup_address(unit: Unit | None, language: str) -> str:
    """Where a poster's code leads: the sign-up page (the unit's own, which chooses it), in the poster's language."""
    if unit is not None:
        return url_for("tenants.unit_signup", unit_id=unit.id, lang=language, _external=True)
    return url_for("core.home", lang=language, _external=True)


def qr_code(address: str) -> segno.QRCode:
    """The QR code of an address; error correction M still reads when a corner of a poster is torn or marked."""
    return segno.make(address, error="m", micro=False)


def qr_svg(address: str) -> bytes:
    """The code as an SVG file, black on white, with the quiet zone readers need around it."""
    return qr_code(address).svg_inline(scale=10, border=4, dark="#000", light="#fff").encode()


@dataclass(frozen=True)
class Poster:
    """What a poster says besides the organisation's pledge: the event, when and where, and the unit."""

    language: str
    event: str | None = None
    details: str | None = None
    unit: Unit | None = None


def poster_pdf(tenant: Tenant, poster: Poster) -> tuple[bytes, str]:
    """The poster's PDF and ETag, drawn once per everything it shows."""
    address = signup_address(poster.unit, poster.language)
    texts = public.tenant_texts(poster.language)
    with force_locale(poster.language):
        headline = (texts.headline if texts and texts.headline else None) or _(
            "Join %(name)s in HeForShe", name=tenant.name)
        site_brand = brand()
        key = ("poster", site_brand.fingerprint, headline, poster.event, poster.details,
               poster.unit.name if poster.unit else None, address, poster.language)
        return pdf.cached(key, lambda: render_template(
            "kits/pdf/poster.html", brand=site_brand, headline=headline, poster=poster, address=address,
            qr=qr_code(address).svg_data_uri(scale=10, border=4, dark="#000", light="#fff")))
