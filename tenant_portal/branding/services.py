"""Branding: logo and favicon (re-encoded), colours (with contrast checks), texts per language, languages,
listing on the global page, and custom domains proved by a DNS TXT record.

Plain functions over domain objects; they flush and never commit. Every change is written to the audit log.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.colors import AA_CONTRAST, contrast_ratio
from core.extensions import db
from core.i18n import LANGUAGES
from tenant_portal.services import record
from tenants import ownership
from tenants.models import Tenant, TenantHostname, TenantText, utcnow
from tenants.services import hosts, public, registry

#: The largest file accepted for a logo or a favicon, before re-encoding.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: Larger images are refused before they are decoded (a small file can claim enormous dimensions).
MAX_PIXELS = 25_000_000
LOGO_BOX = (800, 400)
FAVICON_BOX = (64, 64)
HERO_BOX = (1600, 900)
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
#: Text under this contrast ratio cannot be read by many people: refused. Under AA: saved with a warning.
MIN_CONTRAST = 3.0
WHITE = "#ffffff"


class BrandingRefused(ValueError):
    """A branding change that cannot be accepted; the message (translated) says why."""


# Colours -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contrast:
    """How readable one pair of the brand's colours is."""

    label: str
    foreground: str
    background: str
    ratio: float

    @property
    def passes_aa(self) -> bool:
        return self.ratio >= AA_CONTRAST

    @property
    def readable(self) -> bool:
        return self.ratio >= MIN_CONTRAST

    @property
    def shown_ratio(self) -> str:
        """The ratio as people read it, like ``4.5:1`` (rounded down, so a failing pair never shows 4.5)."""
        return f"{format_decimal(int(self.ratio * 10) / 10, format='0.0')}:1"


def contrasts(primary: str, accent: str) -> list[Contrast]:
    """The pairs the pages use: white header text on the primary colour, accent links on white."""
    return [Contrast(_("White header text on the primary colour"), WHITE, primary, contrast_ratio(WHITE, primary)),
            Contrast(_("Links in the accent colour on white"), accent, WHITE, contrast_ratio(accent, WHITE))]


def check_colors(primary: str, accent: str) -> list[str]:
    """Validate a pair of brand colours: raise ``BrandingRefused`` for unreadable text; return AA warnings."""
    try:
        primary, accent = registry.validate_color(primary), registry.validate_color(accent)
    except registry.InvalidTenantSetting as error:
        raise BrandingRefused(_("Please give colours as # followed by six hexadecimal digits, like #5b2a86.")) from error
    warnings = []
    for pair in contrasts(primary, accent):
        if not pair.readable:
            raise BrandingRefused(_(
                "%(pair)s: the contrast is only %(ratio)s, which many people cannot read. "
                "Please choose colours with a contrast of at least 3:1 (4.5:1 is recommended).",
                pair=pair.label, ratio=pair.shown_ratio))
        if not pair.passes_aa:
            warnings.append(_(
                "%(pair)s: the contrast is %(ratio)s, below the 4.5:1 that WCAG AA asks for small text. "
                "Some people will find it hard to read.", pair=pair.label, ratio=pair.shown_ratio))
    return warnings


# Texts and settings ------------------------------------------------------------------------------------


def default_texts(tenant: Tenant, language: str) -> dict[str, str]:
    """The standard wording of the sign-up and thank-you pages in ``language`` (used where a tenant wrote none)."""
    with force_locale(language):
        return {
            "headline": _("Join %(name)s in HeForShe", name=tenant.name),
            "commitment_text": _(
                "I commit to take action against gender bias and discrimination, and to stand up for equal rights "
                "and opportunities for women and girls, at work and beyond."),
            "thank_you_text": _("Your commitment counts. Together we are making gender equality real."),
        }


@dataclass
class Texts:
    """A tenant's own wording in one language; empty means the standard wording."""

    headline: str | None = None
    commitment_text: str | None = None
    thank_you_text: str | None = None


@dataclass
class BrandingSettings:
    """Everything the branding form sets at once."""

    primary_color: str
    accent_color: str
    enabled_languages: list[str]
    default_language: str
    listed: bool
    ask_age: bool
    texts: dict[str, Texts] = field(default_factory=dict)


def current_texts(languages: list[str]) -> dict[str, Texts]:
    """The current tenant's own wording in each of ``languages``."""
    found = {}
    for language in languages:
        row = public.tenant_texts(language)
        found[language] = Texts(row.headline, row.commitment_text, row.thank_you_text) if row else Texts()
    return found


