"""The LTI tool's work: registering a platform, answering its login, checking a launch (every check before the
first write), the one-click commitment (verified, ``source=registration``) and the completion score."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, g, request
from flask_babel import gettext as _
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from jwcrypto.jwk import JWK
from pylti1p3.exception import LtiException
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from requests import RequestException
from sqlalchemy import delete, select

from core import crypto
from core.database import insert_new
from core.extensions import db
from core.outbound import public_only
from core.rollup.models import Gender, Source
from core.tenancy import current_tenant_id
from tenant_portal.api import services as api
from tenant_portal.lti import tool
from tenant_portal.lti.models import Course, Deployment, Platform, Problem, ToolKey, UsedNonce
from tenant_portal.services import record
from tenants.models import Tenant, Unit, utcnow
from tenants.services import signups

log = logging.getLogger(__name__)

#: How long the login's state (and its nonce) lives, and how long a valid launch may be used.
STATE_SECONDS = 10 * 60
LAUNCH_SECONDS = 30 * 60
#: How many problems the LTI page keeps.
KEPT_PROBLEMS = 50
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


class PlatformRefused(ValueError):
    """A platform's settings that cannot be saved; the message (translated) says why."""


class LaunchRefused(ValueError):
    """A login or launch that cannot be used: ``reason`` for the admin's page, the message for the student."""

    def __init__(self, reason: str, message: str | None = None):
        super().__init__(message or _("This link could not be used: please open HeForShe again from your course."))
        self.reason = reason


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # Salted with the tenant: a state or launch made on one organisation's site is worthless on another's.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"lti-{purpose}:{current_tenant_id()}")


# --- Setting up ------------------------------------------------------------------------------------------------

def platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).order_by(Platform.created_at)))


def deployments(platform: Platform) -> list[str]:
    return list(db.session.scalars(select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)
                                   .order_by(Deployment.deployment_id)))


def courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.title, Course.context_id)))


def problems() -> list[Problem]:
    return list(db.session.scalars(select(Problem).order_by(Problem.created_at.desc()).limit(KEPT_PROBLEMS)))


def _url(text: str) -> str:
    parts = urlsplit(text.strip())
    allowed = ("https",) if public_only() else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.fragment:
        raise PlatformRefused(_("“%(url)s” is not an https address.", url=text.strip()))
    return text.strip()


def _make_tool_key() -> None:
    if tool.tool_key() is not None:
        return
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    db.session.add(ToolKey(kid=JWK.from_pem(pem.encode()).thumbprint(), private_key=crypto.encrypt(pem)))


def register_platform(tenant: Tenant, issuer: str, client_id: str, deployment_ids: str, key_set_url: str,
                      auth_login_url: str, auth_token_url: str) -> Platform:
    """Register a learning platform (or change the one with this issuer and client id); in the audit log. The
    tool's key is made with the first platform."""
    issuer, client_id = issuer.strip(), client_id.strip()
    ids = sorted({line.strip() for line in deployment_ids.splitlines() if line.strip()})
    if not ids:
        raise PlatformRefused(_("Name at least one deployment id."))
    urls = [_url(each) for each in (key_set_url, auth_login_url, auth_token_url)]
    platform = db.session.scalars(select(Platform).where(Platform.issuer == issuer,
                                                         Platform.client_id == client_id)).one_or_none()
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id)
        db.session.add(platform)
    platform.key_set_url, platform.auth_login_url, platform.auth_token_url = urls
    db.session.flush()
    db.session.execute(delete(Deployment).where(Deployment.platform_id == platform.id))
    db.session.add_all(Deployment(platform_id=platform.id, deployment_id=each) for each in ids)
    _make_tool_key()
    db.session.flush()
    record("lti.platform", tenant.slug, issuer=issuer, client_id=client_id, deployments=ids)
    return platform


def set_course_unit(tenant: Tenant, platform_id: str, context_id: str, unit_id: str | None) -> Course | None:
    """Give a course the unit its students commit in (None: no unit); None when there is no such course."""
    course = next((each for each in courses() if str(each.platform_id) == platform_id
                   and each.context_id == context_id), None)
    if course is None:
        return None
    unit = db.session.scalars(select(Unit).where(Unit.id == _uuid(unit_id))).one_or_none() if unit_id else None
    course.unit_id = unit.id if unit else None
    db.session.flush()
    record("lti.course", tenant.slug, course=course.title or course.context_id, unit=unit.name if unit else None)
    return course


