"""Single sign-on logic: a tenant's settings, the person an identity provider vouches for, and the walls around them.

Plain functions; they flush and never commit (the request that calls them owns the transaction).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from core import crypto
from core.database import insert
from core.extensions import db
from core.tenancy import current_tenant_id, tenant_context
from tenants.models import Member, Role, Tenant, TenantStatus, Unit, utcnow
from tenants.services import InvalidTenantSetting, canonical_email, find_or_create_member
from tenants.sso.models import Protocol, SsoConnection, SsoEmailDomain, SsoRequest, UnmappedUnit, UsedAssertion

PENDING_REQUEST_LIFETIME = timedelta(minutes=10)
# What ``secrets.token_urlsafe`` makes: the only RelayState worth a database lookup.
_RELAY_STATE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Public mailbox providers: nobody's organisation, so no tenant may claim them for discovery.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.ru", "yandex.ru",
    "qq.com", "163.com", "126.com",
})

# What the person is told when sign-in fails; the details go to the tenant's admins only.
USER_MESSAGES = {
    "failed": _l("We could not sign you in through your organisation. Please try again."),
    "domain": _l("This email address is not one your organisation lets join here. "
                 "Please use your work or university address."),
    "no_email": _l("Your organisation's sign-in did not tell us your email address. "
                   "Please ask your administrator to check the sign-in settings."),
    "unavailable": _l("Sign-in through your organisation is not working at the moment. "
                      "Your administrator can see why; please try again later."),
}


class SsoError(Exception):
    """A sign-in that did not succeed: ``detail`` is for the admin, ``reason`` picks the person's message."""

    def __init__(self, detail: str, reason: str = "failed"):
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


@dataclass
class Identity:
    """The person an identity provider vouches for, with everything it sent (shown by "test connection")."""

    subject: str
    email: str | None
    name: str | None
    unit: str | None
    groups: list[str]
    claims: dict = field(default_factory=dict)


def connection(enabled_only: bool = False) -> SsoConnection | None:
    """The current tenant's identity-provider connection, if it has one."""
    query = select(SsoConnection)
    if enabled_only:
        query = query.where(SsoConnection.enabled.is_(True))
    return db.session.scalars(query).one_or_none()


def _first(value):
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else None
    return str(value) if value not in (None, "") else None


def identity_from_claims(conn: SsoConnection, subject: str, claims: dict) -> Identity:
    """Read email, name, unit and groups from the claims (OIDC) or attributes (SAML) the connection maps."""
    groups = claims.get(conn.claim_groups) or []
    if isinstance(groups, str):
        groups = [groups]
    return Identity(
        subject=subject, email=_first(claims.get(conn.claim_email)), name=_first(claims.get(conn.claim_name)),
        unit=_first(claims.get(conn.claim_unit)) if conn.claim_unit else None,
        groups=[str(g) for g in groups], claims=claims,
    )


def sign_in_member(conn: SsoConnection, identity: Identity) -> Member:
    """The member the identity provider vouches for, created in this tenant on first sign-in.

    Raises ``SsoError`` when the provider sent no email, or one from a domain the tenant does not allow.
    """
    if not identity.email or "@" not in identity.email:
        raise SsoError(f"the identity provider sent no email address (expected in {conn.claim_email!r})", "no_email")
    domain = identity.email.rpartition("@")[2].lower()
    if conn.allowed_domains and domain not in conn.allowed_domains:
        raise SsoError(f"{identity.email} is outside the allowed domains ({', '.join(conn.allowed_domains)})",
                       "domain")
    member = db.session.scalars(select(Member).where(Member.sso_subject == identity.subject)).one_or_none()
    if member is None:
        member = find_or_create_member(identity.email, identity.name)
        member.sso_subject = identity.subject
    member.email = identity.email
    member.email_canonical = canonical_email(identity.email)
    if identity.name:
        member.display_name = identity.name[:100]
    member.unit_id = map_unit(conn, identity.unit)
    if conn.admin_group:
        if conn.admin_group in identity.groups:
            member.role = Role.ADMIN
        elif member.role is Role.ADMIN:
            member.role = Role.MEMBER  # the group was taken away at the identity provider
    db.session.flush()
    return member


