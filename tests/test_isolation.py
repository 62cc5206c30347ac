"""Walls between tenants, checked for every route in the URL map.

The routes are read from the app, so a new route is covered the day it is added: if it takes an
argument nobody here knows how to make, ``test_every_route_argument_has_a_factory`` fails and says so.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from flask_login import current_user
from sqlalchemy import func, select

from billing.giving import services as gifts
from core.app import create_app
from core.auth import Via, sign_in
from core.extensions import db as _db
from core.rollup.models import Gender
from core.snapshots import services as snapshots
from core.tenancy import tenant_context
from operator_console import services as operator_console
from operator_console.models import ApplicationKind
from tenant_portal.members import services as members
from tenant_portal.models import AuditEntry, Invitation, SignInLink
from tenant_portal.api import services as api
from tenant_portal.api.models import ApiKey
from tenant_portal.provisioning import services as provisioning
from tenant_portal.provisioning.models import ScimToken
from tenants.actions import services as actions
from tenants.kits import services as kits
from tenants.kits.models import TenantKit
from tenants.models import Commitment, Member, Role, Target, TargetMetric, Unit, UnitKind, utcnow
from tenants.services import confirmations, hosts, signups
from tenants.services.members import find_or_create_member
from tenants.sso import break_glass
from tenants.sso import services as sso
from tenants.sso.models import Protocol, SsoEmailDomain
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookEndpoint, WebhookMessage
from tests.helpers import csrf_token, host

SKIPPED_ENDPOINTS = {"static", "core.static"}
# Posts that carry a signed message (from an identity provider, a registration system) instead of a CSRF token.
SIGNED_POST_ENDPOINTS = {"sso.saml_acs", "registration_widget.commit", "stripe_webhooks.stripe_webhook"}
# Posts that belong to the global site (home-realm discovery), not to a tenant's host.
GLOBAL_POST_ENDPOINTS = {"sso.discover", "stripe_webhooks.stripe_webhook"}  # and Stripe's events
# Pages of the global site alone (the movement's snapshots, the partners wall's logos, the operator console): their
# objects exist there, on no tenant's host.
GLOBAL_ENDPOINTS = {"snapshots.day_json", "tenants.partner_logo"}
# Posts that only the movement's pages on the global host answer.
MOVEMENT_POST_ENDPOINTS = {"tenants.movement_signup"}
# The Commitments API: a key opens it, never a session; its own walls are tested below (test_api_*).
API_BLUEPRINT = "api_v1"
# SCIM provisioning: its token opens it, never a session; its walls are tested below (test_scim_*).
SCIM_BLUEPRINT = "scim"


def object_factories(app, db, make_unit):
    """How to make, in a given tenant, the object (or token) each URL argument names."""

    def in_tenant(make):
        def factory(tenant):
            with tenant_context(tenant):
                value = make(tenant)
                db.session.commit()
                return value
        return factory

    def invitation(tenant):
        token = f"invitation-token-for-the-isolation-tests-{tenant.slug}"  # unique across tenants
        db.session.add(Invitation(email="invitee@globex.example", role=Role.ADMIN,
                                  token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                  expires_at=utcnow() + timedelta(days=1)))
        db.session.flush()
        return token

    def sign_in_link(tenant):
        token = f"sign-in-link-token-for-the-isolation-tests-{tenant.slug}"
        member = find_or_create_member("someone@globex.example")
        db.session.add(SignInLink(token_hash=hashlib.sha256(token.encode()).hexdigest(), member_id=member.id,
                                  expires_at=utcnow() + members.SIGN_IN_LINK_LIFETIME))
        db.session.flush()
        return token

    def confirmation_token(tenant):
        signups.commit(signups.SignUp(email="someone@globex.example", gender=Gender.MAN, country_code="EG",
                                      language="en", consent_version="1"))
        return confirmations.link_token(db.session.scalars(select(Commitment)).one())

    def api_key(tenant):  # made directly: the viewers' test counts the audit entries a post leaves
        return _flushed(ApiKey(name="Globex HR portal", scopes=["stats:read"], prefix=f"{tenant.slug}-isolation",
                               secret_hash="0" * 64)).id

    def scim_token(tenant):
        return _flushed(ScimToken(prefix=f"{tenant.slug}-isolation", secret_hash="0" * 64)).id

    def commitment(tenant):
        signups.commit(signups.SignUp(email="someone@globex.example", gender=Gender.MAN, country_code="EG",
                                      language="en", consent_version="1", city="Alexandria"))
        return db.session.scalars(select(Commitment.id)).one()

    def reminder(tenant):
        """A reminder whose mail is out (its answer link works); the token of that link."""
        commitment_id = commitment(tenant)
        actions.plan_action(commitment_id, "econ-mentor")
        found = actions.ask_for_reminder(commitment_id, "en")
        found.asked = 1
        _db.session.flush()
        return found

    def story(tenant):
        made = actions.submit_story(commitment(tenant), "Globex Hidden story of Alexandria", "en")
        actions.decide(made, True, "admin@globex.example")
        return made.id

    def unit_key(tenant):
        db.session.add(Unit(name="Globex Cairo office", kind=UnitKind.OFFICE, country_code="EG",
                            external_key=f"{tenant.slug}-cairo"))
        db.session.flush()
        return f"{tenant.slug}-cairo"

    def webhook_endpoint(tenant):
        """The tenant's one webhook endpoint (made the first time), so a message's route names its own endpoint."""
        found = db.session.scalars(select(WebhookEndpoint)).first()
        return found or webhooks.add_endpoint("https://hooks.globex.example/in", ["commitment.created"], False,
                                              None).endpoint

    def webhook_message(tenant):
        endpoint = webhook_endpoint(tenant)
        webhooks.emit("commitment.created", {"id": "globex-commitment"})
        return db.session.scalars(select(WebhookMessage.id).where(WebhookMessage.endpoint_id == endpoint.id)).first()

    def own_kit(tenant):
        """The tenant's own published kit (made the first time)."""
        return db.session.scalars(select(TenantKit)).first() or kits.add_own(kits.OwnKit(
            "individual", "violence", "en", kits.KitText("Globex helplines", "Who to call at Globex.", "Call us."),
            "Globex HR", True))

    return {
        "kit_slug": in_tenant(lambda tenant: own_kit(tenant).slug),
        "own_kit_id": in_tenant(lambda tenant: own_kit(tenant).id),
        # The operator's kits are global: the tenant plays no part.
        "kit_id": lambda tenant: _committed(kits.save_kit(None, f"{tenant.slug}-kit", "ngo", "peace", False, {
            "en": kits.KitText("A kit", "One line.", "Text.")})[0]).id,
        "endpoint_id": in_tenant(lambda tenant: webhook_endpoint(tenant).id),
        "message_id": in_tenant(webhook_message),
        "unit_id": lambda tenant: make_unit(tenant, "Globex Cairo office", country="EG").id,
        "key_id": in_tenant(api_key),
        "token_id": in_tenant(scim_token),
        "commitment_id": in_tenant(commitment),
        # The two links of a "Did you do it?" mail: its answer, and stopping the reminders.
        "reminder_token": in_tenant(lambda tenant: actions.answer_token(reminder(tenant))),
        "unsubscribe_token": in_tenant(lambda tenant: actions.unsubscribe_token(reminder(tenant))),
        "story_id": in_tenant(story),
        "unit_key": in_tenant(unit_key),
        "token": in_tenant(confirmation_token),
        "member_id": in_tenant(lambda tenant: find_or_create_member("someone@globex.example").id),
        "invitation_token": in_tenant(invitation),
        "invitation_id": in_tenant(lambda tenant: db.session.scalar(
            select(Invitation.id).where(Invitation.token_hash == hashlib.sha256(invitation(tenant).encode())
                                        .hexdigest()))),
        "link_token": in_tenant(sign_in_link),
        "target_id": in_tenant(lambda tenant: _flushed(Target(
            metric=TargetMetric.MEN, value=500, deadline=date.today() + timedelta(days=90))).id),
        "domain": in_tenant(lambda tenant: _flushed(SsoEmailDomain(
            tenant_id=tenant.id, domain="globex.example", verification_token="globex-token")).domain),
        "hostname_id": lambda tenant: _committed(hosts.add_hostname(tenant, "heforshe.globex.example",
                                                                    verified=False)).id,
        "day": lambda tenant: _committed(snapshots.take()[0]).day.isoformat(),  # global: the tenant plays no part
        # The operator console's objects are global: an application (no tenant yet), a tenant by its slug.
        "application_id": lambda tenant: _committed(operator_console.apply(
            "Globex Applicant", ApplicationKind.NGO, "EG", "https://globex.example", "Someone", "someone@globex.example",
            f"{tenant.slug}-applies", "en")).id,
        "slug": lambda tenant: tenant.slug,
        "stop_token": lambda tenant: gifts.stop_token(tenant.id, "sub_isolation"),
    }


