"""Action kits: which kits a site shows and in what words, the operator's kits and their translations, a tenant's
choice of them and its own kits, and the starter set. Plain functions that flush, never commit.

A site shows the operator's published kits that its tenant chose (``shown_by_default`` until it chooses), then its
own published kits. A kit's page opens for any published kit, chosen or not: links to a kit (the thank-you page's
actions) never break because a tenant narrowed its list.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import g
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from core.extensions import db
from core.i18n import LANGUAGES
from tenants.forms import has_control_characters
from tenants.kits import body
from tenants.kits.models import Kit, KitChoice, KitTranslation, TenantKit
from tenants.kits.vocabulary import AUDIENCES, PILLARS, audience_for_kind
from tenants.models import Tenant, utcnow
from tenants.services import registry

STARTER = Path(__file__).parent / "starter"
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
#: The language every operator's kit is written in first, and shown in where it has no translation.
SOURCE_LANGUAGE = "en"
MAX_TITLE, MAX_SUMMARY, MAX_CONTACTS = 200, 300, 1000


class KitRefused(ValueError):
    """A kit that cannot be saved as given; the message (translated) says why."""


@dataclass(frozen=True)
class KitText:
    """A kit's words in one language."""

    title: str
    summary: str
    body: str


@dataclass(frozen=True)
class KitPage:
    """A kit as a page shows it: its words in ``language`` (another than the page's when it has no translation),
    and, for a tenant's own kit, its local contacts."""

    slug: str
    audience: str
    pillar: str
    language: str
    title: str
    summary: str
    body: str
    own: bool = False
    contacts: str | None = None

    @property
    def html(self) -> Markup:
        return body.to_html(self.body)

    @property
    def fingerprint(self) -> str:
        """Changes with any of the kit's words: a PDF made of them is kept under it."""
        parts = (self.slug, self.audience, self.pillar, self.language, self.title, self.summary, self.body,
                 self.contacts or "")
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


# --- What a site shows --------------------------------------------------------------------------------------------

def _order(kit: Kit | TenantKit) -> tuple:
    return list(PILLARS).index(kit.pillar), list(AUDIENCES).index(kit.audience), kit.slug


def published_kits() -> list[Kit]:
    """The operator's published kits, by pillar then audience."""
    return sorted(db.session.scalars(select(Kit).where(Kit.published.is_(True))), key=_order)


def page_of(kit: Kit, language: str) -> KitPage:
    """One of the operator's kits in ``language``, or in English where it has no translation yet."""
    text = kit.text(language) or kit.text(SOURCE_LANGUAGE) or kit.translations[0]
    return KitPage(kit.slug, kit.audience, kit.pillar, text.language, text.title, text.summary, text.body)


def own_page(kit: TenantKit) -> KitPage:
    return KitPage(kit.slug, kit.audience, kit.pillar, kit.language, kit.title, kit.summary, kit.body, own=True,
                   contacts=kit.contacts)


def shown_by_default(kit: Kit, tenant: Tenant | None) -> bool:
    """Until its admins choose, a partner shows the kits for its kind of organisation and for individuals; the
    global site and the movement show every kit."""
    if tenant is None or tenant.is_movement:
        return True
    return kit.audience in ("individual", audience_for_kind(tenant.kind.value))


def choices() -> dict[int, bool]:
    """The current tenant's choice: kit id → shown, for the kits it chose about."""
    return {choice.kit_id: choice.shown for choice in db.session.scalars(select(KitChoice))}


def is_shown(kit: Kit, tenant: Tenant | None, chosen: dict[int, bool]) -> bool:
    return chosen.get(kit.id, shown_by_default(kit, tenant))


def shown_kits(language: str) -> list[KitPage]:
    """What this site lists: the operator's kits its tenant shows, then its own published kits."""
    tenant = g.get("tenant")
    chosen = choices() if tenant is not None else {}
    pages = [page_of(kit, language) for kit in published_kits() if is_shown(kit, tenant, chosen)]
    if tenant is not None:
        pages += [own_page(kit) for kit in own_kits() if kit.published]
    return pages


def find_page(slug: str, language: str) -> KitPage | None:
    """The kit a site's page of that slug shows: the tenant's own published kit, else the operator's."""
    if g.get("tenant") is not None:
        own = db.session.scalars(select(TenantKit).where(TenantKit.slug == slug,
                                                         TenantKit.published.is_(True))).one_or_none()
        if own is not None:
            return own_page(own)
    kit = db.session.scalars(select(Kit).where(Kit.slug == slug, Kit.published.is_(True))).one_or_none()
    return page_of(kit, language) if kit is not None else None


