"""Single sign-on fixtures (shared by the SSO and portal tests): tenants connected to real identity providers."""

from __future__ import annotations

import pytest

from core import crypto
from core.extensions import db as _db
from core.tenancy import tenant_context
from tenants.sso import services
from tenants.sso.models import Protocol
from tests.conftest import cannot_run
from tests.helpers import host
from tests.idp import hostile_saml, saml

MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
PRINCIPAL_NAME = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"
ORGANISATIONAL_UNIT = "urn:oid:2.5.4.11"

ALICE = {"username": "alice", "password": "correct horse battery", "attributes": {
    MAIL: ["alice.moreau@northfield.edu"], DISPLAY_NAME: ["Alice Moreau"],
    PRINCIPAL_NAME: ["amoreau@northfield.edu"], AFFILIATION: ["student", "member"],
    ORGANISATIONAL_UNIT: ["School of Engineering"]}}
BRUNO = {"username": "bruno", "password": "another long secret", "attributes": {
    MAIL: ["bruno@elsewhere.example"], DISPLAY_NAME: ["Bruno Costa"], PRINCIPAL_NAME: ["bruno@northfield.edu"],
    AFFILIATION: ["staff"], ORGANISATIONAL_UNIT: ["Registry"]}}

SAML_MAPPING = services.Mapping(email=MAIL, name=DISPLAY_NAME, unit=ORGANISATIONAL_UNIT, groups=AFFILIATION,
                                admin_group="staff", allowed_domains=["northfield.edu"], default_unit_id=None)


def sp_entry(slug: str, certificate: str) -> dict:
    """Our service provider for ``slug``, as the identity provider registers it."""
    return {"entity_id": f"{host(slug)}/sso/saml/metadata", "acs_url": f"{host(slug)}/sso/saml/acs",
            "sls_url": f"{host(slug)}/sso/saml/sls", "certificate": certificate}


def connect_saml(tenant, metadata_xml: str, credentials: tuple[str, str], mapping=SAML_MAPPING,
                 metadata_url: str | None = None):
    """Connect ``tenant`` to a SAML identity provider, signing with ``credentials`` (certificate, key)."""
    with tenant_context(tenant):
        conn = services.configure(tenant, Protocol.SAML, mapping,
                                  saml=services.SamlSettings(metadata_xml, metadata_url))
        conn.saml_sp_certificate, conn.saml_sp_private_key = credentials[0], crypto.encrypt(credentials[1])
        _db.session.commit()


@pytest.fixture
def sp_credentials():
    return services.service_provider_credentials("northfield")


@pytest.fixture
def simplesamlphp(tmp_path, sp_credentials):
    """SimpleSAMLphp, knowing northfield's service provider, with Alice (a student) and Bruno (staff)."""
    reason = saml.unavailable()
    if reason:
        cannot_run("php", reason)
    idp = saml.start_simplesamlphp(tmp_path / "simplesamlphp", [sp_entry("northfield", sp_credentials[0])],
                                   [ALICE, BRUNO])
    yield idp
    idp.stop()


@pytest.fixture
def northfield(app, db, make_tenant, simplesamlphp, sp_credentials):
    """Northfield University, whose students sign in through SimpleSAMLphp."""
    from tenants.models import TenantKind

    tenant = make_tenant("northfield", "Northfield University", kind=TenantKind.UNIVERSITY)
    connect_saml(tenant, simplesamlphp.metadata_xml, sp_credentials)
    return tenant


@pytest.fixture
def hostile_idp(tmp_path):
    """An identity provider that signs whatever a test asks for, well or badly."""
    reason = hostile_saml.unavailable()
    if reason:
        cannot_run("xmlsec1", reason)
    return hostile_saml.HostileIdp(tmp_path / "hostile")


ACME_CLIENT = {"client_id": "acme-heforshe", "client_secret": "acme-client-secret-for-tests",
               "redirect_uris": [f"{host('acme')}/sso/oidc/callback"],
               "post_logout_redirect_uris": [f"{host('acme')}/"]}
ADA = {"username": "ada", "password": "ada-long-password", "claims": {
    "sub": "employee-1001", "email": "ada@acme.example", "email_verified": True, "name": "Ada Lovelace",
    "groups": ["staff", "heforshe-admins"], "department": "Paris office"}}
GRACE = {"username": "grace", "password": "grace-long-password", "claims": {
    "sub": "employee-1002", "email": "grace@acme.example", "email_verified": True, "name": "Grace Hopper",
    "groups": ["staff"], "department": "Submarine research"}}
MALLORY = {"username": "mallory", "password": "mallory-long-password", "claims": {
    "sub": "contractor-7", "email": "mallory@gmail.com", "email_verified": True, "name": "Mallory",
    "groups": [], "department": "Paris office"}}
# Accounts whose address the provider has not verified (``email_verified`` false), or that reuse someone's address.
EVE = {"username": "eve", "password": "eve-long-password", "claims": {
    "sub": "contractor-13", "email": "root@acme.example", "email_verified": False, "name": "Eve",
    "groups": [], "department": "Paris office"}}
NEWCOMER = {"username": "nora", "password": "nora-long-password", "claims": {
    "sub": "employee-1003", "email": "nora@acme.example", "email_verified": False, "name": "Nora Newcomer",
    "groups": ["staff"], "department": "Paris office"}}
ADA_TWIN = {"username": "ada2", "password": "ada2-long-password", "claims": {
    "sub": "employee-9999", "email": "ada@acme.example", "email_verified": True, "name": "Ada Impostor",
    "groups": [], "department": "Paris office"}}
ROOT = {"username": "root", "password": "root-long-password", "claims": {
    "sub": "employee-0001", "email": "root@acme.example", "email_verified": True, "name": "Root",
    "groups": [], "department": "Paris office"}}
OIDC_MAPPING = services.Mapping(email="email", name="name", unit="department", groups="groups",
                                admin_group="heforshe-admins", allowed_domains=["acme.example"], default_unit_id=None)


def start_provider(tmp_path, name: str, clients: list[dict], **options):
    from tests.idp import oidc

    reason = oidc.unavailable()
    if reason:
        cannot_run("node", reason)
    return oidc.start_oidc_provider(tmp_path / name, clients, [ADA, GRACE, MALLORY, EVE, NEWCOMER, ADA_TWIN, ROOT],
                                     **options)


def connect_oidc(tenant, provider, client=ACME_CLIENT, mapping=OIDC_MAPPING):
    """Connect ``tenant`` to an OpenID provider as ``client``."""
    with tenant_context(tenant):
        services.configure(tenant, Protocol.OIDC, mapping, oidc=services.OidcSettings(
            provider.issuer, client["client_id"], client["client_secret"], "openid email profile groups"))
        _db.session.commit()


@pytest.fixture
def oidc_provider(tmp_path):
    """A real OpenID provider (npm oidc-provider) where Acme's client is registered."""
    provider = start_provider(tmp_path, "oidc", [ACME_CLIENT])
    yield provider
    provider.stop()


@pytest.fixture
def acme(app, db, make_tenant, oidc_provider):
    """Acme Corporation, whose employees sign in through the OpenID provider."""
    tenant = make_tenant("acme", "Acme Corporation")
    connect_oidc(tenant, oidc_provider)
    return tenant
