"""Students who opt in during course registration become commitments: checked one record at a time (a bad record
never blocks the others), stored verified with ``source=registration``, and remembered by (term, student id) so a
batch sent again changes nothing. A student who did not opt in leaves nothing behind."""

from __future__ import annotations

import csv
import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from wtforms.validators import ValidationError

from core.database import insert_new
from core.extensions import db
from core.i18n import is_country_code
from core.rollup.models import Gender, Source
from core.tenancy import current_tenant_id
from tenant_portal.api import services as api
from tenant_portal.registrations.models import Registration, RegistrationWidget, UsedLaunchToken
from tenant_portal.services import record
from tenant_portal.units.services import ImportProblem, csv_records, decode_csv
from tenants.models import Tenant, Unit, utcnow
from tenants.services import signups
from tenants.forms import plain_text

#: The most records one batch (or one uploaded file) may carry.
MAX_RECORDS = 1000
#: The largest CSV file the portal takes (1,000 records are well under it).
MAX_CSV_BYTES = 512 * 1024
COLUMNS = ("student_id", "email", "opted_in", "gender", "country", "unit_key", "term")
REQUIRED_COLUMNS = ("student_id", "email", "opted_in", "unit_key", "term")
_YES, _NO = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class Outcome(enum.Enum):
    COUNTED = "counted"  # a new commitment
    REPEAT = "repeat"  # this student, or this person, committed before: nothing changed
    NOT_OPTED_IN = "not_opted_in"  # nothing kept
    REFUSED = "refused"  # the record is wrong; the reason says how


@dataclass(frozen=True)
class Record:
    """One student's answer, checked."""

    student_id: str
    term: str
    opted_in: bool
    email: str | None = None
    unit: Unit | None = None
    gender: Gender = Gender.UNDISCLOSED
    country: str | None = None


@dataclass(frozen=True)
class Result:
    """What became of one record (``position``: its index in a batch, its line in a file)."""

    position: int
    student_id: str | None
    outcome: Outcome
    reason: str | None = None
    commitment_id: uuid.UUID | None = None


def _text(raw: Mapping, name: str, max_length: int, problems: list[str]) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.append(_("%(field)s must be text.", field=name))
        return None
    value = value.strip()
    if len(value) > max_length:
        problems.append(_("%(field)s must be plain text of at most %(max)s characters.", field=name,
                          max=format_decimal(max_length)))
        return None
    try:  # the sign-up form's own rule for free text: no markup, formulas or control characters
        plain_text(None, SimpleNamespace(data=value))
    except ValidationError as error:
        problems.append(f"{name}: {error}")
        return None
    return value or None


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    return None


def units_by_key() -> dict[str, Unit]:
    """The site's units by their key, read once for a whole batch or file."""
    return {unit.external_key: unit for unit in db.session.scalars(select(Unit).where(Unit.external_key.is_not(None)))}


