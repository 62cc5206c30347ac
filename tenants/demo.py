"""Demo tenants and generated commitments, so that a fresh run of the product looks alive."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from core.extensions import db
from core.rollup.models import Gender, Source
from core.tenancy import tenant_context
from tenants import plans
from tenants.services import places, registry, signups
from tenants.models import Target, TargetMetric, Tenant, TenantKind, TenantText, Unit, UnitKind

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

# Eligible headcounts (men, everyone), for the participation rates: the organisation's, then its units' by key.
DEMO_HEADCOUNTS = {
    "acme": ((2400, 5000), {"hq": (700, 1500), "sao-paulo": (330, 700), "paris": (300, 650), "nairobi": (200, 420),
                            "mumbai": (440, 900), "tokyo": (250, 530), "engineering": (900, 1500),
                            "sales": (480, 1000), "people": (110, 400), "finance": (200, 450)}),
    "northfield": ((8200, 17500), {"north": (4100, 8600), "city": (3000, 6500), "dubai": (1100, 2400),
                                   "arts": (900, 2300), "science": (2200, 3800), "medicine": (1300, 3100),
                                   "law": (700, 1600), "business": (1100, 2400)}),
    "riverton": ((1300, 2700), {"hall": (1300, 2700)}),
}

# Targets: (metric, value, unit key or None, days from today to the deadline, shown on the sign-up page).
DEMO_TARGETS = {
    "acme": [(TargetMetric.MEN, 1000, None, 60, True), (TargetMetric.PARTICIPATION_RATE, 40, None, 120, False),
             (TargetMetric.PARTICIPATION_RATE, 50, "paris", 90, False),
             (TargetMetric.PARTICIPATION_RATE, 50, "nairobi", 90, False)],
    "northfield": [(TargetMetric.ALL, 1500, None, 75, True), (TargetMetric.PARTICIPATION_RATE, 10, None, 200, False),
                   (TargetMetric.MEN, 150, "dubai", 45, False)],
    "riverton": [(TargetMetric.MEN, 200, None, 100, True)],
}

# The demo tenants whose sign-up page has an image of its own (the others show HeForShe's).
DEMO_HEROES = {"acme", "northfield"}

# The campaign was launched this many days ago; about this share of its people came on launch day.
LAUNCH_DAYS_AGO = 30
LAUNCH_DAY_SHARE = 0.3

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


def demo_hero(primary: str, accent: str) -> bytes:
    """A wide JPEG for the sign-up page's hero: the brand's two colours with soft circles (a stand-in for the
    photo a partner would upload)."""
    width, height = 1600, 900
    start, end = Image.new("RGB", (width, height), primary), Image.new("RGB", (width, height), accent)
    image = Image.composite(end, start, Image.linear_gradient("L").rotate(90).resize((width, height)))
    draw = ImageDraw.Draw(image, "RGBA")
    for x, y, radius, alpha in ((350, 340, 210, 70), (560, 560, 300, 45), (1250, 260, 380, 40), (1100, 760, 160, 60)):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, alpha))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


#: Each demo tenant's plan (granted: the demo has no Stripe); the government and the NGO are sponsored, and
#: Globex stays on Community, to show what the free plan leaves out.
DEMO_PLANS = {"acme": "enterprise", "northfield": "partner"}
DEMO_SPONSORED = {"riverton": "A city government: sponsored by HeForShe", "kestrel": "An NGO: sponsored by HeForShe"}


def create_demo_tenants() -> list[Tenant]:
    """Create the demo tenants that do not exist yet; returns the ones created."""
    existing = set(db.session.scalars(select(Tenant.slug)))
    created = []
    for slug, name, kind, primary, accent, language, listed, units in DEMO_TENANTS:
        if slug in existing:
            continue
        tenant = registry.create_tenant(
            slug, name, kind, admin_email=f"admin@{slug}.example.org", primary_color=primary, accent_color=accent,
            default_language=language, listed=listed, logo=demo_logo(slug.capitalize(), primary), logo_mime="image/png",
            **({"hero": demo_hero(primary, accent), "hero_mime": "image/jpeg"} if slug in DEMO_HEROES else {}))
        with tenant_context(tenant):
            ids, made = {}, {}
            for key, unit_kind, unit_name, parent, country, city, lat, lon in units:
                unit = Unit(kind=unit_kind, name=unit_name, external_key=key, parent_id=ids.get(parent),
                            country_code=country, city=city, latitude=lat, longitude=lon)
                db.session.add(unit)
                db.session.flush()
                ids[key], made[key] = unit.id, unit
            for language_code, (headline, text) in DEMO_TEXTS.get(slug, {}).items():
                db.session.add(TenantText(language=language_code, headline=headline, commitment_text=text))
            _add_headcounts_and_targets(tenant, made)
            db.session.flush()
        if slug in DEMO_PLANS:
            plans.grant(tenant, DEMO_PLANS[slug])
        if slug in DEMO_SPONSORED:
            plans.set_sponsored(tenant, True, DEMO_SPONSORED[slug])
        created.append(tenant)
    return created


def _add_headcounts_and_targets(tenant: Tenant, units: dict[str, Unit]) -> None:
    """The demo tenant's eligible headcounts and targets, so that its tracker and participation rates show."""
    (tenant.eligible_men, tenant.eligible_total), by_unit = DEMO_HEADCOUNTS.get(tenant.slug, ((None, None), {}))
    for key, (men, total) in by_unit.items():
        units[key].eligible_men, units[key].eligible_total = men, total
    today = date.today()
    for metric, value, unit_key, days, public in DEMO_TARGETS.get(tenant.slug, []):
        db.session.add(Target(metric=metric, value=value, unit_id=units[unit_key].id if unit_key else None,
                              starts_on=today - timedelta(days=LAUNCH_DAYS_AGO),
                              deadline=today + timedelta(days=days), public=public))