def _flushed(row):
    _db.session.add(row)
    _db.session.flush()
    return row


def _committed(row):
    _db.session.commit()
    return row


def _routes():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED_ENDPOINTS]


ROUTES = _routes()
# The operator console and the application to join: on the global host only (and the console for operators only).
CONSOLE_ENDPOINTS = {rule.endpoint for rule in ROUTES if rule.endpoint.split(".")[0] in ("operator_console", "join")}
GLOBAL_ENDPOINTS |= CONSOLE_ENDPOINTS
GLOBAL_POST_ENDPOINTS |= {rule.endpoint for rule in ROUTES if rule.endpoint in CONSOLE_ENDPOINTS and "POST" in rule.methods}
API_ROUTES = [rule for rule in ROUTES if rule.endpoint.startswith(API_BLUEPRINT + ".")]
SCIM_ROUTES = [rule for rule in ROUTES if rule.endpoint.startswith(SCIM_BLUEPRINT + ".")]
OBJECT_ROUTES = [rule for rule in ROUTES if rule.arguments and rule not in API_ROUTES + SCIM_ROUTES]
PLAIN_GET_ROUTES = [rule for rule in ROUTES if not rule.arguments and "GET" in rule.methods]
POST_ROUTES = [rule for rule in ROUTES if "POST" in rule.methods and rule not in API_ROUTES + SCIM_ROUTES]