def check_record(raw: Mapping, units: dict[str, Unit] | None = None) -> tuple[Record | None, list[str]]:
    """One record from a batch or a file, checked against the site's units: the record, or why it is refused.
    A record that did not opt in is checked for nothing else (nothing of it is kept)."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        return None, [_("Each record must be an object.")]
    unknown = sorted(set(raw) - set(COLUMNS))
    if unknown:
        problems.append(_("Unknown fields: %(fields)s.", fields=", ".join(map(str, unknown))))
    student_id = _text(raw, "student_id", 100, problems)
    term = _text(raw, "term", 40, problems)
    opted_in = _flag(raw.get("opted_in"))
    if student_id is None:
        problems.append(_("The student id is missing."))
    if term is None:
        problems.append(_("The term is missing."))
    if opted_in is None:
        problems.append(_("opted_in must be true or false."))
    if problems or not opted_in:
        return (None if problems else Record(student_id, term, False)), problems

    email = _text(raw, "email", 254, problems)
    if email is None:
        problems.append(_("The email address is missing."))
    else:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            problems.append(_("Please enter a valid email address, like name@example.org."))
    unit_key = _text(raw, "unit_key", 200, problems)
    unit = None
    if unit_key is None:
        problems.append(_("The unit key is missing."))
    else:
        unit = (units.get(unit_key) if units is not None else
                db.session.scalars(select(Unit).where(Unit.external_key == unit_key)).one_or_none())
        if unit is None:
            problems.append(_("There is no unit with the key “%(key)s”.", key=unit_key))
    gender = Gender.UNDISCLOSED
    if (given := _text(raw, "gender", 24, problems)) is not None:
        if given not in {each.value for each in Gender}:
            problems.append(_("The gender “%(gender)s” is not one of: %(genders)s.", gender=given,
                              genders=", ".join(each.value for each in Gender)))
        else:
            gender = Gender(given)
    country = _text(raw, "country", 2, problems)
    if country is not None:
        country = country.upper()
        if not is_country_code(country):
            problems.append(_("“%(country)s” is not a two-letter country code (like FR or KE).", country=country))
    elif unit is not None and unit.country_code is None:
        problems.append(_("The country is missing, and the unit has none to take it from."))
    if problems:
        return None, problems
    return Record(student_id, term, True, email, unit, gender, country or unit.country_code), []


def register(tenant: Tenant, checked: Iterable[tuple[int, Record | None, list[str]]]) -> list[Result]:
    """Bring in the checked records (position, record, problems), each on its own: a refused one is reported
    and the next goes on."""
    checked = list(checked)
    # A batch sent again is answered from what is remembered, in one query for the whole batch.
    known = _known({(answer.term, answer.student_id) for _, answer, _ in checked if answer and answer.opted_in})
    results = []
    for position, answer, problems in checked:
        if answer is None:
            results.append(Result(position, None, Outcome.REFUSED, " ".join(problems)))
        elif not answer.opted_in:
            results.append(Result(position, answer.student_id, Outcome.NOT_OPTED_IN))
        elif (answer.term, answer.student_id) in known:
            results.append(Result(position, answer.student_id, Outcome.REPEAT,
                                  commitment_id=known[answer.term, answer.student_id]))
        else:
            result = _register(tenant, position, answer)
            known[answer.term, answer.student_id] = result.commitment_id
            results.append(result)
    return results


def _known(keys: set[tuple[str, str]]) -> dict[tuple[str, str], uuid.UUID]:
    """The commitments of the (term, student id) pairs remembered already."""
    if not keys:
        return {}
    rows = db.session.execute(select(Registration.term, Registration.student_id, Registration.commitment_id).where(
        Registration.student_id.in_({student for _, student in keys})))
    return {(term, student): commitment for term, student, commitment in rows if (term, student) in keys}


def _register(tenant: Tenant, position: int, answer: Record) -> Result:
    commitment, new = api.commit(signups.SignUp(
        email=answer.email, gender=answer.gender, country_code=answer.country, **signups.unit_fields(answer.unit),
        language=tenant.default_language, consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        source=Source.REGISTRATION, verified=True, external_id=answer.student_id))
    commitment_id = commitment.id
    # Two batches naming the same student at once: one row wins, and the person counted once either way.
    insert_new(Registration.__table__, ("tenant_id", "term", "student_id"), {
        "tenant_id": current_tenant_id(), "term": answer.term, "student_id": answer.student_id,
        "commitment_id": commitment_id, "created_at": utcnow()}, returning="student_id")
    return Result(position, answer.student_id, Outcome.COUNTED if new else Outcome.REPEAT,
                  commitment_id=commitment_id)


def register_batch(tenant: Tenant, records: list) -> list[Result]:
    """A batch from the student information system (index = position in the batch)."""
    units = units_by_key()
    return register(tenant, ((index, *check_record(raw, units)) for index, raw in enumerate(records)))


# --- CSV files, for systems without an API client -------------------------------------------------------------


@dataclass
class FilePlan:
    """A checked file: its records by line, and every problem by line (1 is the header; None: the whole file)."""

    rows: list[tuple[int, Record]] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def opted_in(self) -> int:
        return sum(1 for _line, answer in self.rows if answer.opted_in)


def check_file(data: bytes | str) -> FilePlan:
    """Read and check a CSV of registrations, writing nothing (read as the units import reads its files)."""
    plan = FilePlan()
    text, problem = decode_csv(data)
    if problem:
        plan.problems.append(problem)
        return plan
    columns, records, known_units = None, 0, units_by_key()
    try:
        for line, cells in csv_records(text):
            if not any(cells):
                continue
            if columns is None:
                columns = [cell.lower() for cell in cells]
                missing = [name for name in REQUIRED_COLUMNS if name not in columns]
                unknown = [name for name in columns if name not in COLUMNS]
                if missing or unknown:
                    plan.problems.append(ImportProblem(line, _(
                        "The first line must name the columns, from: %(columns)s. Unknown: %(unknown)s. "
                        "Missing: %(missing)s.", columns=", ".join(COLUMNS), unknown=", ".join(unknown) or "-",
                        missing=", ".join(missing) or "-")))
                    return plan
                continue
            records += 1
            if records > MAX_RECORDS:
                plan.problems.append(ImportProblem(None, _(
                    "The file has more than %(max)s students: please split it.", max=format_decimal(MAX_RECORDS))))
                return plan
            if len(cells) != len(columns):
                plan.problems.append(ImportProblem(line, _(
                    "The line has %(cells)s cells; the first line names %(columns)s columns.",
                    cells=format_decimal(len(cells)), columns=format_decimal(len(columns)))))
                continue
            answer, problems = check_record(dict(zip(columns, cells)), known_units)
            plan.problems.extend(ImportProblem(line, problem) for problem in problems)
            if answer is not None:
                plan.rows.append((line, answer))
    except csv.Error as error:
        plan.problems.append(ImportProblem(None, _("The file is not valid CSV: %(error)s", error=str(error))))
        return plan
    if columns is None:
        plan.problems.append(ImportProblem(1, _("The file is empty: its first line must name the columns.")))
    elif not plan.rows and not plan.problems:
        plan.problems.append(ImportProblem(None, _("The file names the columns but has no students.")))
    return plan


def import_file(tenant: Tenant, plan: FilePlan) -> dict[Outcome, int]:
    """Bring in a checked file's records, noted in the audit log; how many records had each outcome."""
    results = register(tenant, ((line, answer, []) for line, answer in plan.rows))
    tally = {outcome: sum(1 for result in results if result.outcome is outcome) for outcome in Outcome}
    record("registrations.import", tenant.slug, **{outcome.value: count for outcome, count in tally.items()})
    return tally