@dataclass(frozen=True)
class DemoStep:
    """One generated commitment, to be made as ``tenant_id``."""

    tenant_id: int
    signup: signups.SignUp


def plan_commitments(tenants: list[Tenant], count: int, seed: int) -> list[DemoStep]:
    """A reproducible list of ``count`` commitments spread over the tenants, countries, genders and the month
    since the campaign's launch: a peak on launch day, then fewer each day, as after a launch mail."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    weights = [TENANT_WEIGHTS.get(t.slug, 10) for t in tenants]
    located_units, departments = {}, {}
    for tenant in tenants:
        with tenant_context(tenant):
            located_units[tenant.id] = list(db.session.scalars(select(Unit).where(Unit.country_code.is_not(None))))
            departments[tenant.id] = [unit for unit in db.session.scalars(select(Unit)) if unit.kind.is_department]
    steps = []
    for n in range(count):
        tenant = rng.choices(tenants, weights)[0]
        gender = rng.choices([g for g, _ in GENDER_WEIGHTS], [w for _, w in GENDER_WEIGHTS])[0]
        units = located_units[tenant.id]
        department_id = None
        if units and rng.random() < 0.7:
            unit = rng.choice(units)
            country, city, unit_id = unit.country_code, unit.city, unit.id
            # Most name their department too: one of the campus's own faculties, or any of the company's.
            nearby = [d for d in departments[tenant.id] if d.parent_id in (None, unit.id)]
            if nearby and rng.random() < 0.8:
                department_id = rng.choice(nearby).id
        else:
            (country, city), unit_id = rng.choice(SPREAD), None
        city, place_id = places.locate(country, city, None, "en")
        if rng.random() < LAUNCH_DAY_SHARE:
            since_launch = rng.random()
        else:
            since_launch = min(rng.expovariate(1 / 7), LAUNCH_DAYS_AGO - 0.01)
        age = timedelta(days=LAUNCH_DAYS_AGO - since_launch)
        steps.append(DemoStep(tenant.id, signups.SignUp(
            email=f"person{n}@{tenant.slug}.example.org", gender=gender, country_code=country, city=city,
            place_id=place_id, unit_id=unit_id, department_id=department_id, language=tenant.default_language,
            consent_version="2026-11",
            source=rng.choice([Source.WEB, Source.WEB, Source.WEB, Source.IMPORT]), created_at=now - age)))
    return steps


def apply(step: DemoStep) -> None:
    """Make one planned commitment through the ordinary sign-up service."""
    with tenant_context(step.tenant_id):
        signups.commit(step.signup)