def update_branding(tenant: Tenant, settings: BrandingSettings) -> list[str]:
    """Apply the branding form: colours, languages, listing, the age question and texts. Raises
    ``BrandingRefused`` (and changes nothing) for unreadable colours or impossible languages; returns warnings
    for colours below WCAG AA."""
    warnings = check_colors(settings.primary_color, settings.accent_color)
    primary, accent = (registry.validate_color(c) for c in (settings.primary_color, settings.accent_color))
    enabled = [code for code in LANGUAGES if code in settings.enabled_languages]
    if not enabled:
        raise BrandingRefused(_("Please keep at least one language."))
    if settings.default_language not in enabled:
        raise BrandingRefused(_("The default language must be one of the enabled languages."))
    if (tenant.primary_color, tenant.accent_color) != (primary, accent):
        record("branding.colors", tenant.slug, primary=primary, accent=accent,
               before=[tenant.primary_color, tenant.accent_color])
        tenant.primary_color, tenant.accent_color = primary, accent
    if (list(tenant.enabled_languages or []), tenant.default_language) != (enabled, settings.default_language):
        record("branding.languages", tenant.slug, enabled=enabled, default=settings.default_language,
               before={"enabled": list(tenant.enabled_languages or []), "default": tenant.default_language})
        tenant.enabled_languages, tenant.default_language = enabled, settings.default_language
    if tenant.listed != settings.listed:
        record("branding.listed", tenant.slug, listed=settings.listed)
        tenant.listed = settings.listed
    if tenant.ask_age != settings.ask_age:
        record("branding.ask_age", tenant.slug, ask_age=settings.ask_age)
        tenant.ask_age = settings.ask_age
    for language, texts in settings.texts.items():
        _save_texts(language, texts)
    db.session.flush()
    return warnings


def _save_texts(language: str, texts: Texts) -> None:
    if language not in LANGUAGES:
        return
    values = {name: (getattr(texts, name) or "").strip() or None
              for name in ("headline", "commitment_text", "thank_you_text")}
    row = public.tenant_texts(language)
    before = {name: getattr(row, name) if row is not None else None for name in values}
    if row is None:
        if not any(values.values()):
            return
        row = TenantText(language=language)
        db.session.add(row)
    elif before == values:
        return
    for name, value in values.items():
        setattr(row, name, value)
    hosts.pages_changed()
    record("branding.texts", language, **values, before=before)


# Images ------------------------------------------------------------------------------------------------


def _looks_like_svg(data: bytes, filename: str | None) -> bool:
    head = data[:1024].lstrip().lower()
    return (filename or "").lower().endswith((".svg", ".svgz")) or head.startswith(b"<") or b"<svg" in head


def clean_image(data: bytes, filename: str | None, box: tuple[int, int], as_png: bool = False) -> tuple[bytes, str]:
    """Decode an uploaded PNG, JPEG or WebP and encode its pixels afresh (nothing else of the file survives:
    no metadata, no trailing payload), scaled down to fit ``box``. Returns the bytes and their media type."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BrandingRefused(_("This file is too large: the limit is %(size)s MB.", size=format_decimal(2)))
    if _looks_like_svg(data, filename):
        raise BrandingRefused(_("SVG images are not accepted, as they can carry scripts. "
                                "Please upload a PNG, JPEG or WebP image."))
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise BrandingRefused(_("This file is not a PNG, JPEG or WebP image.")) from error
    if image.width * image.height > MAX_PIXELS:
        raise BrandingRefused(_("This image is too large: please upload one of at most 25 million pixels."))
    source_format = image.format
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as error:
        raise BrandingRefused(_("This image is damaged: please export it again and upload the new file.")) from error
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha and (as_png or source_format != "JPEG") else "RGB")
    image.thumbnail(box, Image.Resampling.LANCZOS)
    # A new image from the pixels alone: no EXIF, ICC profile, text chunk or other metadata can ride along.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    target = "PNG" if as_png else source_format
    output = io.BytesIO()
    if target == "JPEG":
        pixels.save(output, "JPEG", quality=90, optimize=True)
    elif target == "WEBP":
        pixels.save(output, "WEBP", quality=90)
    else:
        pixels.save(output, "PNG", optimize=True)
    return output.getvalue(), FORMATS[target]


def set_logo(tenant: Tenant, data: bytes, filename: str | None) -> None:
    """Replace the tenant's logo with a re-encoded copy of an uploaded image."""
    tenant.logo, tenant.logo_mime = clean_image(data, filename, LOGO_BOX)
    record("branding.logo", tenant.slug, bytes=len(tenant.logo), mime=tenant.logo_mime)
    db.session.flush()


