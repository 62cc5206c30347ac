"""Single sign-on logic: a tenant's settings, the person an identity provider vouches for, and the walls around them.

Plain functions; they flush and never commit (the request that calls them owns the transaction).
"""

from __future__ import annotations

import hashlib
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
from sqlalchemy.exc import IntegrityError

from core import crypto, outbound
from core.database import insert
from core.extensions import db
from core.tenancy import current_tenant_id, tenant_context
from tenants import ownership
from tenants.models import Member, Role, Tenant, TenantStatus, Unit, utcnow
from tenants.services import hosts
from tenants.services.members import canonical_email, email_domain, find_or_create_member, fold_domain
from tenants.services.registry import InvalidTenantSetting
from tenants.sso.models import Protocol, SsoConnection, SsoEmailDomain, SsoRequest, UnmappedUnit, UsedAssertion

PENDING_REQUEST_LIFETIME = timedelta(minutes=10)
# The least time between two readings of an identity provider's metadata prompted by refused answers.
METADATA_REREAD_INTERVAL = timedelta(minutes=5)
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
    "unverified": _l("Your organisation's sign-in has not confirmed that this email address is yours, so we "
                     "cannot sign you in with it. Please ask your administrator."),
    "taken": _l("This email address belongs to another account here. Please ask your administrator."),
}

# What a failed sign-in means and what to change at the identity provider, for the admin's settings page.
ADMIN_HINTS = {
    "audience": _l("The identity provider issued the sign-in token to another application: its audience is not "
                   "the client ID entered here. Enter the client ID of the application you registered for "
                   "HeForShe (in Entra ID: the “Application (client) ID”, not the object ID), and make the "
                   "provider issue the ID token to that application."),
    "issuer": _l("The token names another issuer than the issuer URL entered here. Copy the issuer exactly as the "
                 "provider's discovery document states it (Entra ID: https://login.microsoftonline.com/<tenant "
                 "id>/v2.0, not the older sts.windows.net address)."),
    "expired": _l("The token had expired or was issued in the future: the identity provider's clock and ours "
                  "disagree, or its ID tokens live too briefly. Check the provider's clock and token lifetime."),
    "signature": _l("The token's signature matches none of the keys the identity provider publishes. Check that "
                    "the issuer URL entered here is that of the provider that signs the tokens."),
    "client": _l("The identity provider refused our client ID or secret. Check both, and whether the secret "
                 "has expired (Entra ID secrets expire): create a new one and enter it here."),
    "denied": _l("The identity provider refused the sign-in. Check that the people (or everyone) are assigned "
                 "to the application, and that it may ask for the scopes entered here."),
    "no_email": _l("The identity provider sent no email address where this page says to look for it. Release "
                   "the email (Entra ID: add the optional claim “email”; Okta and Google: the scope “email”; "
                   "SAML: the mail attribute), or correct the email claim here."),
    "metadata": _l("The identity provider's metadata could not be read again from its URL; the copy stored "
                   "before is still used. Check that the metadata URL still works."),
    "unavailable": _l("The identity provider could not be reached. Check the issuer or metadata URL; if it is "
                      "right, the provider may be down."),
}


class SsoError(Exception):
    """A sign-in that did not succeed: ``detail`` is for the admin, ``reason`` picks the person's message, and
    ``hint`` (a key of ``ADMIN_HINTS``) what the admin should change."""

    def __init__(self, detail: str, reason: str = "failed", hint: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.reason = reason
        self.hint = hint if hint is not None else (reason if reason in ADMIN_HINTS else None)


@dataclass
class Identity:
    """The person an identity provider vouches for, with everything it sent (shown by "test connection")."""

    subject: str
    email: str | None
    name: str | None
    unit: str | None
    groups: list[str]
    claims: dict = field(default_factory=dict)
    # What the provider said of the address: True or False (OIDC ``email_verified``), None when it said nothing.
    email_verified: bool | None = None


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
        # OIDC's email_verified speaks of the "email" claim only; SAML has no such attribute.
        email_verified=_flag(claims.get("email_verified")) if conn.claim_email == "email" else None,
    )


def _flag(value) -> bool | None:
    # Some providers send the JSON boolean as a string.
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower()) if isinstance(value, str) else None


