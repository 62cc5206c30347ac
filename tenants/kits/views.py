"""The action kits' public pages, on every host: the list (``/kits``), each kit (``/kits/<slug>``) and its PDF, in
the site's brand and the page's language.

A kit has one address in each language, ``?lang=`` and nothing else: its page names it as canonical, and its PDF,
which proxies may keep, is served there alone (any other query, or none, is sent there), so that no copy kept for
one visitor's language is served to another's."""

from __future__ import annotations

from babel import Locale
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale

from tenants.kits import pdf, services
from tenants.kits.vocabulary import AUDIENCES, PILLARS

bp = Blueprint("kits", __name__, template_folder="templates")


def _language() -> str:
    return str(get_locale())


@bp.get("/kits")
def index():
    """The kits this site shows, narrowed to one audience or pillar by ``?audience=`` and ``?pillar=``."""
    audience, pillar = request.args.get("audience", ""), request.args.get("pillar", "")
    audience, pillar = (audience if audience in AUDIENCES else ""), (pillar if pillar in PILLARS else "")
    kits = [kit for kit in services.shown_kits(_language())
            if audience in ("", kit.audience) and pillar in ("", kit.pillar)]
    return render_template("kits/index.html", kits=kits, audience=audience, pillar=pillar, audiences=AUDIENCES,
                           pillars=PILLARS)


def _kit(slug: str) -> services.KitPage:
    return services.find_page(slug, _language()) or abort(404)


@bp.get("/kits/<kit_slug>")
def show(kit_slug: str):
    """A kit's page; in English, saying so, where it has no translation in the page's language yet."""
    kit = _kit(kit_slug)
    return render_template("kits/kit.html", kit=kit, **_context(kit))


@bp.get("/kits/<kit_slug>.pdf")
def kit_pdf(kit_slug: str):
    """A kit as a PDF to print or send, in the site's brand and the page's language."""
    kit = _kit(kit_slug)
    brand, language = services.brand(), _language()
    if request.args.to_dict(flat=False) != {"lang": [language]}:
        return redirect(url_for("kits.kit_pdf", kit_slug=kit.slug, lang=language))
    g.language_not_chosen = True  # the language names the PDF: no cookie on a response proxies keep
    address = url_for("kits.show", kit_slug=kit.slug, lang=language, _external=True)
    document, etag = pdf.cached(("kit", kit.fingerprint, brand.fingerprint, language, address), lambda: render_template(
        "kits/pdf/kit.html", kit=kit, brand=brand, address=address, **_context(kit)))
    response = current_app.response_class(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{kit.slug}-{language}.pdf"'
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)


def _context(kit: services.KitPage) -> dict:
    """What a kit's page and PDF both say about it: its labels, and whether its words are in another language."""
    locale = get_locale()
    return {"audiences": AUDIENCES, "pillars": PILLARS, "other_language": kit.language != str(locale),
            "kit_language": Locale.parse(kit.language).get_display_name(locale),
            "page_language": locale.get_display_name(locale), "kit_dir": "rtl" if kit.language == "ar" else "ltr"}