def test_every_route_argument_has_a_factory(app, db, make_unit):
    factories = object_factories(app, db, make_unit)
    for rule in OBJECT_ROUTES + API_ROUTES:
        missing = rule.arguments - factories.keys()
        assert not missing, f"{rule.rule} takes {missing}: add a factory above so the isolation tests cover it"


@pytest.mark.parametrize("rule", OBJECT_ROUTES, ids=lambda r: r.rule)
def test_returns_404_if_admin_from_another_tenant(app, client, db, make_tenant, make_unit, sign_in_as, rule):
    """An admin of Acme, on Acme's host, asks for Globex's objects by their ids (or tokens): none is found."""
    acme = make_tenant("acme")
    globex = make_tenant("globex", "Globex Hidden")
    factories = object_factories(app, db, make_unit)
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(factories[argument](globex)), path)
    sign_in_as(globex, Role.ADMIN, client=client)
    sign_in_as(acme, Role.ADMIN, client=client)
    own_host = host() if rule.endpoint in GLOBAL_ENDPOINTS else host("globex")
    own = client.open(path, method="GET" if "GET" in rule.methods else "POST", base_url=own_host)
    assert own.status_code != 404, f"the object exists on its own host ({path})"
    token = csrf_token(client.get("/", base_url=host("acme")).get_data(as_text=True))
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        response = client.open(path, method=method, base_url=host("acme"),
                               data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 404, f"{method} {path} on acme"
        assert "Globex" not in response.get_data(as_text=True)


def first_part_of(response, chunks: int = 2) -> str:
    """The body of a response, or the first events of a stream that never ends by itself (a picture's bytes as
    Latin-1: any name written into one in plain would show)."""
    if response.mimetype.startswith("image/"):
        return response.get_data().decode("latin-1")
    if response.mimetype != "text/event-stream":
        return response.get_data(as_text=True)
    parts = iter(response.response)
    body = "".join(part if isinstance(part, str) else part.decode() for _, part in zip(range(chunks), parts))
    response.close()
    return body


@pytest.mark.parametrize("rule", PLAIN_GET_ROUTES, ids=lambda r: r.rule)
def test_pages_show_nothing_of_another_tenant(client, make_tenant, make_unit, make_commitment, rule):
    make_tenant("acme", "Acme Corporation")
    globex = make_tenant("globex", "Globex Hidden")
    cairo = make_unit(globex, "Globex Cairo office", country="EG")
    make_commitment(globex, country="EG", unit=cairo, city="Alexandria")
    body = first_part_of(client.get(rule.rule, base_url=host("acme"), buffered=False))
    for secret in ("Globex", "Cairo", "Alexandria", str(cairo.id), '"EG":'):
        assert secret not in body, f"{rule.rule} on acme shows {secret!r}"


def path_with_objects_of(rule, factories, tenant) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(factories[argument](tenant)), path)
    return path