def set_favicon(tenant: Tenant, data: bytes, filename: str | None) -> None:
    """Replace the tenant's favicon with a small PNG made from an uploaded image."""
    tenant.favicon, tenant.favicon_mime = clean_image(data, filename, FAVICON_BOX, as_png=True)
    record("branding.favicon", tenant.slug, bytes=len(tenant.favicon))
    db.session.flush()


def set_hero(tenant: Tenant, data: bytes, filename: str | None) -> None:
    """Replace the sign-up page's hero image with a re-encoded copy of an uploaded image."""
    tenant.hero, tenant.hero_mime = clean_image(data, filename, HERO_BOX)
    record("branding.hero", tenant.slug, bytes=len(tenant.hero), mime=tenant.hero_mime)
    db.session.flush()


def remove_hero(tenant: Tenant) -> None:
    """Go back to the HeForShe hero image."""
    tenant.hero = tenant.hero_mime = None
    record("branding.hero_removed", tenant.slug)
    db.session.flush()


def remove_logo(tenant: Tenant) -> None:
    """Go back to showing the organisation's name in the header."""
    tenant.logo = tenant.logo_mime = None
    record("branding.logo_removed", tenant.slug)
    db.session.flush()


def remove_favicon(tenant: Tenant) -> None:
    """Go back to the HeForShe favicon."""
    tenant.favicon = tenant.favicon_mime = None
    record("branding.favicon_removed", tenant.slug)
    db.session.flush()


# Custom domains ----------------------------------------------------------------------------------------


def domains(tenant: Tenant) -> list[TenantHostname]:
    """The tenant's custom domains, by name. (Hostnames are not tenant-scoped: the host lookup reads them all.)"""
    return list(db.session.scalars(
        select(TenantHostname).where(TenantHostname.tenant_id == tenant.id).order_by(TenantHostname.hostname)))


def find_domain(tenant: Tenant, hostname_id: int) -> TenantHostname | None:
    """One of the tenant's custom domains; another tenant's is not found."""
    return db.session.scalars(select(TenantHostname).where(
        TenantHostname.id == hostname_id, TenantHostname.tenant_id == tenant.id)).one_or_none()


def verification_name(entry: TenantHostname) -> str:
    """The DNS name whose TXT record proves ownership of a domain."""
    return ownership.record_name(entry.hostname)


def add_domain(tenant: Tenant, hostname: str) -> TenantHostname:
    """Attach a custom domain, unverified, with a fresh verification token."""
    hostname = hostname.strip().lower().rstrip(".")
    base = current_app.config["BASE_DOMAIN"]
    if not hosts.HOSTNAME_PATTERN.match(hostname):
        raise BrandingRefused(_("%(hostname)s is not a valid domain name, like join.example.org.", hostname=hostname))
    if hostname == base or hostname.endswith("." + base):
        raise BrandingRefused(_("Addresses under %(base)s are HeForShe's own: please give a domain of your "
                                "organisation.", base=base))
    if not hosts.hostname_available(hostname, tenant.id):
        raise BrandingRefused(_("%(hostname)s is already in use.", hostname=hostname))
    entry = hosts.add_hostname(tenant, hostname, verified=False)
    entry.verification_token = ownership.new_token()
    record("branding.domain_added", hostname)
    db.session.flush()
    return entry


def remove_domain(entry: TenantHostname) -> None:
    """Detach a custom domain: it stops routing to the tenant (at once in this process)."""
    record("branding.domain_removed", entry.hostname, verified=entry.verified_at is not None)
    hosts.forget_host(entry.hostname)
    db.session.delete(entry)
    db.session.flush()


def verify_domain(entry: TenantHostname) -> None:
    """Look for the domain's TXT record; when it carries the token, the domain is verified and starts routing
    (unless another tenant verified it first). Raises ``BrandingRefused`` saying what was found instead."""
    if entry.verified_at is not None:
        return
    if hosts.hostname_owner(entry.hostname) is not None:
        raise BrandingRefused(_("%(hostname)s is already in use.", hostname=entry.hostname))
    try:
        ownership.check(entry.hostname, entry.verification_token)
    except ownership.NotProven as error:
        raise BrandingRefused(str(error)) from None
    try:
        with db.session.begin_nested():  # another tenant may verify the same name at this very moment
            entry.verified_at = utcnow()
    except IntegrityError:
        raise BrandingRefused(_("%(hostname)s is already in use.", hostname=entry.hostname)) from None
    record("branding.domain_verified", entry.hostname)
    db.session.flush()