# --- The operator's kits ------------------------------------------------------------------------------------------

def all_kits() -> list[Kit]:
    return sorted(db.session.scalars(select(Kit)), key=_order)


def find_kit(kit_id: int) -> Kit | None:
    return db.session.get(Kit, kit_id)


def check_text(text: KitText) -> None:
    """Refuse words no page can show: too long, or with control characters."""
    if len(text.title) > MAX_TITLE or len(text.summary) > MAX_SUMMARY or len(text.body) > body.MAX_BODY_CHARACTERS:
        raise KitRefused(_("This text is too long."))
    if any(has_control_characters(part) for part in (text.title, text.summary, text.body)):
        raise KitRefused(_("Please use letters, digits and ordinary punctuation only."))


def _check_kind(audience: str, pillar: str) -> None:
    if audience not in AUDIENCES or pillar not in PILLARS:
        raise KitRefused(_("Please choose an audience and a pillar from the lists."))


def save_kit(kit: Kit | None, slug: str, audience: str, pillar: str, published: bool,
             texts: dict[str, KitText | None]) -> tuple[Kit, list[str]]:
    """Create (``kit`` None) or change one of the operator's kits: its settings and its text in each language given
    (None: no translation in that language, which is removed). English is required. Returns the kit and the
    languages whose words changed."""
    _check_kind(audience, pillar)
    if texts.get(SOURCE_LANGUAGE) is None:
        raise KitRefused(_("Every kit needs its English text: it is shown wherever a translation is missing."))
    for text in texts.values():
        if text is not None:
            check_text(text)
    if kit is None:
        if not SLUG_PATTERN.match(slug):
            raise KitRefused(_("Use 1 to 80 lower-case letters, digits and hyphens, starting and ending with a letter "
                               "or a digit."))
        if db.session.scalar(select(Kit.id).where(Kit.slug == slug)) is not None:
            raise KitRefused(_("Another kit has this address already."))
        kit = Kit(slug=slug, translations=[])
        db.session.add(kit)
    kit.audience, kit.pillar, kit.published = audience, pillar, published
    changed = []
    for language in LANGUAGES:
        if language not in texts:
            continue
        text, current = texts[language], kit.text(language)
        if text is None:
            if current is not None:
                kit.translations.remove(current)
                changed.append(language)
        elif current is None:
            kit.translations.append(KitTranslation(language=language, **vars(text)))
            changed.append(language)
        elif (current.title, current.summary, current.body) != (text.title, text.summary, text.body):
            current.title, current.summary, current.body, current.updated_at = (
                text.title, text.summary, text.body, utcnow())
            changed.append(language)
    db.session.flush()
    return kit, changed


@dataclass(frozen=True)
class Coverage:
    """One kit's translations: per language, ``"ok"``, ``"missing"`` or ``"outdated"`` (older than the English
    text)."""

    kit: Kit
    states: dict[str, str]

    @property
    def complete(self) -> bool:
        return all(state == "ok" for state in self.states.values())


def coverage() -> list[Coverage]:
    """Every kit's translations, and which are missing or older than their English text."""
    rows = []
    for kit in all_kits():
        source = kit.text(SOURCE_LANGUAGE)
        states = {}
        for language in LANGUAGES[1:]:
            text = kit.text(language)
            states[language] = ("missing" if text is None else
                                "outdated" if source is not None and text.updated_at < source.updated_at else "ok")
        rows.append(Coverage(kit, states))
    return rows


# --- A tenant's choice and its own kits ---------------------------------------------------------------------------

def set_choices(tenant: Tenant, shown: set[int]) -> tuple[list[str], list[str]]:
    """Show exactly the published kits in ``shown`` on the tenant's pages; returns the slugs newly shown and newly
    hidden."""
    chosen = choices()
    rows = {choice.kit_id: choice for choice in db.session.scalars(select(KitChoice))}
    added, removed = [], []
    for kit in published_kits():
        wanted = kit.id in shown
        if is_shown(kit, tenant, chosen) != wanted:
            (added if wanted else removed).append(kit.slug)
        if kit.id in rows:
            rows[kit.id].shown = wanted
        else:
            db.session.add(KitChoice(kit_id=kit.id, shown=wanted))
    db.session.flush()
    return added, removed


def own_kits() -> list[TenantKit]:
    return sorted(db.session.scalars(select(TenantKit)), key=_order)


def find_own(kit_id: uuid.UUID) -> TenantKit | None:
    return db.session.scalars(select(TenantKit).where(TenantKit.id == kit_id)).one_or_none()


