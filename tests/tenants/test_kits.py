"""Action kits on the public pages: the starter set, what each site lists, the English fallback, safe bodies, and the
PDF kept per kit, brand and language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.i18n import LANGUAGES
from core.tenancy import tenant_context
from tenants.kits import pdf
from tenants.kits import services as kits
from tenants.kits.models import Kit
from tenants.kits.vocabulary import AUDIENCES, PILLARS
from tenants.models import TenantKind
from tests.helpers import host

#: The kits other pages link to by address, with their audience and pillar.
LINKED = {
    "equal-pay-conversation": ("corporation", "economic"), "share-the-care": ("individual", "economic"),
    "balanced-panels": ("government", "leadership"), "women-at-the-table": ("un", "peace"),
    "speak-up": ("individual", "violence"), "safe-campus": ("university", "violence"),
    "community-circles": ("ngo", "leadership"), "peace-starts-at-home": ("individual", "peace"),
}


@pytest.fixture
def starter(app, db):
    """The starter kits, loaded as `make run` loads them."""
    result = app.test_cli_runner().invoke(args=["kits", "load-starter"])
    assert result.exit_code == 0, result.output
    return result


def listed(client, base_url: str, query: str = "") -> list[str]:
    page = client.get(f"/kits{query}", base_url=base_url).get_data(as_text=True)
    return re.findall(r'<h2[^>]*><a href="/kits/([^"]+)"', page)


def test_the_starter_set_is_loaded_once_and_covers_every_audience_and_pillar_in_six_languages(app, db, starter):
    assert "8 created, 48 translations added" in starter.output
    again = app.test_cli_runner().invoke(args=["kits", "load-starter"])
    assert "0 created, 0 translations added" in again.output
    found = db.session.scalars(select(Kit)).all()
    assert {kit.slug: (kit.audience, kit.pillar) for kit in found} == LINKED
    assert {kit.audience for kit in found} == set(AUDIENCES) and {kit.pillar for kit in found} == set(PILLARS)
    for kit in found:
        assert kit.published and sorted(t.language for t in kit.translations) == sorted(LANGUAGES)
        for text in kit.translations:
            headings, steps = re.findall(r"^## ", text.body, re.M), re.findall(r"^\d\. \*\*", text.body, re.M)
            assert len(headings) == 3 and 3 <= len(steps) <= 5, (kit.slug, text.language)
        words = len(kit.text("en").body.split())
        assert 150 <= words <= 300, (kit.slug, words)


def test_an_operators_edit_survives_loading_the_starter_set_again(app, db, starter):
    kit = db.session.scalars(select(Kit).where(Kit.slug == "speak-up")).one()
    kit.text("fr").title = "Intervenez face au harcèlement"
    kit.published = False
    db.session.commit()
    app.test_cli_runner().invoke(args=["kits", "load-starter"])
    db.session.expire_all()
    kit = db.session.scalars(select(Kit).where(Kit.slug == "speak-up")).one()
    assert (kit.text("fr").title, kit.published) == ("Intervenez face au harcèlement", False)


def test_each_site_lists_the_kits_for_its_kind_until_its_admins_choose(client, make_tenant, starter):
    make_tenant("acme", "Acme Corporation")
    make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    assert sorted(listed(client, host())) == sorted(LINKED), "the global site lists every kit"
    assert sorted(listed(client, host("acme"))) == [
        "equal-pay-conversation", "peace-starts-at-home", "share-the-care", "speak-up"]
    assert sorted(listed(client, host("northfield"))) == [
        "peace-starts-at-home", "safe-campus", "share-the-care", "speak-up"]
    assert listed(client, host(), "?pillar=peace&audience=un") == ["women-at-the-table"]
    assert client.get("/kits/balanced-panels", base_url=host("acme")).status_code == 200, "not listed, still found"


def test_a_kit_is_shown_in_the_page_language_with_its_labels(client, starter):
    page = client.get("/kits/speak-up?lang=ar", base_url=host()).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "<h1>ارفع صوتك في وجه التحرش</h1>" in page
    assert "<li>الأفراد</li>" in page and "<li>إنهاء العنف</li>" in page
    assert "غير مترجمة" not in page


def test_a_missing_translation_shows_the_english_text_and_says_so(client, db):
    kits.save_kit(None, "allies-at-work", "corporation", "leadership", True, {
        "en": kits.KitText("Be an ally at work", "Back women colleagues.", "## Steps\n\n1. **Listen.** Then act.")})
    db.session.commit()
    page = client.get("/kits/allies-at-work?lang=fr", base_url=host()).get_data(as_text=True)
    assert "Ce kit n'est pas encore traduit en français : le voici en anglais." in page
    assert '<h1 lang="en" dir="ltr">Be an ally at work</h1>' in page, "read out as English"
    listing = client.get("/kits?lang=fr", base_url=host()).get_data(as_text=True)
    assert '<h2 lang="en" dir="ltr"><a href="/kits/allies-at-work">Be an ally at work</a></h2>' in listing


def test_unpublished_kits_are_not_found(client, db):
    kits.save_kit(None, "draft", "ngo", "peace", False, {"en": kits.KitText("Draft", "Not yet.", "Soon.")})
    db.session.commit()
    assert client.get("/kits/draft", base_url=host()).status_code == 404
    assert client.get("/kits/draft.pdf", base_url=host()).status_code == 404
    assert listed(client, host()) == []


def test_a_body_keeps_its_structure_and_loses_anything_active(client, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    with tenant_context(acme):
        kits.add_own(kits.OwnKit("corporation", "violence", "en", kits.KitText(
            "Safe at Acme", "Where to get help.",
            "# Help\n\n<script>alert(1)</script>\n\n1. **Call** [HR](https://hr.acme.example)\n"
            "2. [this](javascript:alert(2)) ![x](https://tracker.example/pixel.png)\n\n"
            "<img src=x onerror=alert(3)>"), "Security desk: 555 0100\nhr@acme.example", True))
        db.session.commit()
    page = client.get("/kits/safe-at-acme", base_url=host("acme")).get_data(as_text=True)
    assert "<h2>Help</h2>" in page and "<strong>Call</strong>" in page
    assert '<a href="https://hr.acme.example" rel="noopener noreferrer nofollow">HR</a>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    main = page.split("<main")[1]
    assert 'href="javascript' not in main and "<img" not in main and "tracker.example" not in main
    assert "&lt;img src=x onerror=alert(3)&gt;" in main, "typed markup shows as text"
    assert "Security desk: 555 0100\nhr@acme.example" in page
    assert "<li>From Acme Corporation</li>" in page


def test_the_pdf_is_kept_per_kit_brand_and_language_and_revalidated(client, db, make_tenant, starter, weasyprint):
    make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    first = client.get("/kits/speak-up.pdf?lang=fr", base_url=host("acme"))
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["Content-Disposition"] == 'inline; filename="speak-up-fr.pdf"'
    again = client.get("/kits/speak-up.pdf?lang=fr", base_url=host("acme"),
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other_brand = client.get("/kits/speak-up.pdf?lang=fr", base_url=host())
    other_language = client.get("/kits/speak-up.pdf?lang=es", base_url=host("acme"))
    assert len({first.headers["ETag"], other_brand.headers["ETag"], other_language.headers["ETag"]}) == 3


def test_a_kit_has_one_address_in_each_language_and_its_pdf_is_served_there_alone(client, make_tenant, starter,
                                                                                   weasyprint):
    make_tenant("acme", "Acme Corporation")
    page = client.get("/kits/speak-up", base_url=host("acme"), headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert f'<link rel="canonical" href="{host("acme")}/kits/speak-up?lang=fr">' in text
    assert 'href="/kits/speak-up.pdf?lang=fr"' in text
    for query in ("", "?lang=de", "?lang=fr&utm_source=crawler", "?lang=fr&lang=es"):
        moved = client.get(f"/kits/speak-up.pdf{query}", base_url=host("acme"), headers={"Accept-Language": "fr"})
        assert moved.status_code == 302 and moved.location == "/kits/speak-up.pdf?lang=fr", query
    served = client.get("/kits/speak-up.pdf?lang=fr", base_url=host("acme"))
    assert served.status_code == 200 and served.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in served.headers, "a copy proxies keep sets nobody's language"


def test_the_pdfs_a_worker_keeps_stay_under_their_bound_in_bytes_however_many_are_asked_for(monkeypatch):
    """A crawler asking for every kit × language × site × variant: the worker keeps the newest, within the bound."""
    drawn = []

    def draw(html: str) -> bytes:
        drawn.append(html)
        return html.encode().ljust(1024 * 1024, b" ")  # 1 MiB each

    monkeypatch.setattr(pdf, "render", draw)
    pdf._kept.clear()
    try:
        for n in range(60):
            pdf.cached(("kit", n), lambda n=n: f"kit {n}")
        assert sum(len(document) for document, _ in pdf._kept.values()) <= 16 * 1024 * 1024, "60 MiB asked for"
        newest, _ = pdf.cached(("kit", 59), lambda: "drawn again")
        assert newest.startswith(b"kit 59") and len(drawn) == 60, "the newest is served as kept"
        huge, _ = pdf.cached(("kit", "huge"), lambda: "x" * (pdf.MAX_KEPT_BYTES + 1))
        assert len(huge) == pdf.MAX_KEPT_BYTES + 1, "one larger than the bound is served, not kept"
        assert ("kit", "huge") not in pdf._kept and ("kit", 59) in pdf._kept
    finally:
        pdf._kept.clear()