@pytest.mark.parametrize("rule", [r for r in OBJECT_ROUTES if r.endpoint not in GLOBAL_ENDPOINTS], ids=lambda r: r.rule)
def test_the_movement_and_a_partner_find_none_of_each_others_objects(app, client, db, movement, make_tenant,
                                                                      make_unit, sign_in_as, rule):
    """Globex's objects asked for on the global host by someone signed in to the movement, and the movement's
    objects asked for on Acme's host by Acme's admin: none is found."""
    acme = make_tenant("acme")
    globex = make_tenant("globex", "Globex Hidden")
    factories = object_factories(app, db, make_unit)
    sign_in_as(movement, Role.MEMBER, client=client)
    sign_in_as(acme, Role.ADMIN, client=client)
    attempts = [(globex, host())]
    if "hostname_id" not in rule.arguments:  # the movement has no hostnames: it lives on the global host only
        attempts.append((movement, host("acme")))
    for owner, base_url in attempts:
        path = path_with_objects_of(rule, factories, owner)
        token = csrf_token(client.get("/me" if base_url == host() else "/", base_url=base_url).get_data(as_text=True))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, base_url=base_url,
                                   data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, f"{method} {path} on {base_url}"
            assert "Globex" not in response.get_data(as_text=True)


@pytest.mark.parametrize("rule", PLAIN_GET_ROUTES, ids=lambda r: r.rule)
def test_the_movement_and_a_partner_show_nothing_of_each_other(client, movement, make_tenant, make_unit,
                                                                make_commitment, sign_in_as, rule):
    """On the global host (the movement's pages and the global ones, its member signed in) nothing of an
    unlisted partner; on a partner's host nothing of the movement's people."""
    make_tenant("acme", "Acme Corporation")
    globex = make_tenant("globex", "Globex Hidden", listed=False)
    cairo = make_unit(globex, "Globex Cairo office", country="EG")
    make_commitment(globex, country="EG", unit=cairo, city="Alexandria")
    make_commitment(movement, "movement.person@example.org", country="PE", city="Arequipa")
    sign_in_as(movement, Role.MEMBER, client=client)
    on_the_global_host = first_part_of(client.get(rule.rule, base_url=host(), buffered=False))
    for secret in ("Globex", "Cairo", "Alexandria", str(cairo.id), '"EG":'):
        assert secret not in on_the_global_host, f"{rule.rule} on the global host shows {secret!r}"
    on_acme = first_part_of(client.get(rule.rule, base_url=host("acme"), buffered=False))
    for secret in ("movement.person", "Arequipa", '"PE":'):
        assert secret not in on_acme, f"{rule.rule} on acme shows {secret!r}"


@pytest.mark.parametrize("rule", POST_ROUTES, ids=lambda r: r.rule)
def test_every_form_refuses_a_post_without_its_csrf_token(app, client, db, make_tenant, make_unit, movement, rule):
    """Posted by a signed-in admin of a tenant with every sign-in option on, so no form is out of reach (the
    movement's, open, on the global host)."""
    acme = make_tenant("acme")
    with tenant_context(acme):
        break_glass.enable(acme, "admin@acme.example", "a long enough password")
        sso.configure(acme, Protocol.OIDC, sso.Mapping("email", "name", None, "groups", None, [], None),
                      oidc=sso.OidcSettings("https://login.acme.example", "client", "secret"))
        db.session.commit()
        admin_id = db.session.scalar(select(Member.id))
    signed_in_as(app, client, "acme", admin_id)
    path = rule.rule
    factories = object_factories(app, db, make_unit)
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(factories[argument](acme)), path)
    with tenant_context(acme):
        members_before = db.session.scalar(select(func.count(Member.id)))
    on_the_global_host = rule.endpoint in GLOBAL_POST_ENDPOINTS | MOVEMENT_POST_ENDPOINTS
    response = client.post(path, base_url=host() if on_the_global_host else host("acme"), data={
        "email": "sam@example.org", "gender": "man", "country": "FR", "consent": "y"})
    # A tenant without SAML has no assertion consumer (404); the signed posts are tested in tests/tenants/sso and
    # (the registration opt-in, refused without its token) tests/tenant_portal/test_registrations.py.
    assert response.status_code == (404 if rule.endpoint == "sso.saml_acs" else 400)
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == members_before
    with tenant_context(movement):
        assert db.session.scalar(select(func.count(Member.id))) == 0