def map_unit(conn: SsoConnection, value: str | None) -> uuid.UUID | None:
    """The unit a claim names (by key or name); unknown names go to the default unit and are listed for the admin."""
    if not value:
        return conn.default_unit_id
    unit_id = db.session.scalar(
        select(Unit.id).where(or_(Unit.external_key == value, Unit.name == value)).order_by(Unit.name).limit(1))
    if unit_id is not None:
        return unit_id
    db.session.execute(
        insert(UnmappedUnit)
        .values(tenant_id=current_tenant_id(), value=value[:200], times_seen=1, last_seen_at=utcnow())
        .on_conflict_do_update(index_elements=["tenant_id", "value"],
                               set_={"times_seen": UnmappedUnit.times_seen + 1, "last_seen_at": utcnow()}))
    return conn.default_unit_id


def unmapped_units() -> list[UnmappedUnit]:
    """Unit names the identity provider sent that matched no unit, most seen first."""
    return list(db.session.scalars(
        select(UnmappedUnit).order_by(UnmappedUnit.times_seen.desc(), UnmappedUnit.value)))


def record_failure(conn: SsoConnection, error: SsoError) -> None:
    """Keep the last failure's details for the admin's settings page."""
    conn.last_error = error.detail[:2000]
    conn.last_error_at = utcnow()
    db.session.flush()


def record_test(conn: SsoConnection, identity: Identity) -> None:
    """Keep what the identity provider sent during "test connection", for the admin to check the mapping."""
    conn.last_test = {
        "at": utcnow().isoformat(timespec="seconds"), "subject": identity.subject, "email": identity.email,
        "name": identity.name, "unit": identity.unit, "groups": identity.groups,
        "claims": {k: v for k, v in identity.claims.items() if isinstance(v, (str, int, float, bool, list))},
    }
    db.session.flush()


@dataclass
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None  # None keeps the stored one
    scopes: str = "openid email profile"


@dataclass
class SamlSettings:
    metadata_xml: str
    metadata_url: str | None = None


@dataclass
class Mapping:
    email: str
    name: str
    unit: str | None
    groups: str
    admin_group: str | None
    allowed_domains: list[str]
    default_unit_id: uuid.UUID | None


def configure(tenant: Tenant, protocol: Protocol, mapping: Mapping, oidc: OidcSettings | None = None,
              saml: SamlSettings | None = None, enabled: bool = True) -> SsoConnection:
    """Create or change the current tenant's connection. The next sign-in uses it (no restart)."""
    conn = connection() or SsoConnection(protocol=protocol)
    conn.protocol = protocol
    conn.enabled = enabled
    if protocol is Protocol.OIDC:
        if oidc is None:
            raise InvalidTenantSetting(_l("OpenID Connect needs an issuer, a client ID and a client secret."))
        conn.oidc_issuer = oidc.issuer.rstrip("/")
        conn.oidc_client_id = oidc.client_id
        conn.oidc_scopes = oidc.scopes
        if oidc.client_secret:
            conn.oidc_client_secret = crypto.encrypt(oidc.client_secret)
        if not conn.oidc_client_secret:
            raise InvalidTenantSetting(_l("Please enter the client secret."))
    else:
        if saml is None:
            raise InvalidTenantSetting(_l("SAML needs the identity provider's metadata: its URL or the XML."))
        conn.saml_idp_metadata_xml = saml.metadata_xml
        conn.saml_idp_metadata_url = saml.metadata_url
        if not conn.saml_sp_certificate:
            certificate, key = service_provider_credentials(tenant.slug)
            conn.saml_sp_certificate, conn.saml_sp_private_key = certificate, crypto.encrypt(key)
    conn.claim_email, conn.claim_name, conn.claim_unit = mapping.email, mapping.name, mapping.unit
    conn.claim_groups, conn.admin_group = mapping.groups, mapping.admin_group
    conn.default_unit_id = mapping.default_unit_id
    conn.allowed_domains = _claim_domains(tenant, mapping.allowed_domains)
    conn.updated_at = utcnow()
    conn.last_error = None
    if conn not in db.session:
        db.session.add(conn)
    db.session.flush()
    return conn


