"""Demo tenants and generated commitments, so that a fresh run of the product looks alive."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from core.extensions import db
from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenants.services import places, registry, signups
from tenants.models import Tenant, TenantKind, TenantText, Unit, UnitKind

# (slug, name, kind, primary, accent, default language, listed, units)
# A unit is (key, kind, name, parent key, country, city, latitude, longitude).
DEMO_TENANTS = [
    ("acme", "Acme Corporation", TenantKind.CORPORATION, "#1f4e8c", "#0b6e4f", "en", True, [
        ("hq", UnitKind.OFFICE, "New York headquarters", None, "US", "New York", 40.7128, -74.0060),
        ("sao-paulo", UnitKind.OFFICE, "São Paulo office", None, "BR", "São Paulo", -23.5505, -46.6333),
        ("paris", UnitKind.OFFICE, "Paris office", None, "FR", "Paris", 48.8566, 2.3522),
        ("nairobi", UnitKind.OFFICE, "Nairobi office", None, "KE", "Nairobi", -1.2921, 36.8219),
        ("mumbai", UnitKind.OFFICE, "Mumbai office", None, "IN", "Mumbai", 19.0760, 72.8777),
        ("tokyo", UnitKind.OFFICE, "Tokyo office", None, "JP", "Tokyo", 35.6762, 139.6503),
        ("engineering", UnitKind.DEPARTMENT, "Engineering", None, None, None, None, None),
        ("sales", UnitKind.DEPARTMENT, "Sales", None, None, None, None, None),
        ("people", UnitKind.DEPARTMENT, "People and Culture", None, None, None, None, None),
        ("finance", UnitKind.DEPARTMENT, "Finance", None, None, None, None, None),
    ]),
    ("northfield", "Northfield University", TenantKind.UNIVERSITY, "#7a1f2b", "#005f73", "en", True, [
        ("north", UnitKind.CAMPUS, "North Campus", None, "GB", "Manchester", 53.4808, -2.2426),
        ("city", UnitKind.CAMPUS, "City Campus", None, "GB", "London", 51.5074, -0.1278),
        ("dubai", UnitKind.CAMPUS, "Dubai Campus", None, "AE", "Dubai", 25.2048, 55.2708),
        ("arts", UnitKind.FACULTY, "Faculty of Arts and Humanities", "north", None, None, None, None),
        ("science", UnitKind.FACULTY, "Faculty of Science and Engineering", "north", None, None, None, None),
        ("medicine", UnitKind.FACULTY, "Faculty of Medicine", "city", None, None, None, None),
        ("law", UnitKind.FACULTY, "Faculty of Law", "city", None, None, None, None),
        ("business", UnitKind.FACULTY, "Business School", "dubai", None, None, None, None),
    ]),
    ("riverton", "City of Riverton", TenantKind.GOVERNMENT, "#3b3b98", "#006d77", "fr", True, [
        ("hall", UnitKind.SITE, "Hôtel de ville", None, "FR", "Lyon", 45.7640, 4.8357),
    ]),
    ("kestrel", "Kestrel Foundation", TenantKind.NGO, "#2d5a27", "#7a4b00", "es", True, [
        ("bogota", UnitKind.OFFICE, "Oficina de Bogotá", None, "CO", "Bogotá", 4.7110, -74.0721),
        ("lima", UnitKind.OFFICE, "Oficina de Lima", None, "PE", "Lima", -12.0464, -77.0428),
    ]),
    ("globex", "Globex (unlisted)", TenantKind.CORPORATION, "#8a3b00", "#1f4e8c", "en", False, [
        ("cairo", UnitKind.OFFICE, "Cairo office", None, "EG", "Cairo", 30.0444, 31.2357),
    ]),
]

DEMO_TEXTS = {
    "acme": {
        "en": ("Acme stands with HeForShe", "At Acme, I commit to equal pay, equal voice and equal opportunity for "
               "my colleagues, and to speak up when I see bias."),
        "fr": ("Acme s'engage avec HeForShe", "Chez Acme, je m'engage pour l'égalité des salaires, de la parole et "
               "des chances de mes collègues, et à réagir face aux préjugés."),
    },
}

# Where people who do not pick an office come from, roughly weighted.
SPREAD = [("US", "Chicago"), ("GB", "Leeds"), ("FR", "Marseille"), ("BR", "Rio de Janeiro"), ("IN", "Delhi"),
          ("KE", "Mombasa"), ("JP", "Osaka"), ("MX", "Mexico City"), ("NG", "Lagos"), ("CN", "Shanghai"),
          ("EG", "Alexandria"), ("RU", "Moscow"), ("SA", "Riyadh"), ("ES", "Madrid"), ("CA", "Toronto"),
          ("ZA", "Johannesburg"), ("AU", "Sydney"), ("DE", "Berlin"), ("AR", "Buenos Aires"), ("SE", "Stockholm")]
GENDER_WEIGHTS = [(Gender.MAN, 55), (Gender.WOMAN, 30), (Gender.NON_BINARY, 4), (Gender.SELF_DESCRIBED, 2),
                  (Gender.UNDISCLOSED, 9)]
TENANT_WEIGHTS = {"acme": 40, "northfield": 35, "riverton": 8, "kestrel": 12, "globex": 5}


def demo_logo(short_name: str, color: str) -> bytes:
    """A simple PNG logo: the organisation's initial on its colour, and its short name."""
    image = Image.new("RGB", (300, 80), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 76, 76), radius=14, fill=color)
    draw.text((40, 40), short_name[0], fill="white", font=ImageFont.load_default(size=44), anchor="mm")
    draw.text((92, 40), short_name, fill=color, font=ImageFont.load_default(size=36), anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def create_demo_tenants() -> list[Tenant]:
    """Create the demo tenants that do not exist yet; returns the ones created."""
    existing = set(db.session.scalars(select(Tenant.slug)))
    created = []
    for slug, name, kind, primary, accent, language, listed, units in DEMO_TENANTS:
        if slug in existing:
            continue
        tenant = registry.create_tenant(
            slug, name, kind, admin_email=f"admin@{slug}.example.org", primary_color=primary, accent_color=accent,
            default_language=language, listed=listed, logo=demo_logo(slug.capitalize(), primary), logo_mime="image/png")
        with tenant_context(tenant):
            ids = {}
            for key, unit_kind, unit_name, parent, country, city, lat, lon in units:
                unit = Unit(kind=unit_kind, name=unit_name, external_key=key, parent_id=ids.get(parent),
                            country_code=country, city=city, latitude=lat, longitude=lon)
                db.session.add(unit)
                db.session.flush()
                ids[key] = unit.id
            for language_code, (headline, text) in DEMO_TEXTS.get(slug, {}).items():
                db.session.add(TenantText(language=language_code, headline=headline, commitment_text=text))
            db.session.flush()
        created.append(tenant)
    return created


@dataclass(frozen=True)
class DemoStep:
    """One generated commitment, to be made as ``tenant_id``."""

    tenant_id: int
    signup: signups.SignUp


def plan_commitments(tenants: list[Tenant], count: int, seed: int) -> list[DemoStep]:
    """A reproducible list of ``count`` commitments spread over the tenants, countries, genders and
    the last 120 days (more of them recently, as a campaign grows)."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    weights = [TENANT_WEIGHTS.get(t.slug, 10) for t in tenants]
    located_units = {}
    for tenant in tenants:
        with tenant_context(tenant):
            located_units[tenant.id] = list(db.session.scalars(select(Unit).where(Unit.country_code.is_not(None))))
    steps = []
    for n in range(count):
        tenant = rng.choices(tenants, weights)[0]
        gender = rng.choices([g for g, _ in GENDER_WEIGHTS], [w for _, w in GENDER_WEIGHTS])[0]
        units = located_units[tenant.id]
        if units and rng.random() < 0.7:
            unit = rng.choice(units)
            country, city, unit_id = unit.country_code, unit.city, unit.id
        else:
            (country, city), unit_id = rng.choice(SPREAD), None
        city, place_id = places.locate(country, city, None, "en")
        age = timedelta(days=120 * (rng.random() ** 2), seconds=rng.randrange(86400))
        steps.append(DemoStep(tenant.id, signups.SignUp(
            email=f"person{n}@{tenant.slug}.example.org", gender=gender, country_code=country, city=city,
            place_id=place_id, unit_id=unit_id, language=tenant.default_language, consent_version="2026-11",
            source=rng.choice([Source.WEB, Source.WEB, Source.WEB, Source.IMPORT]), created_at=now - age)))
    return steps


def apply(step: DemoStep) -> None:
    """Make one planned commitment through the ordinary sign-up service."""
    with tenant_context(step.tenant_id):
        signups.commit(step.signup)