def signed_in_as(app, client, slug: str, member_id) -> None:
    """Sign ``client`` in as a member on ``slug``'s host, through a route added for the test."""

    @app.get("/test-sign-in")
    def test_sign_in():
        sign_in(_db.session.scalars(select(Member).where(Member.id == member_id)).one(), Via.SSO)
        return "signed in"

    client.get("/test-sign-in", base_url=host(slug))


def test_a_session_from_one_tenant_is_not_signed_in_on_another(app, client, db, make_tenant):
    acme = make_tenant("acme", admin_email="admin@acme.example")
    make_tenant("globex", admin_email="admin@globex.example")
    with tenant_context(acme):
        admin_id = db.session.scalar(select(Member.id))

    @app.get("/test-sign-in")
    def test_sign_in():
        sign_in(db.session.scalars(select(Member).where(Member.id == admin_id)).one(), Via.SSO)
        return "signed in"

    @app.get("/test-who")
    def test_who():
        return "member" if current_user.is_authenticated else "anonymous"

    client.get("/test-sign-in", base_url=host("acme"))
    cookie = client.get_cookie("session", domain=f"acme.{host().split('//')[1]}")
    assert client.get("/test-who", base_url=host("acme")).get_data(as_text=True) == "member"

    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=f"globex.{host().split('//')[1]}")
    assert thief.get("/test-who", base_url=host("globex")).get_data(as_text=True) == "anonymous"


# Every portal form except the sign-in itself, which is for people who are not signed in yet.
PORTAL_CHANGES = [rule for rule in POST_ROUTES
                  if rule.rule.startswith("/portal/") and rule.endpoint != "tenant_portal.sign_in"]


@pytest.mark.parametrize("rule", PORTAL_CHANGES, ids=lambda r: r.rule)
def test_a_viewer_can_change_nothing(app, client, db, make_tenant, make_unit, sign_in_as, rule):
    acme = make_tenant("acme")
    path = rule.rule
    factories = object_factories(app, db, make_unit)
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(factories[argument](acme)), path)
    sign_in_as(acme, Role.VIEWER, client=client)
    token = csrf_token(client.get("/", base_url=host("acme")).get_data(as_text=True))
    response = client.post(path, base_url=host("acme"), data={"csrf_token": token, "email": "x@acme.example"})
    assert response.status_code == 403, f"POST {path} as a viewer"
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_counts_on_the_portal_pages_are_the_tenants_own(client, db, make_tenant, make_commitment, sign_in_as):
    acme, globex = make_tenant("acme", privacy_k=5), make_tenant("globex", privacy_k=5)
    for _ in range(5):  # k: Acme's men are released
        make_commitment(acme)
    for _ in range(7):
        make_commitment(globex)
    sign_in_as(acme, Role.ADMIN, client=client)  # the sixth member of Acme
    members = client.get("/portal/members", base_url=host("acme")).get_data(as_text=True)
    assert "Showing 1 to 6 of 6." in members
    assert "6 members in all" in members
    dashboard = client.get("/portal/dashboard", base_url=host("acme")).get_data(as_text=True)
    assert re.findall(r'class="stat-value">([\d,]+)<', dashboard)[:2] == ["5", "5"]  # men, all commitments


def _api_key(app, tenant) -> str:
    with app.test_request_context(base_url=host(tenant.slug)), tenant_context(tenant):
        _, token = api.create_key("HR portal", list(api.SCOPES))
        _db.session.commit()
    return token


API_BODIES = {"PUT": {"name": "Acme's own unit", "kind": "office"},
              "POST": {"email": "sam@example.org", "gender": "man", "country": "FR", "language": "en",
                       "consent_version": "1", "consented_at": "2026-12-01T10:00:00Z"}}
# Endpoints whose body is their own (a student who did not opt in: nothing is written anywhere).
ENDPOINT_BODIES = {"api_v1.register_batch": {"records": [{"student_id": "S1", "opted_in": False, "term": "2027"}]}}