def _claim_domains(tenant: Tenant, domains: list[str]) -> list[str]:
    """Make ``domains`` the ones that send people to this tenant's sign-in; each belongs to one tenant only."""
    domains = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    for domain in domains:
        if "." not in domain or any(c.isspace() for c in domain):
            raise InvalidTenantSetting(_l("%(domain)s is not an email domain (like example.org).", domain=domain))
        if domain in PUBLIC_MAIL_DOMAINS:
            raise InvalidTenantSetting(_l("%(domain)s is a public mail service: it cannot belong to one organisation.",
                                              domain=domain))
        owner = db.session.scalar(select(SsoEmailDomain.tenant_id).where(SsoEmailDomain.domain == domain))
        if owner not in (None, tenant.id):
            raise InvalidTenantSetting(_l("%(domain)s belongs to another organisation already.", domain=domain))
    db.session.execute(delete(SsoEmailDomain).where(SsoEmailDomain.tenant_id == tenant.id,
                                                    SsoEmailDomain.domain.not_in(domains)))
    for domain in domains:
        db.session.execute(insert(SsoEmailDomain).values(domain=domain, tenant_id=tenant.id)
                           .on_conflict_do_nothing(index_elements=["domain"]))
    return domains


def discover(email: str) -> Tenant | None:
    """The active tenant whose people sign in with this address's domain (home-realm discovery), if its
    sign-in is switched on; None otherwise (the person goes on with the public form)."""
    domain = email.strip().rpartition("@")[2].lower()
    tenant = db.session.scalar(
        select(Tenant).join(SsoEmailDomain, SsoEmailDomain.tenant_id == Tenant.id)
        .where(SsoEmailDomain.domain == domain, Tenant.status == TenantStatus.ACTIVE)) if domain else None
    if tenant is None:
        return None
    with tenant_context(tenant):
        return tenant if connection(enabled_only=True) is not None else None


def service_provider_credentials(common_name: str) -> tuple[str, str]:
    """A new key pair and self-signed certificate (10 years) with which our SAML service provider signs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def open_request(token: str, request_id: str, purpose: str, next_url: str | None) -> None:
    """Remember a SAML request under way, under the one-time token sent as its RelayState."""
    db.session.execute(delete(SsoRequest).where(SsoRequest.created_at < utcnow() - PENDING_REQUEST_LIFETIME))
    db.session.add(SsoRequest(token=token, request_id=request_id, purpose=purpose, next_url=next_url))
    db.session.flush()


def take_request(token: str | None) -> SsoRequest | None:
    """The request a RelayState token names, used up (a token works once, and only for 10 minutes)."""
    if not token or not _RELAY_STATE.fullmatch(token):  # not one of ours: nothing to look up
        return None
    pending = db.session.get(SsoRequest, (current_tenant_id(), token))
    if pending is None:
        return None
    db.session.delete(pending)
    db.session.flush()
    created = pending.created_at if pending.created_at.tzinfo else pending.created_at.replace(tzinfo=timezone.utc)
    return pending if created >= utcnow() - PENDING_REQUEST_LIFETIME else None


def remember_assertion(assertion_id: str, expires_at: datetime) -> bool:
    """Note an accepted assertion until it expires; False if it was used before (a replay)."""
    db.session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < utcnow()))
    inserted = db.session.execute(
        insert(UsedAssertion).values(tenant_id=current_tenant_id(), assertion_id=assertion_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["tenant_id", "assertion_id"]).returning(UsedAssertion.assertion_id)
    ).scalar()
    return inserted is not None


def reencrypt_secrets() -> int:
    """Re-encrypt every tenant's stored secrets with the newest key (after a key rotation); returns how many."""
    count = 0
    for conn in db.session.scalars(select(SsoConnection)):
        for attribute in ("oidc_client_secret", "saml_sp_private_key"):
            if getattr(conn, attribute):
                setattr(conn, attribute, crypto.rotate(getattr(conn, attribute)))
                count += 1
    for member in db.session.scalars(select(Member).where(Member.totp_secret.is_not(None))):
        member.totp_secret = crypto.rotate(member.totp_secret)
        count += 1
    db.session.flush()
    return count
