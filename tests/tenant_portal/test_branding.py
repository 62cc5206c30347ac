"""Branding: logo and favicon, colours and their contrast, texts, languages, listing, custom domains."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import expect
from sqlalchemy import select

from core.i18n import LANGUAGES
from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenants.kits import pdf
from tenants.models import Role, Tenant, TenantHostname
from tests.helpers import BASE_DOMAIN, csrf_token, host

ACME = host("acme")
CUSTOM = "http://join.acme.example"


def branding_page(client, base_url=ACME) -> str:
    response = client.get("/portal/branding", base_url=base_url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def branding_form(page: str, **changes) -> dict:
    """What the branding form sends when the admin leaves everything but ``changes`` as it is."""
    form = {"csrf_token": csrf_token(page), "primary_color": "#5b2a86", "accent_color": "#00758d",
            "enabled_languages": list(LANGUAGES), "default_language": "en", "listed": "y"}
    return {key: value for key, value in (form | changes).items() if value is not None}


def audit_actions(db, tenant) -> list[str]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at, AuditEntry.id)))


def stored(db, slug: str) -> Tenant:
    db.session.expire_all()
    return db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one()


def image_bytes(kind: str = "PNG", size=(120, 60), mode="RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 90) if mode == "RGB" else (200, 30, 90, 128)).save(buffer, kind, **save)
    return buffer.getvalue()


def upload(client, page: str, what: str, data: bytes, filename: str):
    return client.post(f"/portal/branding/{what}", base_url=ACME, content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(page), what: (io.BytesIO(data), filename)})


@pytest.fixture
def acme_admin(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    return acme


# Colours, texts, languages, listing -------------------------------------------------------------------


def test_saved_colours_and_texts_show_on_the_sign_up_page_at_once(client, db, acme_admin):
    page = branding_page(client)
    saved = client.post("/portal/branding", base_url=ACME, data=branding_form(
        page, primary_color="#1F4E8C", accent_color="#005a70",
        **{"texts_en-headline": "Acme stands for equality", "texts_en-thank_you_text": "Thank you, colleague!",
           "texts_fr-headline": "Acme s'engage pour l'égalité"}))
    assert saved.status_code == 303 and saved.location == "/portal/branding"
    assert "The branding is saved" in branding_page(client)

    signup = client.get("/", base_url=ACME).get_data(as_text=True)
    assert "Acme stands for equality" in signup
    assert "I commit to take action against gender bias" in signup  # no commitment text written: the standard one
    css = client.get("/brand.css", base_url=ACME).get_data(as_text=True)
    assert "--brand-primary: #1f4e8c" in css and "--brand-accent: #005a70" in css
    assert "Thank you, colleague!" in client.get("/thanks", base_url=ACME).get_data(as_text=True)
    assert "Acme s&#39;engage pour l&#39;égalité" in client.get("/?lang=fr", base_url=ACME).get_data(as_text=True)
    assert audit_actions(db, acme_admin) == ["branding.colors", "branding.texts", "branding.texts"]


def test_the_preview_shows_the_saved_wording_and_colours_without_javascript(client, acme_admin):
    page = branding_page(client)
    client.post("/portal/branding", base_url=ACME, data=branding_form(
        page, primary_color="#1f4e8c", **{"texts_en-commitment_text": "We will close the pay gap."}))
    page = branding_page(client)
    preview = page[page.index("data-brand-preview"):page.index("Save branding")]
    assert 'fill="#1f4e8c"' in preview
    assert "We will close the pay gap." in preview
    assert "Join Acme Corporation in HeForShe" in preview  # no headline of its own: the standard one
    assert "8.3:1" in page  # white on #1f4e8c


def test_colours_below_aa_are_saved_with_a_warning(client, db, acme_admin):
    page = branding_page(client)
    saved = client.post("/portal/branding", base_url=ACME, data=branding_form(page, primary_color="#d46a00"),
                        follow_redirects=True)
    text = saved.get_data(as_text=True)
    assert "White header text on the primary colour: the contrast is 3.5:1, below the 4.5:1" in text
    assert stored(db, "acme").primary_color == "#d46a00"


@pytest.mark.parametrize("changes, message", [
    ({"primary_color": "#ff8c00"}, "White header text on the primary colour: the contrast is only 2.3:1"),
    ({"accent_color": "#c0c0c0"}, "Links in the accent colour on white: the contrast is only 1.8:1"),
    ({"primary_color": "purple"}, "Please give a colour as # followed by six hexadecimal digits"),
    ({"primary_color": "#12345"}, "Please give a colour as # followed by six hexadecimal digits"),
    ({"default_language": "ru", "enabled_languages": ["en", "fr"]}, "The default language must be one of the enabled"),
    ({"enabled_languages": None}, "Please keep at least one language."),
    ({"texts_en-headline": "x" * 201}, "Field cannot be longer than 200 characters."),
])
def test_bad_branding_is_explained_and_nothing_is_written(client, db, acme_admin, changes, message):
    page = branding_page(client)
    refused = client.post("/portal/branding", base_url=ACME, data=branding_form(
        page, listed=None, **{"texts_fr-headline": "Ne pas enregistrer"}, **changes))
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    acme = stored(db, "acme")
    assert (acme.primary_color, acme.accent_color, acme.listed, acme.enabled_languages) == (
        "#5b2a86", "#00758d", True, list(LANGUAGES))
    assert "Ne pas enregistrer" not in client.get("/?lang=fr", base_url=ACME).get_data(as_text=True)
    assert audit_actions(db, acme_admin) == []


def test_languages_and_listing(client, db, acme_admin):
    page = branding_page(client)
    saved = client.post("/portal/branding", base_url=ACME, data=branding_form(
        page, enabled_languages=["fr", "es"], default_language="fr", listed=None))
    assert saved.status_code == 303
    acme = stored(db, "acme")
    assert (acme.enabled_languages, acme.default_language, acme.listed) == (["fr", "es"], "fr", False)
    signup = client.get("/", base_url=ACME).get_data(as_text=True)
    assert '<html lang="fr"' in signup
    assert 'hreflang="ru"' not in signup
    assert "Acme Corporation" not in client.get("/", base_url=host()).get_data(as_text=True)
    page = branding_page(client)
    assert 'id="texts_fr-headline"' in page and 'id="texts_en-headline"' not in page  # texts of enabled ones only
    assert audit_actions(db, acme_admin) == ["branding.languages", "branding.listed"]


# Logo and favicon -------------------------------------------------------------------------------------


def test_a_logo_is_re_encoded_so_nothing_hidden_survives(client, db, acme_admin):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-metadata")
    hostile = image_bytes("PNG", pnginfo=info) + b"<script>alert('payload')</script>"
    saved = upload(client, branding_page(client), "logo", hostile, "logo.png")
    assert saved.status_code == 303
    logo = client.get("/logo", base_url=ACME)
    assert logo.mimetype == "image/png"
    assert b"secret-metadata" not in logo.data and b"<script>" not in logo.data
    assert Image.open(io.BytesIO(logo.data)).size == (120, 60)
    first_src = re.search(r'src="(/logo\?v=\w+)"', client.get("/", base_url=ACME).get_data(as_text=True)).group(1)
    assert audit_actions(db, acme_admin) == ["branding.logo"]
    upload(client, branding_page(client), "logo", image_bytes("PNG", size=(90, 60)), "logo.png")
    second_src = re.search(r'src="(/logo\?v=\w+)"', client.get("/", base_url=ACME).get_data(as_text=True)).group(1)
    assert second_src != first_src, "a new logo gets a new address, so no browser shows the old one from its cache"


def test_a_photo_logo_loses_its_exif_and_is_scaled_down(client, acme_admin):
    exif = Image.Exif()
    exif[0x010E] = "taken at the secret lab"  # ImageDescription
    noise = Image.frombytes("RGB", (1600, 300), os.urandom(1600 * 300 * 3))  # well above the usual 64 KiB body
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", exif=exif, quality=95)
    assert len(buffer.getvalue()) > 128 * 1024
    assert upload(client, branding_page(client), "logo", buffer.getvalue(), "photo.jpg").status_code == 303
    logo = client.get("/logo", base_url=ACME)
    assert logo.mimetype == "image/jpeg"
    assert b"secret lab" not in logo.data and not Image.open(io.BytesIO(logo.data)).getexif()
    assert Image.open(io.BytesIO(logo.data)).size == (800, 150)


def test_a_cut_image_is_refused_in_a_worker_that_drew_a_pdf(client, db, acme_admin):
    pdf.render("<p>A kit</p>")  # WeasyPrint's import makes Pillow accept cut images process-wide
    refused = upload(client, branding_page(client), "logo", image_bytes("PNG")[:60], "cut.png")
    assert refused.status_code == 400 and "This image is damaged" in refused.get_data(as_text=True)
    assert stored(db, "acme").logo is None


@pytest.mark.parametrize("data, filename, message, status", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg",
     "SVG images are not accepted", 400),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "logo.png", "SVG images are not accepted", 400),
    (b"GIF89a" + b"\0" * 100, "logo.gif", "This file is not a PNG, JPEG or WebP image.", 400),
    (image_bytes("PNG")[:60], "cut.png", "This image is damaged", 400),
    (b"\x89PNG" + b"\0" * (2 * 1024 * 1024 + 10), "big.png", "This file is too large: the limit is 2 MB.", 400),
    (b"\x89PNG" + b"\0" * (3 * 1024 * 1024), "huge.png", "This file is too large: the limit is 2 MB.", 413),
])
def test_a_refused_image_is_explained_and_nothing_is_written(client, db, acme_admin, data, filename, message, status):
    refused = upload(client, branding_page(client), "logo", data, filename)
    assert refused.status_code == status
    assert message in refused.get_data(as_text=True)
    assert stored(db, "acme").logo is None
    assert audit_actions(db, acme_admin) == []


def test_a_form_without_a_file_is_refused(client, acme_admin):
    page = branding_page(client)
    refused = client.post("/portal/branding/logo", base_url=ACME, data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 400
    assert "Please choose an image file." in refused.get_data(as_text=True)


def test_a_favicon_becomes_a_small_png_served_on_every_page(client, db, acme_admin):
    assert '<link rel="icon" href="/static/core/favicon.svg"' in client.get("/", base_url=ACME).get_data(as_text=True)
    webp = image_bytes("WEBP", size=(512, 512), mode="RGBA")
    assert upload(client, branding_page(client), "favicon", webp, "icon.webp").status_code == 303
    favicon = client.get("/favicon", base_url=ACME)
    assert favicon.mimetype == "image/png"
    assert Image.open(io.BytesIO(favicon.data)).size == (64, 64)
    page = client.get("/", base_url=ACME).get_data(as_text=True)
    assert re.search(r'<link rel="icon" href="/favicon\?v=\w+" type="image/png">', page)

    page = branding_page(client)
    assert client.post("/portal/branding/favicon/remove", base_url=ACME,
                       data={"csrf_token": csrf_token(page)}).status_code == 303
    assert client.get("/favicon", base_url=ACME).status_code == 404
    assert audit_actions(db, acme_admin) == ["branding.favicon", "branding.favicon_removed"]


def test_removing_the_logo_shows_the_name_again(client, acme_admin):
    upload(client, branding_page(client), "logo", image_bytes("PNG"), "logo.png")
    page = branding_page(client)
    assert client.post("/portal/branding/logo/remove", base_url=ACME,
                       data={"csrf_token": csrf_token(page)}).status_code == 303
    signup = client.get("/", base_url=ACME).get_data(as_text=True)
    assert 'src="/logo"' not in signup and '<span class="brand-name">Acme Corporation</span>' in signup


# Custom domains -------------------------------------------------------------------------------------


def add_domain(client, hostname: str):
    page = branding_page(client)
    return client.post("/portal/branding/domains", base_url=ACME,
                       data={"csrf_token": csrf_token(page), "hostname": hostname})


def domain_entry(db, hostname: str) -> TenantHostname:
    db.session.expire_all()
    return db.session.scalars(select(TenantHostname).where(TenantHostname.hostname == hostname)).one()


def test_a_custom_domain_routes_once_its_txt_record_proves_ownership(client, db, acme_admin, dns_server):
    added = add_domain(client, "Join.Acme.Example.")
    assert added.status_code == 303
    entry = domain_entry(db, "join.acme.example")
    assert entry.verified_at is None and len(entry.verification_token) >= 32
    page = branding_page(client)
    assert "_heforshe-verification.join.acme.example" in page and entry.verification_token in page
    assert "Waiting for the TXT record" in page
    assert client.get("/", base_url=CUSTOM).status_code == 404  # not verified: not routed

    verify = f"/portal/branding/domains/{entry.id}/verify"
    missing = client.post(verify, base_url=ACME, data={"csrf_token": csrf_token(page)})
    assert missing.status_code == 400
    assert "There is no TXT record at _heforshe-verification.join.acme.example yet" in missing.get_data(as_text=True)

    dns_server["_heforshe-verification.join.acme.example"] = ["someone-else's-token"]
    wrong = client.post(verify, base_url=ACME, data={"csrf_token": csrf_token(page)})
    assert wrong.status_code == 400 and "does not hold the verification code" in wrong.get_data(as_text=True)
    assert domain_entry(db, "join.acme.example").verified_at is None

    dns_server["_heforshe-verification.join.acme.example"] = ["v=spf1 -all", entry.verification_token]
    verified = client.post(verify, base_url=ACME, data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "join.acme.example is verified" in verified.get_data(as_text=True)
    assert domain_entry(db, "join.acme.example").verified_at is not None
    assert "Join Acme Corporation in HeForShe" in client.get("/", base_url=CUSTOM).get_data(as_text=True)

    page = branding_page(client)
    removed = client.post(f"/portal/branding/domains/{entry.id}/remove", base_url=ACME,
                          data={"csrf_token": csrf_token(page)})
    assert removed.status_code == 303
    assert client.get("/", base_url=CUSTOM).status_code == 404
    assert audit_actions(db, acme_admin) == [
        "branding.domain_added", "branding.domain_verified", "branding.domain_removed"]


def test_an_unverified_claim_of_another_tenant_does_not_block_the_real_owner(app, client, db, make_tenant, acme_admin,
                                                                            sign_in_as, dns_server):
    from tenants.services.hosts import add_hostname

    globex = make_tenant("globex", "Globex")
    with tenant_context(globex):
        squatter = add_hostname(globex, "join.acme.example", verified=False)
        squatter.verification_token = "globex-token"
        db.session.commit()
        squatter_id = squatter.id
    assert add_domain(client, "join.acme.example").status_code == 303
    entry = db.session.scalars(select(TenantHostname).where(TenantHostname.tenant_id == acme_admin.id)).one()
    dns_server["_heforshe-verification.join.acme.example"] = [entry.verification_token]
    page = branding_page(client)
    verified = client.post(f"/portal/branding/domains/{entry.id}/verify", base_url=ACME,
                           data={"csrf_token": csrf_token(page)})
    assert verified.status_code == 303
    assert "Join Acme Corporation in HeForShe" in client.get("/", base_url=CUSTOM).get_data(as_text=True)

    # Globex cannot take it over afterwards, even with its own code published too.
    dns_server["_heforshe-verification.join.acme.example"] = [entry.verification_token, "globex-token"]
    globex_admin = app.test_client()
    sign_in_as(globex, Role.ADMIN, client=globex_admin)
    globex_page = branding_page(globex_admin, host("globex"))
    taken = globex_admin.post(f"/portal/branding/domains/{squatter_id}/verify", base_url=host("globex"),
                              data={"csrf_token": csrf_token(globex_page)})
    assert taken.status_code == 400 and "join.acme.example is already in use." in taken.get_data(as_text=True)
    assert "Join Acme Corporation in HeForShe" in client.get("/", base_url=CUSTOM).get_data(as_text=True)


@pytest.mark.parametrize("hostname, message", [
    ("not a domain", "is not a valid domain name"),
    ("", "Please enter a domain name"),
    (f"globex.{BASE_DOMAIN}", f"Addresses under {BASE_DOMAIN} are HeForShe&#39;s own"),
    ("taken.example.org", "taken.example.org is already in use."),
])
def test_a_bad_domain_is_explained_and_nothing_is_written(client, db, make_tenant, acme_admin, hostname, message):
    from tenants.services.hosts import add_hostname

    add_hostname(make_tenant("globex", "Globex"), "taken.example.org")
    db.session.commit()
    refused = add_domain(client, hostname)
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert db.session.scalar(select(TenantHostname.hostname).where(TenantHostname.tenant_id == acme_admin.id)) is None


# Who may do what --------------------------------------------------------------------------------------

POSTS = ("/portal/branding", "/portal/branding/logo", "/portal/branding/favicon", "/portal/branding/logo/remove",
         "/portal/branding/favicon/remove", "/portal/branding/domains", "/portal/branding/domains/{id}/verify",
         "/portal/branding/domains/{id}/remove")


def test_a_viewer_can_change_nothing(client, db, make_tenant, sign_in_as):
    from tenants.services.hosts import add_hostname

    acme = make_tenant("acme", "Acme Corporation")
    entry_id = add_hostname(acme, "join.acme.example", verified=False).id
    db.session.commit()
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.get("/portal/branding", base_url=ACME).status_code == 403
    token = csrf_token(client.get("/portal/dashboard", base_url=ACME).get_data(as_text=True))
    for path in POSTS:
        answer = client.post(path.format(id=entry_id), base_url=ACME,
                             data={"csrf_token": token, "primary_color": "#000000", "hostname": "x.example.org"})
        assert answer.status_code == 403, path
    assert audit_actions(db, acme) == []


def test_an_admin_of_one_tenant_cannot_touch_anothers_domains(client, db, make_tenant, acme_admin, dns_server):
    from tenants.services.hosts import add_hostname

    globex = make_tenant("globex", "Globex")
    with tenant_context(globex):  # row-level security lets a tenant's hostnames be changed only as that tenant
        globex_entry = add_hostname(globex, "join.globex.example", verified=False)
        globex_entry.verification_token = "globex-token"
        db.session.commit()
    dns_server["_heforshe-verification.join.globex.example"] = ["globex-token"]
    page = branding_page(client)
    assert "join.globex.example" not in page
    for action in ("verify", "remove"):
        answer = client.post(f"/portal/branding/domains/{globex_entry.id}/{action}", base_url=ACME,
                             data={"csrf_token": csrf_token(page)})
        assert answer.status_code == 404
    entry = domain_entry(db, "join.globex.example")
    assert entry.verified_at is None
    assert client.get("/portal/branding", base_url=host("globex")).location.startswith("/portal/sign-in")


# In a real browser ------------------------------------------------------------------------------------


def url(page, path="/"):
    return f"http://acme.{BASE_DOMAIN}:{page.port}{path}"


def test_the_preview_follows_typing_and_the_page_passes_accessibility_checks(page, axe, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(url(page, "/portal/branding"))
    assert axe(page) == []

    page.get_by_label("Primary colour (header background)").fill("#808080")
    header_row = page.locator("[data-contrast=header]")
    expect(header_row).to_contain_text("3.9:1")
    expect(header_row).to_contain_text("Below WCAG AA (4.5:1): saved with a warning")
    expect(page.locator("[data-preview-primary]")).to_have_attribute("fill", "#808080")
    page.get_by_label("Primary colour (header background)").fill("#1f4e8c")
    expect(header_row).to_contain_text("Passes WCAG AA")

    page.locator("#texts_fr-headline").fill("Acme s'engage")
    preview = page.locator("[data-preview-texts]")
    expect(preview.locator("[data-preview-field=headline]")).to_have_text("Acme s'engage")
    expect(preview).to_have_attribute("lang", "fr")
    page.locator("#texts_ar-headline").fill("أكمي")
    expect(preview).to_have_attribute("dir", "rtl")
    page.locator("#texts_en-headline").fill("Acme stands for equality")
    expect(preview.locator("[data-preview-field=headline]")).to_have_text("Acme stands for equality")

    page.get_by_role("button", name="Save branding").click()
    expect(page.get_by_role("status").first).to_contain_text("The branding is saved")
    assert axe(page) == []
    page.goto(url(page, "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme stands for equality")
    page.goto(url(page, "/portal/branding?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert axe(page) == []


def test_two_tenants_verifying_one_name_at_the_same_moment_get_a_message_not_an_error(app, db, make_tenant,
                                                                                      monkeypatch):
    from tenant_portal.branding import services as branding
    from tenants import ownership
    from tenants.services import hosts

    first, second = make_tenant("acme"), make_tenant("globex")
    with tenant_context(second):
        hosts.add_hostname(second, "join.example.org", verified=False)
        db.session.commit()
    with tenant_context(first):
        hosts.add_hostname(first, "join.example.org", verified=True)  # the other request won the race
        db.session.commit()
    # The second request checked before the first committed: it saw no owner, and its TXT record was there.
    monkeypatch.setattr(hosts, "hostname_owner", lambda hostname: None)
    monkeypatch.setattr(ownership, "check", lambda hostname, token: None)
    with app.test_request_context(), tenant_context(second):
        entry = db.session.scalars(select(TenantHostname).where(TenantHostname.tenant_id == second.id)).one()
        with pytest.raises(branding.BrandingRefused, match="already in use"):
            branding.verify_domain(entry)


def test_the_age_question_is_turned_on_and_off_and_audited(client, db, acme_admin):
    visitor = client.application.test_client()  # the admin, signed in through single sign-on, is not asked
    assert 'name="old_enough"' not in visitor.get("/", base_url=ACME).get_data(as_text=True), "off by default"
    page = branding_page(client)
    assert client.post("/portal/branding", base_url=ACME, data=branding_form(page, ask_age="y")).status_code == 303
    assert stored(db, "acme").ask_age is True
    assert 'name="old_enough"' in visitor.get("/", base_url=ACME).get_data(as_text=True)
    assert '<input aria-invalid="false" checked id="ask_age"' in branding_page(client)
    page = branding_page(client)
    assert client.post("/portal/branding", base_url=ACME, data=branding_form(page)).status_code == 303
    assert stored(db, "acme").ask_age is False
    assert 'name="old_enough"' not in visitor.get("/", base_url=ACME).get_data(as_text=True)
    assert audit_actions(db, acme_admin) == ["branding.ask_age", "branding.ask_age"]


def test_a_hero_image_is_re_encoded_shown_on_the_sign_up_page_and_removable(client, db, acme_admin):
    signup = client.get("/", base_url=ACME).get_data(as_text=True)
    assert "hero-art-default" in signup and "/hero" not in signup, "HeForShe's own image until the partner adds one"
    exif = Image.Exif()
    exif[0x010E] = "the team offsite, secret location"
    photo = io.BytesIO()
    Image.new("RGB", (2400, 1200), "#336699").save(photo, "JPEG", exif=exif)
    assert upload(client, branding_page(client), "hero", photo.getvalue(), "team.jpg").status_code == 303
    src = re.search(r'<div class="hero-art" aria-hidden="true">\s*<img src="(/hero\?v=\w+)" alt=""',
                    client.get("/", base_url=ACME).get_data(as_text=True)).group(1)
    hero = client.get(src, base_url=ACME)
    assert hero.mimetype == "image/jpeg" and b"secret location" not in hero.data
    assert Image.open(io.BytesIO(hero.data)).size == (1600, 800)
    assert audit_actions(db, acme_admin) == ["branding.hero"]

    refused = upload(client, branding_page(client), "hero", b"GIF89a" + b"\0" * 100, "hero.gif")
    assert refused.status_code == 400 and "This file is not a PNG, JPEG or WebP image." in refused.get_data(as_text=True)
    assert client.get(src, base_url=ACME).status_code == 200, "a refused upload keeps the image there was"

    assert client.post("/portal/branding/hero/remove", base_url=ACME,
                       data={"csrf_token": csrf_token(branding_page(client))}).status_code == 303
    assert "hero-art-default" in client.get("/", base_url=ACME).get_data(as_text=True)
    assert client.get("/hero", base_url=ACME).status_code == 404


def test_a_colour_picked_shows_in_its_field_the_preview_and_its_contrast(page, axe, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, page=page)
    page.goto(url(page, "/portal/branding"))
    primary = page.get_by_label("Primary colour (header background)")
    picker = page.get_by_label("Pick the primary colour")
    header = page.locator("[data-contrast=header]")
    expect(header).to_have_attribute("aria-live", "polite")

    picker.fill("#1f4e8c")
    expect(primary).to_have_value("#1f4e8c")
    expect(page.locator("[data-preview-primary]")).to_have_attribute("fill", "#1f4e8c")
    expect(header).to_contain_text("8.3:1")
    expect(header).to_contain_text("Passes WCAG AA")

    picker.fill("#ffd700")  # gold behind white text: unreadable
    expect(primary).to_have_value("#ffd700")
    expect(header).to_contain_text("1.4:1")
    expect(header).to_contain_text("Unreadable (below 3:1): refused")
    page.get_by_label("Pick the accent colour").fill("#8a8a8a")
    link = page.locator("[data-contrast=link]")
    expect(link).to_contain_text("3.4:1")
    expect(link).to_contain_text("Below WCAG AA (4.5:1): saved with a warning")
    expect(page.locator("[data-preview-accent]")).to_have_attribute("fill", "#8a8a8a")

    primary.fill("#5b2a86")  # typed: the picker follows
    expect(picker).to_have_value("#5b2a86")
    expect(header).to_contain_text("Passes WCAG AA")
    assert axe(page) == []


def test_the_preview_stays_beside_the_form_on_a_wide_screen(page, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, page=page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url(page, "/portal/branding"))
    preview = page.locator("[data-brand-preview]")
    primary = page.get_by_label("Primary colour (header background)")
    beside, field = preview.bounding_box(), primary.bounding_box()
    assert beside["x"] > field["x"] + field["width"]  # to the right of the fields, not below them
    assert beside["y"] < field["y"] + 300
    page.locator("#texts_en-thank_you_text").scroll_into_view_if_needed()
    page.locator("#texts_en-thank_you_text").fill("Thank you, colleague!")
    expect(preview).to_be_in_viewport()
    expect(preview.locator("[data-preview-field=thank_you_text]")).to_have_text("Thank you, colleague!")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, the preview below the fields
    below = preview.bounding_box()
    assert below["y"] > primary.bounding_box()["y"] and below["x"] < 40


def test_without_javascript_the_colours_are_typed_and_saved(browser, live_server, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.port = live_server
    try:
        sign_in_as(acme, Role.ADMIN, page=page)
        page.goto(url(page, "/portal/branding"))
        expect(page.locator(".color-picker").first).to_be_hidden()
        page.get_by_label("Primary colour (header background)").fill("#808080")
        page.get_by_role("button", name="Save branding").click()
        expect(page.get_by_role("status").first).to_contain_text("The branding is saved")
        expect(page.locator("[data-contrast=header]")).to_contain_text("3.9:1")
        expect(page.locator("[data-contrast=header]")).to_contain_text("Below WCAG AA (4.5:1): saved with a warning")
        expect(page.get_by_label("Primary colour (header background)")).to_have_value("#808080")
    finally:
        context.close()