def address_trusted(conn: SsoConnection, identity: Identity) -> bool:
    """Whether the identity provider's address may be taken as the person's own.

    ``email_verified`` true: yes; false: never. A provider that says nothing (SAML, and OIDC providers such as
    Entra ID) is the organisation's own directory: trusted for the connection's allowed domains only.
    """
    if identity.email_verified is not None:
        return identity.email_verified
    return bool(conn.allowed_domains) and email_domain(identity.email) in conn.allowed_domains


def sign_in_member(conn: SsoConnection, identity: Identity) -> Member:
    """The member the identity provider vouches for, created in this tenant on first sign-in.

    The identity finds its member by the (issuer, subject) pair stored at its first sign-in; failing that, by
    an address the provider vouches for (``address_trusted``), if that member has no pair yet. A break-glass
    account is never found by address, and a sign-in never changes it.
    Raises ``SsoError`` when the provider sent no email, one it says it has not verified, one from a domain
    the tenant does not allow, or one that another account here owns.
    """
    if not identity.email or "@" not in identity.email:
        raise SsoError(f"the identity provider sent no email address (expected in {conn.claim_email!r})", "no_email")
    domain = email_domain(identity.email)
    if conn.allowed_domains and domain not in conn.allowed_domains:
        raise SsoError(f"{identity.email} is outside the allowed domains ({', '.join(conn.allowed_domains)})",
                       "domain")
    if identity.email_verified is False:
        raise SsoError(f"the identity provider has not verified {identity.email} (email_verified is false)",
                       "unverified")
    trusted = address_trusted(conn, identity)
    member = db.session.scalars(select(Member).where(Member.sso_subject == identity.subject)).one_or_none()
    if member is None:
        member = _link_by_address(identity, trusted)
    if member.is_break_glass:
        return member
    if canonical_email(identity.email) != member.email_canonical and trusted:
        _refuse_an_owned_address(member, identity)
        member.email, member.email_canonical = identity.email, canonical_email(identity.email)
    if identity.name:
        member.display_name = identity.name[:100]
    member.unit_id = map_unit(conn, identity.unit)
    previous_role = member.role
    if conn.admin_group:
        if conn.admin_group in identity.groups:
            member.role = Role.ADMIN
        elif member.role is Role.ADMIN:
            member.role = Role.MEMBER  # the group was taken away at the identity provider
    if member.role is not previous_role:
        member.end_sessions()  # sessions made under the old role end (this sign-in makes a new one)
    db.session.flush()
    return member


def _link_by_address(identity: Identity, trusted: bool) -> Member:
    """The member an identity signing in for the first time becomes: the one with its address, if the provider
    vouches for the address and that member is linked to no identity yet; else a new member."""
    owner = db.session.scalars(select(Member).where(
        Member.email_canonical == canonical_email(identity.email))).one_or_none()
    if owner is None and not trusted:
        # An address nobody vouches for recognises nobody: the member is keyed by its identity, not by the
        # address, so an invitation, a break-glass account or a /me link for that address never lands on it.
        member = Member(email=identity.email, email_canonical=_unvouched_key(identity.subject),
                        display_name=identity.name[:100] if identity.name else None, role=Role.MEMBER)
        db.session.add(member)
    elif owner is None:
        member = find_or_create_member(identity.email, identity.name)
    elif not trusted:
        raise SsoError(f"{identity.email} is outside the allowed domains, so the identity provider's word for it "
                       f"is not enough to link subject {identity.subject} to the member who has it", "unverified")
    elif owner.sso_subject is not None or owner.is_break_glass:
        raise SsoError(f"{identity.email} belongs to a member linked to another identity or to a break-glass "
                       f"account (subject {identity.subject}): not linked", "taken")
    else:
        member = owner
    member.sso_subject = identity.subject
    return member


def _unvouched_key(subject: str) -> str:
    """The key of a member whose address the identity provider did not vouch for: no address folds to it."""
    return "unvouched:" + hashlib.sha256(subject.encode()).hexdigest()


def _refuse_an_owned_address(member: Member, identity: Identity) -> None:
    """An identity whose address changed at the provider may take the new one only if no other member has it."""
    if db.session.scalar(select(Member.id).where(Member.email_canonical == canonical_email(identity.email),
                                                 Member.id != member.id)) is not None:
        raise SsoError(f"{identity.email} (the new address of subject {identity.subject}) belongs to another "
                       "member here: not changed", "taken")


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


def aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def store_idp_metadata(conn: SsoConnection, xml: str) -> bool:
    """Keep the identity provider's metadata as just read from its URL; True when it changed."""
    changed = xml != conn.saml_idp_metadata_xml
    conn.saml_idp_metadata_xml = xml
    conn.saml_idp_metadata_read_at = utcnow()
    db.session.flush()
    return changed


def record_failure(conn: SsoConnection, error: SsoError) -> None:
    """Keep the last failure's details for the admin's settings page."""
    conn.last_error = error.detail[:2000]
    conn.last_error_hint = error.hint
    conn.last_error_at = utcnow()
    db.session.flush()


def record_test(conn: SsoConnection, identity: Identity) -> None:
    """Keep what the identity provider sent during "test connection", for the admin to check the mapping."""
    conn.last_test = {
        "at": utcnow().isoformat(timespec="seconds"), "subject": identity.subject, "email": identity.email,
        "email_verified": identity.email_verified,
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


def require_https(url: str) -> None:
    """Refuse an identity provider's address that is not https where outbound requests keep to public addresses
    (production): its keys and metadata are what every sign-in is checked against."""
    if outbound.public_only() and not url.lower().startswith("https://"):
        raise InvalidTenantSetting(_l("Please use an address that starts with https://: %(url)s does not.", url=url))


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
        conn.saml_idp_metadata_read_at = utcnow() if saml.metadata_url else None
        if not conn.saml_sp_certificate:
            certificate, key = service_provider_credentials(tenant.slug)
            conn.saml_sp_certificate, conn.saml_sp_private_key = certificate, crypto.encrypt(key)
    conn.claim_email, conn.claim_name, conn.claim_unit = mapping.email, mapping.name, mapping.unit
    conn.claim_groups, conn.admin_group = mapping.groups, mapping.admin_group
    conn.default_unit_id = mapping.default_unit_id
    conn.allowed_domains = _claim_domains(tenant, mapping.allowed_domains)
    conn.updated_at = utcnow()
    conn.last_error = conn.last_error_hint = None
    if conn not in db.session:
        db.session.add(conn)
    db.session.flush()
    hosts.pages_changed()  # the sign-up page leads with the organisation's sign-in while it is on
    return conn


def _claim_domains(tenant: Tenant, domains: list[str]) -> list[str]:
    """Make ``domains`` the ones this tenant's sign-in claims. A claim sends people here (home-realm discovery)
    only once proven; several tenants may claim a domain, so a claim never blocks the domain's real owner.
    Claims kept keep their token and proof; a claim dropped is forgotten."""
    domains = sorted({email_domain(d) for d in domains if d.strip()})  # "@acme.example" is acme.example
    for domain in domains:
        if "." not in domain or any(c.isspace() for c in domain):
            raise InvalidTenantSetting(_l("%(domain)s is not an email domain (like example.org).", domain=domain))
        if domain in PUBLIC_MAIL_DOMAINS:
            raise InvalidTenantSetting(_l("%(domain)s is a public mail service: it cannot belong to one organisation.",
                                              domain=domain))
    db.session.execute(delete(SsoEmailDomain).where(SsoEmailDomain.tenant_id == tenant.id,
                                                    SsoEmailDomain.domain.not_in(domains)))
    for domain in domains:
        db.session.execute(insert(SsoEmailDomain)
                           .values(tenant_id=tenant.id, domain=domain, verification_token=ownership.new_token())
                           .on_conflict_do_nothing(index_elements=["tenant_id", "domain"]))
    return domains


def refold_domains(tenant: Tenant) -> bool:
    """Store the current tenant's allowed domains folded as today (``tenants.services.members.fold_domain``);
    True if they changed. Raises ``InvalidTenantSetting`` (and changes nothing) when a folded domain is refused (a
    public mail service spelled otherwise, say)."""
    conn = connection()
    if conn is None or not conn.allowed_domains:
        return False
    folded = _claim_domains(tenant, conn.allowed_domains)
    if folded == conn.allowed_domains:
        return False
    conn.allowed_domains = folded
    db.session.flush()
    return True


@dataclass(frozen=True)
class DomainClaim:
    """One of the tenant's email domains, as its admin sees it."""

    domain: str
    record_name: str
    token: str
    proven: bool
    proven_elsewhere: bool


def domain_claims(tenant: Tenant) -> list[DomainClaim]:
    """The tenant's email domains with their state and the TXT record that proves each one."""
    claims = db.session.scalars(select(SsoEmailDomain).where(SsoEmailDomain.tenant_id == tenant.id)
                                .order_by(SsoEmailDomain.domain)).all()
    taken = set(db.session.scalars(select(SsoEmailDomain.domain).where(
        SsoEmailDomain.domain.in_([c.domain for c in claims]), SsoEmailDomain.tenant_id != tenant.id,
        SsoEmailDomain.verified_at.is_not(None))))
    return [DomainClaim(c.domain, ownership.record_name(c.domain), c.verification_token, c.verified_at is not None,
                        c.domain in taken) for c in claims]


def find_claim(tenant: Tenant, domain: str) -> SsoEmailDomain | None:
    """One of the tenant's email domains; another tenant's claim is not found."""
    return db.session.get(SsoEmailDomain, (tenant.id, fold_domain(domain)))


def domain_owner(domain: str) -> int | None:
    """The tenant that proved this email domain, if any."""
    return db.session.scalar(select(SsoEmailDomain.tenant_id).where(SsoEmailDomain.domain == domain,
                                                                    SsoEmailDomain.verified_at.is_not(None)))


def check_domain(claim: SsoEmailDomain) -> None:
    """Look for the claim's TXT record; when it holds the token, the domain is proven and discovery sends its
    people here. Raises ``InvalidTenantSetting`` saying why not (nothing found, or proven by another tenant)."""
    if claim.verified_at is not None:
        return
    if domain_owner(claim.domain) is not None:
        raise InvalidTenantSetting(_l("%(domain)s is proven by another organisation. If it is yours, please "
                                      "contact HeForShe.", domain=claim.domain))
    try:
        ownership.check(claim.domain, claim.verification_token)
    except ownership.NotProven as error:
        raise InvalidTenantSetting(str(error)) from None
    _prove(claim)


def prove_domain(tenant: Tenant, domain: str) -> SsoEmailDomain:
    """The operator's word for it: the tenant's claim of ``domain`` is proven (unless another tenant's is)."""
    claim = find_claim(tenant, domain)
    if claim is None:
        raise InvalidTenantSetting(f"{tenant.slug} does not claim {domain}: add it to its allowed domains first")
    owner = domain_owner(claim.domain)
    if owner not in (None, tenant.id):
        slug = db.session.scalar(select(Tenant.slug).where(Tenant.id == owner))
        raise InvalidTenantSetting(f"{claim.domain} is proven for {slug} already")
    if claim.verified_at is None:
        _prove(claim)
    return claim


def revoke_domain(tenant: Tenant, domain: str) -> SsoEmailDomain:
    """The operator withdraws a domain's proof: discovery no longer sends its people to this tenant."""
    claim = find_claim(tenant, domain)
    if claim is None:
        raise InvalidTenantSetting(f"{tenant.slug} does not claim {domain}")
    claim.verified_at = None
    db.session.flush()
    return claim


def _prove(claim: SsoEmailDomain) -> None:
    try:
        with db.session.begin_nested():  # another tenant may prove the same domain at this very moment
            claim.verified_at = utcnow()
    except IntegrityError:
        raise InvalidTenantSetting(_l("%(domain)s is proven by another organisation. If it is yours, please "
                                      "contact HeForShe.", domain=claim.domain)) from None


def discover(email: str) -> Tenant | None:
    """The active tenant that proved this address's domain (home-realm discovery), if its sign-in is switched
    on; None otherwise (the person goes on with the public form). An unproven claim sends nobody anywhere."""
    domain = email_domain(email)
    tenant = db.session.scalar(
        select(Tenant).join(SsoEmailDomain, SsoEmailDomain.tenant_id == Tenant.id)
        .where(SsoEmailDomain.domain == domain, SsoEmailDomain.verified_at.is_not(None),
               Tenant.status == TenantStatus.ACTIVE)) if domain else None
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