def opt_in_texts(tenant: Tenant) -> dict[str, str]:
    """The opt-in question to paste into the registration form, in each of the tenant's languages."""
    texts = {}
    for language in tenant.enabled_languages:
        with force_locale(language):
            texts[language] = _(
                "Yes, I commit to HeForShe, UN Women's movement for gender equality, with %(name)s. My commitment "
                "is counted with my unit; only numbers, never my name, are shown.", name=tenant.name)
    return texts


# --- The embeddable opt-in, for registration portals that can embed a page but not call an API -------------

#: The longest a launch token may live: the registration system signs one as it shows the page.
MAX_TOKEN_SECONDS = 15 * 60
LAUNCH_ALGORITHMS = ["RS256", "ES256"]


class WidgetRefused(ValueError):
    """A widget setting that cannot be saved; the message (translated) says why."""


class LaunchRefused(ValueError):
    """A launch token that cannot be used; the message (translated) says why, for the student."""


def widget() -> RegistrationWidget | None:
    """The current tenant's widget settings (None until an admin sets a key)."""
    return db.session.scalars(select(RegistrationWidget)).one_or_none()


def _public_key(pem: str):
    for kind in (RSAKey, ECKey):
        try:
            key = kind.import_key(pem.strip().encode())
        except (ValueError, TypeError, JoseError):
            continue
        if not key.is_private:
            return key
        raise WidgetRefused(_("This is a private key: paste the public one (it starts with "
                              "“-----BEGIN PUBLIC KEY-----”), and keep the private key in your system."))
    raise WidgetRefused(_("This is not an RSA or EC public key in PEM form (“-----BEGIN PUBLIC KEY-----”)."))