def frame_ancestors() -> str:
    """The ``frame-ancestors`` sources of the tool's pages: the registered platforms' origins."""
    origins = set()
    for platform in platforms():
        for url in (platform.issuer, platform.auth_login_url):
            parts = urlsplit(url)
            if parts.scheme in ("https", "http") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return " ".join(sorted(origins)) or "'none'"


def note_problem(reason: str) -> None:
    """Keep a refusal's reason for the LTI page (the latest few), even though the answer is an error."""
    db.session.add(Problem(reason=reason[:500]))
    db.session.flush()
    stale = select(Problem.id).order_by(Problem.created_at.desc()).offset(KEPT_PROBLEMS)
    db.session.execute(delete(Problem).where(Problem.id.in_(stale.scalar_subquery())))
    g.keep_refusal = True


# --- The login and the launch -------------------------------------------------------------------------------

def login(params, launch_url: str) -> str:
    """Answer the platform's third-party-initiated login: the address of its authentication request, with a
    signed state that carries a fresh nonce. Nothing is written."""
    issuer, client_id = params.get("iss", ""), params.get("client_id") or None
    config = tool.ToolConfig()
    found = (config.find_registration_by_params(issuer, client_id) if client_id
             else config.find_registration_by_issuer(issuer))
    if not issuer or found is None:
        raise LaunchRefused(_("A login came from an unknown platform (issuer “%(issuer)s”).", issuer=issuer[:200]))
    if not params.get("login_hint"):
        raise LaunchRefused(_("A login came without a login hint."))
    nonce = secrets.token_urlsafe(24)
    state = _serializer("state").dumps({"nonce": nonce, "platform": str(found.platform.id)})
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": found.platform.client_id, "redirect_uri": launch_url, "login_hint": params["login_hint"],
             "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in found.platform.auth_login_url else "?"
    return found.platform.auth_login_url + separator + urlencode(query)


@dataclass(frozen=True)
class LaunchData:
    """A valid launch, as the one-click page needs it."""

    platform_id: str
    subject: str
    email: str
    name: str
    context_id: str
    lineitem: str | None
    scopes: list


def launch(form) -> tuple[LaunchData, str]:
    """Check the platform's launch (docs/lti.md, in that order) and only then write: the nonce as used, the course.
    The launch and the token the one-click form carries."""
    target = _claims_unverified_target(form.get("id_token", ""))
    if target is not None and urlsplit(target).netloc.lower() != request.host.lower():
        raise LaunchRefused(_("A launch was meant for another organisation's site (%(site)s).",
                              site=urlsplit(target).netloc[:200]))
    try:
        state = _serializer("state").loads(form.get("state", ""), max_age=STATE_SECONDS)
    except SignatureExpired:
        raise LaunchRefused(_("A launch came after its login had expired.")) from None
    except BadData:
        raise LaunchRefused(_("A launch came with a state this site did not make (for another organisation, or "
                              "forged).")) from None
    checked = tool.Launch(state["nonce"])
    try:
        checked.validate_jwt_format().validate_nonce()
    except LtiException:
        raise LaunchRefused(_("A launch's token is not the one its login asked for.")) from None
    try:
        checked.validate_registration()
    except LtiException:
        raise LaunchRefused(_("A launch came from an unknown platform (issuer “%(issuer)s”).",
                              issuer=str(checked.claims().get("iss", ""))[:200])) from None
    if str(checked.platform().id) != state.get("platform"):
        raise LaunchRefused(_("A launch's token is not the one its login asked for."))
    try:
        checked.validate_jwt_signature()
    except tool.Expired:
        raise LaunchRefused(_("A launch's token had expired."), _(
            "This link has expired: please open HeForShe again from your course.")) from None
    except (LtiException, RequestException) as error:
        log.info("LTI launch refused: %s", error)
        raise LaunchRefused(_("A launch's token is not validly signed for this tool.")) from None
    try:
        checked.validate_deployment()
    except LtiException:
        raise LaunchRefused(_("A launch came from an unknown deployment (“%(deployment)s”).", deployment=str(
            checked.claims().get(CLAIM + "deployment_id", ""))[:200])) from None
    try:
        checked.validate_message()
    except LtiException:
        raise LaunchRefused(_("A launch was not a valid resource link launch.")) from None
    claims = checked.claims()
    if not checked.is_resource_launch() or not isinstance(claims.get("email"), str) or not claims.get("sub"):
        raise LaunchRefused(_("A launch came without the student's email address (the platform must share it)."),
                            _("Your course does not share your email address with HeForShe: please tell your "
                              "teacher."))
    platform = checked.platform()
    # A nonce is kept as long as its state lives: past that, the state check refuses the launch anyway.
    db.session.execute(delete(UsedNonce).where(UsedNonce.expires_at < utcnow()))
    used = insert_new(UsedNonce.__table__, ("tenant_id", "nonce"), {
        "tenant_id": current_tenant_id(), "nonce": claims["nonce"],
        "expires_at": utcnow() + timedelta(seconds=STATE_SECONDS)}, returning="nonce")
    if used is None:
        raise LaunchRefused(_("A launch's token was used before (a replay)."))
    context = claims.get(CLAIM + "context") or {}
    context_id = str(context.get("id") or "")[:255]
    if context_id and db.session.get(Course, {"tenant_id": current_tenant_id(), "platform_id": platform.id,
                                              "context_id": context_id}) is None:
        db.session.add(Course(platform_id=platform.id, context_id=context_id,
                              title=str(context.get("title") or context.get("label") or "")[:255]))
        db.session.flush()
    ags = claims.get(AGS_CLAIM) or {}
    data = LaunchData(str(platform.id), str(claims["sub"])[:100], claims["email"][:320],
                      str(claims.get("name") or "")[:200], context_id,
                      ags.get("lineitem") if isinstance(ags.get("lineitem"), str) else None,
                      [each for each in ags.get("scope") or [] if isinstance(each, str)])
    return data, _serializer("launch").dumps(data.__dict__)