@pytest.mark.parametrize("rule", API_ROUTES, ids=lambda r: f"{sorted(r.methods - {'HEAD', 'OPTIONS'})} {r.rule}")
def test_api_a_key_of_another_tenant_reaches_nothing_of_it(app, client, db, make_tenant, make_unit, rule):
    """Acme's key, with Globex's ids: on Acme's host nothing is found (a unit key names Acme's own unit, so a
    PUT makes one at Acme and leaves Globex's alone); on Globex's host the key is unknown (401). Globex's own
    key then finds its objects, so the ids were real."""
    acme = make_tenant("acme")
    globex = make_tenant("globex", "Globex Hidden")
    factories = object_factories(app, db, make_unit)
    path = path_with_objects_of(rule, factories, globex)
    acme_key, globex_key = _api_key(app, acme), _api_key(app, globex)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    body_of = lambda method: ENDPOINT_BODIES.get(rule.endpoint, API_BODIES.get(method))  # noqa: E731
    for method in methods:
        on_acme = client.open(path, method=method, base_url=host("acme"), json=body_of(method),
                              headers={"Authorization": f"Bearer {acme_key}", "Idempotency-Key": "acme"})
        body = on_acme.get_data(as_text=True)
        for secret in ("Globex", "Cairo", "Alexandria", '"EG"'):  # the unit key is the URL's own
            assert secret not in body, f"{method} {path} on acme shows {secret!r}"
        if rule.arguments and method != "PUT":
            assert on_acme.status_code == 404, f"{method} {path} on acme"
        on_globex = client.open(path, method=method, base_url=host("globex"), json=body_of(method),
                                headers={"Authorization": f"Bearer {acme_key}", "Idempotency-Key": "globex"})
        assert on_globex.status_code == 401, f"{method} {path} on globex with acme's key"
    with tenant_context(globex):
        assert _db.session.scalars(select(Unit.name).where(Unit.external_key.is_not(None))).all() in (
            [], ["Globex Cairo office"])
        assert _db.session.scalar(select(func.count(Commitment.id)).where(Commitment.withdrawn_at.is_not(None))) == 0
        assert _db.session.scalar(select(func.count(Commitment.id))) == (1 if "commitment_id" in rule.arguments else 0)
    for method in methods:
        own = client.open(path, method=method, base_url=host("globex"), json=body_of(method),
                          headers={"Authorization": f"Bearer {globex_key}", "Idempotency-Key": "own"})
        assert own.status_code < 400, f"{method} {path} on its own host"


SCIM_PATHS = ["/scim/v2/Users", "/scim/v2/Groups", "/scim/v2/Users/{user}", "/scim/v2/Groups/{group}"]
SCIM_USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "acme.person@acme.example"}
SCIM_GROUP = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Acme staff"}
SCIM_PATCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "replace", "value": {"externalId": "moved"}}]}


def _scim_body(method: str, path: str) -> dict | None:
    if method == "PATCH":
        return SCIM_PATCH
    if method in ("POST", "PUT"):
        return SCIM_USER if "/Users" in path else SCIM_GROUP
    return None


def _scim_token(app, tenant) -> str:
    with app.test_request_context(base_url=host(tenant.slug)), tenant_context(tenant):
        _, secret = provisioning.create_token()
        _db.session.commit()
    return secret


@pytest.mark.parametrize("rule", SCIM_ROUTES, ids=lambda r: r.rule)
def test_scim_a_token_of_another_tenant_reaches_nothing_of_it(app, client, db, make_tenant, rule):
    """Acme's SCIM token with Globex's ids: on Acme's host nothing is found; on Globex's host the token is unknown
    (401, a SCIM error). Globex's own token then finds its objects, so the ids were real."""
    acme, globex = make_tenant("acme"), make_tenant("globex", "Globex Hidden")
    acme_token, globex_token = _scim_token(app, acme), _scim_token(app, globex)
    own = {"Authorization": f"Bearer {globex_token}"}
    user = client.post("/scim/v2/Users", base_url=host("globex"), headers=own, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "hidden@globex.example"}).get_json()
    group = client.post("/scim/v2/Groups", base_url=host("globex"), headers=own, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Globex Hidden staff"}).get_json()
    for path in (template.format(user=user["id"], group=group["id"]) for template in SCIM_PATHS):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            on_acme = client.open(path, method=method, base_url=host("acme"), json=_scim_body(method, path),
                                  headers={"Authorization": f"Bearer {acme_token}"})
            body = on_acme.get_data(as_text=True)
            assert "globex" not in body.lower(), f"{method} {path} on acme"
            if path.count("/") == 4 and method != "POST":
                assert on_acme.status_code == 404, f"{method} {path} on acme"
            on_globex = client.open(path, method=method, base_url=host("globex"), json=_scim_body(method, path),
                                    headers={"Authorization": f"Bearer {acme_token}"})
            assert on_globex.status_code == 401, f"{method} {path} on globex with acme's token"
            assert "Error" in on_globex.get_json()["schemas"][0]
        assert client.get(path, base_url=host("globex"), headers=own).status_code == 200