def _origin(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or "*" in text:
        raise WidgetRefused(_("“%(origin)s” is not an origin like https://registration.university.example.",
                              origin=text.strip()))
    return f"{parts.scheme}://{parts.netloc.lower()}"


def save_widget(tenant: Tenant, public_key: str, origins: str) -> RegistrationWidget:
    """Keep the widget's public key and the origins allowed to embed it (one per line); in the audit log."""
    _public_key(public_key)
    allowed = sorted({_origin(line) for line in origins.splitlines() if line.strip()})
    if not allowed:
        raise WidgetRefused(_("Name at least one origin allowed to embed the opt-in."))
    settings = widget() or RegistrationWidget()
    settings.public_key, settings.embed_origins = public_key.strip(), allowed
    db.session.add(settings)
    db.session.flush()
    record("registrations.widget", tenant.slug, origins=allowed)
    return settings


@dataclass(frozen=True)
class Launch:
    """A student named by a valid launch token."""

    jti: str
    expires_at: datetime
    answer: Record


def read_launch(token: str, audience: str) -> Launch:
    """Check a launch token (signature, audience, expiry, lifetime, the student's record) without using it."""
    settings = widget()
    if settings is None:
        raise LaunchRefused(_("This opt-in is not set up yet: please tell your registration office."))
    try:
        decoded = jwt.decode(token, _public_key(settings.public_key), algorithms=LAUNCH_ALGORITHMS)
        jwt.JWTClaimsRegistry(aud={"essential": True, "value": audience}, exp={"essential": True},
                              iat={"essential": True}, jti={"essential": True}, sub={"essential": True},
                              leeway=30).validate(decoded.claims)
    except ExpiredTokenError:
        raise LaunchRefused(_("This link has expired: please open the opt-in again from your registration "
                              "page.")) from None
    except (JoseError, ValueError, TypeError):
        raise LaunchRefused(_("This link is not valid: please open the opt-in again from your registration "
                              "page.")) from None
    claims = decoded.claims
    if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int) \
            or claims["exp"] - claims["iat"] > MAX_TOKEN_SECONDS or not isinstance(claims["jti"], str) \
            or len(claims["jti"]) > 200:
        raise LaunchRefused(_("This link is not valid: please open the opt-in again from your registration "
                              "page."))
    answer, problems = check_record({"student_id": claims["sub"], "opted_in": True, **{
        name: claims[name] for name in ("email", "term", "unit_key", "gender", "country") if name in claims}})
    if answer is None:
        raise LaunchRefused(_("Your registration details could not be used (%(problems)s): please tell your "
                              "registration office.", problems=" ".join(problems)))
    return Launch(claims["jti"], datetime.fromtimestamp(claims["exp"], timezone.utc), answer)


def accept_launch(tenant: Tenant, token: str, audience: str) -> Result:
    """The student pressed "I commit": use the token (once) and bring the student in."""
    launch = read_launch(token, audience)
    used = insert_new(UsedLaunchToken.__table__, ("tenant_id", "jti"), {
        "tenant_id": current_tenant_id(), "jti": launch.jti, "expires_at": launch.expires_at}, returning="jti")
    if used is None:
        raise LaunchRefused(_("This link has been used already: your answer is recorded."))
    return register(tenant, [(0, launch.answer, [])])[0]


def frame_ancestors() -> str:
    """The Content-Security-Policy ``frame-ancestors`` sources of the widget: the registered origins only."""
    settings = widget()
    return " ".join(settings.embed_origins) if settings and settings.embed_origins else "'none'"