def _claims_unverified_target(id_token: str) -> str | None:
    """The target link URI the token names, read before its signature is checked (only to say where it was
    meant to go; nothing else is taken from it before the checks)."""
    try:
        target = jwt.decode(id_token, options={"verify_signature": False}).get(CLAIM + "target_link_uri")
    except jwt.InvalidTokenError:
        return None
    return target if isinstance(target, str) else None


def read_launch(token: str) -> LaunchData:
    """The launch the one-click form carries (valid for ``LAUNCH_SECONDS``)."""
    try:
        return LaunchData(**_serializer("launch").loads(token, max_age=LAUNCH_SECONDS))
    except SignatureExpired:
        raise LaunchRefused("", _("This link has expired: please open HeForShe again from your course.")) from None
    except (BadData, TypeError):
        raise LaunchRefused("") from None


# --- The commitment and the score -------------------------------------------------------------------------------

def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError):
        return None


def course_unit(data: LaunchData) -> Unit | None:
    course = db.session.scalars(select(Course).where(Course.platform_id == _uuid(data.platform_id),
                                                     Course.context_id == data.context_id)).one_or_none()
    if course is None or course.unit_id is None:
        return None
    return db.session.scalars(select(Unit).where(Unit.id == course.unit_id)).one_or_none()


def commit(tenant: Tenant, data: LaunchData, country_code: str | None = None,
           gender: Gender = Gender.UNDISCLOSED) -> bool:
    """The student pressed "I commit": a verified commitment (``source=registration``) in the course's unit, then
    the completion score. Whether the commitment is new."""
    unit = course_unit(data)
    country = (unit.country_code if unit else None) or country_code
    if country is None:
        raise LaunchRefused(_("A student could not commit: the course has no unit with a country."), _(
            "HeForShe is not set up for this course yet: please tell your teacher."))
    _commitment, new = api.commit(signups.SignUp(
        email=data.email, gender=gender, country_code=country, **signups.unit_fields(unit),
        language=tenant.default_language, consent_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        source=Source.REGISTRATION, verified=True, external_id=data.subject, name=data.name or None))
    send_score(data)
    return new


def send_score(data: LaunchData) -> bool:
    """Post the completion score (1 of 1, Completed, FullyGraded) to the course's line item when the launch gave
    one; a refusal is kept for the LTI page, the commitment stands."""
    if not data.lineitem or SCORE_SCOPE not in data.scopes:
        return False
    platform = db.session.scalars(select(Platform).where(Platform.id == _uuid(data.platform_id))).one_or_none()
    if platform is None:
        return False
    grade = (Grade().set_score_given(1).set_score_maximum(1).set_activity_progress("Completed")
             .set_grading_progress("FullyGraded").set_user_id(data.subject)
             .set_timestamp(datetime.now(timezone.utc).isoformat()))
    service = AssignmentsGradesService(tool.Connector(platform), {"scope": data.scopes, "lineitem": data.lineitem})
    try:
        service.put_grade(grade)
    except (LtiException, RequestException) as error:
        log.warning("LTI score refused by %s: %s", platform.issuer, error)
        db.session.add(Problem(reason=_("The platform did not take a completion score (%(issuer)s).",
                                        issuer=platform.issuer[:200])))
        db.session.flush()
        return False
    return True