@dataclass(frozen=True)
class OwnKit:
    """What a tenant's admin writes for one of its own kits."""

    audience: str
    pillar: str
    language: str
    text: KitText
    contacts: str | None
    published: bool


def _check_own(fields: OwnKit) -> None:
    _check_kind(fields.audience, fields.pillar)
    if fields.language not in LANGUAGES:
        raise KitRefused(_("Please choose a language from the list."))
    check_text(fields.text)
    if fields.contacts and (len(fields.contacts) > MAX_CONTACTS or has_control_characters(fields.contacts)):
        raise KitRefused(_("Please give the contacts in at most 1,000 ordinary characters."))


def _free_slug(title: str) -> str:
    """An address for a new kit from its title (its Latin letters and digits), free on this site: none of the
    tenant's kits nor the operator's has it."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60].strip("-") or "kit"
    taken = set(db.session.scalars(select(TenantKit.slug))) | set(db.session.scalars(select(Kit.slug)))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def add_own(fields: OwnKit) -> TenantKit:
    """Add one of the current tenant's own kits; its address comes from its title and never changes."""
    _check_own(fields)
    kit = TenantKit(slug=_free_slug(fields.text.title), audience=fields.audience, pillar=fields.pillar,
                    language=fields.language, contacts=fields.contacts or None, published=fields.published,
                    **vars(fields.text))
    db.session.add(kit)
    db.session.flush()
    return kit


def update_own(kit: TenantKit, fields: OwnKit) -> bool:
    """Change one of the tenant's own kits; whether anything changed."""
    _check_own(fields)
    values = {"audience": fields.audience, "pillar": fields.pillar, "language": fields.language,
              "contacts": fields.contacts or None, "published": fields.published, **vars(fields.text)}
    if all(getattr(kit, name) == value for name, value in values.items()):
        return False
    for name, value in values.items():
        setattr(kit, name, value)
    kit.updated_at = utcnow()
    db.session.flush()
    return True


def delete_own(kit: TenantKit) -> None:
    db.session.delete(kit)
    db.session.flush()


# --- The brand a kit is printed in --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Brand:
    """Whose kit or poster it is: the tenant's name, colours and logo (a data: URI), or HeForShe's."""

    name: str
    primary: str
    accent: str
    logo: str | None
    fingerprint: tuple


def brand() -> Brand:
    """The current site's brand: its tenant's, or HeForShe's on the global site and the movement's pages."""
    tenant = g.get("tenant")
    primary, accent = registry.brand_colors(tenant)
    if tenant is None or tenant.is_movement:
        return Brand("HeForShe", primary, accent, None, ("HeForShe", primary, accent))
    logo = None
    if tenant.logo_version:
        image, mime = db.session.execute(select(Tenant.logo, Tenant.logo_mime).where(Tenant.id == tenant.id)).one()
        if image is not None:
            logo = f"data:{mime};base64,{base64.b64encode(image).decode()}"
    return Brand(tenant.name, primary, accent, logo, (tenant.id, tenant.name, primary, accent, tenant.logo_version))


# --- The starter set ----------------------------------------------------------------------------------------------

def read_text(path: Path) -> KitText:
    """A starter file: a front matter of ``title:`` and ``summary:`` between ``---`` lines, then the body."""
    _, front, text = path.read_text(encoding="utf-8").split("---\n", 2)
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    return KitText(fields["title"].strip(), fields["summary"].strip(), text.strip() + "\n")


def starter_set() -> dict[str, dict]:
    """The starter kits in ``starter/kits.toml``: slug → audience and pillar."""
    return tomllib.loads((STARTER / "kits.toml").read_text(encoding="utf-8"))


def load_starter() -> tuple[list[str], list[str]]:
    """Publish the starter kits the database lacks, and add the translations their kits lack; kits and texts
    already there (perhaps edited by an operator) are left as they are. Returns the slugs created and the
    translations added (``slug.language``)."""
    created, added = [], []
    for slug, kind in starter_set().items():
        kit = db.session.scalars(select(Kit).where(Kit.slug == slug)).one_or_none()
        if kit is None:
            kit = Kit(slug=slug, audience=kind["audience"], pillar=kind["pillar"], published=True, translations=[])
            db.session.add(kit)
            created.append(slug)
        for language in LANGUAGES:
            path = STARTER / f"{slug}.{language}.md"
            if path.exists() and kit.text(language) is None:
                kit.translations.append(KitTranslation(language=language, **vars(read_text(path))))
                added.append(f"{slug}.{language}")
    db.session.flush()
    return created, added
