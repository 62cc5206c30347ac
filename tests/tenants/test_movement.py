"""The HeForShe movement: anyone commits on the global host, without a partner organisation."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from sqlalchemy import func, select

from core.i18n import LANGUAGES
from core.rollup import services as rollup
from core.tenancy import get_current_tenant_id, tenant_context
from tenants.models import Commitment, EmailConfirmation, Member, Role, Tenant, TenantKind, TenantStatus
from tenants.services import hosts, movement as movements, registry
from tests.helpers import BASE_DOMAIN, csrf_token, host, sign_up

GLOBAL = host()
ACME = host("acme")
MOVEMENT_PAGES = ["/commit", "/thanks", "/me"]


def commit_on_the_global_page(client, **fields):
    return sign_up(client, None, "/commit", **fields)


def count_commitments(db, tenant) -> int:
    with tenant_context(tenant):
        return db.session.scalar(select(func.count(Commitment.id)))


def sign_in_by_mail(client, smtp_server, email: str, base_url: str = GLOBAL):
    """Ask for a sign-in link at /me, and use the one the mail brings."""
    token = csrf_token(client.get("/me", base_url=base_url).get_data(as_text=True))
    assert client.post("/me/sign-in-link", base_url=base_url,
                       data={"csrf_token": token, "email": email}).status_code == 303
    mail = smtp_server.last_to(email)
    link = urlsplit(smtp_server.link(mail))
    page = client.get(link.path, base_url=f"{link.scheme}://{link.netloc}")
    signed_in = client.post(link.path, base_url=f"{link.scheme}://{link.netloc}",
                            data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert signed_in.status_code == 303 and signed_in.location == "/me"
    return mail, link


# Committing -----------------------------------------------------------------------------------------------------

def test_the_global_page_leads_with_a_way_in_for_anyone(client, movement):
    page = client.get("/", base_url=GLOBAL).get_data(as_text=True)
    assert re.search(r'<a class="button big" href="/commit">Commit now</a>', page)
    assert page.index("Commit now") < page.index("Committing with your workplace or university?")


def test_anyone_commits_on_the_global_host_and_the_global_counts_move(client, db, movement, make_tenant,
                                                                     make_commitment):
    acme = make_tenant("acme")
    for _ in range(9):  # with Sam, the global k: the men are released
        make_commitment(acme, country="FR")
    form = client.get("/commit", base_url=GLOBAL).get_data(as_text=True)
    assert "<h1>Commit to gender equality with HeForShe</h1>" in form
    assert 'name="country"' in form and 'name="unit"' not in form, "the country is the movement's only place"
    assert "is a HeForShe partner" not in form

    response = commit_on_the_global_page(client, email="sam@example.org", country="KE", city="Nairobi")
    assert (response.status_code, response.location) == (303, "/thanks")
    thanks = client.get("/thanks", base_url=GLOBAL).get_data(as_text=True)
    assert "Thank you" in thanks
    assert "<strong>10</strong> men have committed at HeForShe" in thanks, "everyone's count, partners' too"

    assert client.get("/count.json", base_url=GLOBAL).json["men"] == 10
    assert client.get("/stats.json", base_url=GLOBAL).json["total"] == 10
    assert '<span class="stat-value" data-live="men">10</span>' in client.get("/", base_url=GLOBAL).get_data(as_text=True)
    with tenant_context(movement):
        commitment = db.session.scalars(select(Commitment)).one()
        assert (commitment.country_code, commitment.city, commitment.unit_id) == ("KE", "Nairobi", None)
    assert rollup.global_counts(("tenant",)).dimension("tenant")[str(movement.id)] == {
        "total": 1, "men": 1, "verified": 0, "verified_men": 0}


def test_committing_again_on_the_global_page_changes_nothing(client, db, movement):
    first = commit_on_the_global_page(client, email="sam@example.org")
    again = commit_on_the_global_page(client, email="SAM@example.org", gender="woman")
    assert (first.status_code, first.location) == (again.status_code, again.location)
    assert count_commitments(db, movement) == 1


def test_a_mistake_is_explained_on_the_global_host(client, db, movement):
    response = commit_on_the_global_page(client, email="sam@", city="Lyon")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please enter a valid email address" in page and 'value="Lyon"' in page
    assert count_commitments(db, movement) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_movements_pages_speak_every_language(client, movement, sign_in_as, language):
    sign_in_as(movement, Role.MEMBER, client=client)
    for path in [*MOVEMENT_PAGES, "/"]:
        response = client.get(f"{path}?lang={language}", base_url=GLOBAL)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page, path
    assert 'dir="rtl"' in client.get("/commit?lang=ar", base_url=GLOBAL).get_data(as_text=True)


def test_the_movement_wears_heforshes_own_colours(client, movement):
    colours = client.get("/brand.css", base_url=GLOBAL).get_data(as_text=True)
    assert all(colour in colours for colour in registry.DEFAULT_COLORS)
    page = client.get("/commit", base_url=GLOBAL).get_data(as_text=True)
    assert '<span class="brand-name">HeForShe</span>' in page


def test_the_movements_pages_run_as_the_movement_and_the_global_ones_as_no_tenant(app, client, movement):
    @app.get("/me/test-current-tenant")
    @app.get("/test-current-tenant")
    def current_tenant():
        return str(get_current_tenant_id())

    assert client.get("/me/test-current-tenant", base_url=GLOBAL).get_data(as_text=True) == str(movement.id)
    assert client.get("/test-current-tenant", base_url=GLOBAL).get_data(as_text=True) == "None"


# The gate -------------------------------------------------------------------------------------------------------

def suspend(app, tenant: Tenant) -> None:
    owner = sa.create_engine(app.config["MIGRATION_DATABASE_URL"])
    with owner.begin() as connection:
        connection.execute(sa.update(Tenant.__table__).where(Tenant.__table__.c.id == tenant.id)
                           .values(status=TenantStatus.SUSPENDED.value))
    owner.dispose()


def missing_pepper(app, db):
    movements.ensure()
    db.session.commit()
    app.config["PEOPLE_PEPPER"] = ""


def rate_limits_off(app, db):
    movements.ensure()
    db.session.commit()
    app.config.update(PEOPLE_PEPPER="a people pepper of more than thirty-two characters", RATELIMIT_ENABLED=False)


def suspended(app, db):
    tenant, _ = movements.ensure()
    db.session.commit()
    app.config["PEOPLE_PEPPER"] = "a people pepper of more than thirty-two characters"
    suspend(app, tenant)


def email_confirmation_off(app, db):
    tenant, _ = movements.ensure()
    with tenant_context(tenant):
        tenant.email_confirmation = EmailConfirmation.OFF
        db.session.commit()
    app.config["PEOPLE_PEPPER"] = "a people pepper of more than thirty-two characters"


def not_created(app, db):
    app.config["PEOPLE_PEPPER"] = "a people pepper of more than thirty-two characters"


@pytest.mark.parametrize("closed", [missing_pepper, rate_limits_off, suspended, email_confirmation_off, not_created],
                         ids=lambda f: f.__name__)
def test_a_closed_movement_offers_no_form_and_its_pages_are_not_found(app, client, db, closed):
    closed(app, db)
    page = client.get("/", base_url=GLOBAL).get_data(as_text=True)
    assert "Men and boys standing up for gender equality" in page
    assert "Commit now" not in page and "/commit" not in page
    for path in MOVEMENT_PAGES:
        assert client.get(path, base_url=GLOBAL).status_code == 404, path
    assert client.post("/commit", base_url=GLOBAL, data={"email": "sam@example.org"}).status_code == 404
    with app.app_context():
        assert not movements.is_open(movements.find())


def test_the_gate_names_what_keeps_it_closed(app, db):
    assert movements.why_closed(None) == ["it does not exist yet: run `flask tenants ensure-movement`"]
    tenant, _ = movements.ensure()
    app.config.update(RATELIMIT_ENABLED=False, PEOPLE_PEPPER="")
    assert movements.why_closed(tenant) == ["rate limits are off (RATELIMIT_ENABLED)", "PEOPLE_PEPPER is not set"]
    app.config.update(RATELIMIT_ENABLED=True, PEOPLE_PEPPER="a people pepper of more than thirty-two characters")
    assert movements.why_closed(tenant) == [] and movements.is_open(tenant)
    tenant.email_confirmation = EmailConfirmation.OFF
    assert movements.why_closed(tenant) == ["its email confirmation is off"]


def test_ensure_movement_creates_it_once_and_says_whether_it_is_open(app, db):
    app.config["PEOPLE_PEPPER"] = ""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tenants", "ensure-movement"])
    assert first.exit_code == 0
    assert "Created the HeForShe movement, closed: PEOPLE_PEPPER is not set." in first.output
    app.config["PEOPLE_PEPPER"] = "a people pepper of more than thirty-two characters"
    again = runner.invoke(args=["tenants", "ensure-movement"])
    assert f"Found the HeForShe movement, open. Its page: http://{BASE_DOMAIN}/commit" in again.output
    tenant = db.session.scalars(select(Tenant).where(Tenant.kind == TenantKind.MOVEMENT)).one()
    assert (tenant.slug, tenant.name, tenant.listed) == ("heforshe", "HeForShe", False)
    assert "heforshe             movement" in runner.invoke(args=["tenants", "list"]).output


# Never a partner -------------------------------------------------------------------------------------------------

def test_the_movement_is_listed_nowhere_as_a_partner(client, movement, make_tenant, make_commitment):
    make_tenant("acme", "Acme Corporation")
    for _ in range(3):
        make_commitment(movement)
    page = client.get("/", base_url=GLOBAL).get_data(as_text=True)
    partners = page[page.index('id="partners-title"'):]
    partners = partners[:partners.index("</section>")]
    assert "Acme Corporation" in partners and "HeForShe" not in partners and "heforshe" not in partners
    assert "heforshe" not in client.get("/stats.json", base_url=GLOBAL).get_data(as_text=True).lower()
    discovery = client.post("/sso/discover", base_url=GLOBAL, data={
        "csrf_token": csrf_token(page), "email": "sam@heforshe.org"})
    assert "No partner organisation signs in with this address" in discovery.get_data(as_text=True)


def test_the_movement_has_no_host_of_its_own_no_admins_and_cannot_be_listed(app, client, db, movement):
    assert client.get("/", base_url=host("heforshe")).status_code == 404
    assert client.get("/commit", base_url=host("heforshe")).status_code == 404
    with pytest.raises(registry.InvalidTenantSetting, match="global host only"):
        hosts.add_hostname(movement, "commit.example.org")
    with pytest.raises(registry.InvalidTenantSetting, match="not a partner"):
        registry.configure(movement, listed=True)
    with pytest.raises(registry.InvalidTenantSetting, match="built in"):
        registry.create_tenant("movement2", "Another movement", TenantKind.MOVEMENT)
    db.session.rollback()
    runner = app.test_cli_runner()
    assert "no admins" in runner.invoke(args=["portal", "invite-admin", "heforshe", "x@example.org"]).output
    assert runner.invoke(args=["tenants", "create", "m", "M", "--kind", "movement",
                               "--admin-email", "x@example.org"]).exit_code != 0
    for path in ("/portal/", "/portal/members", "/sso/login", "/units/00000000-0000-0000-0000-000000000000"):
        assert client.get(path, base_url=GLOBAL).status_code == 404, path


def test_a_partners_host_has_no_movement_form(client, movement, make_tenant):
    make_tenant("acme")
    assert client.get("/commit", base_url=ACME).status_code == 404


# Each person's own page -------------------------------------------------------------------------------------------

def test_a_movement_committer_signs_in_by_mail_and_sees_downloads_and_withdraws(client, db, movement,
                                                                              smtp_server):
    commit_on_the_global_page(client, email="sam@example.org", country="KE", city="Nairobi")
    page = client.get("/me", base_url=GLOBAL).get_data(as_text=True)
    assert "Sign in to see your commitment to HeForShe" in page and "Sign in with" not in page

    mail, link = sign_in_by_mail(client, smtp_server, "sam@example.org")
    assert mail["Subject"] == "Your HeForShe commitment"
    assert f"{link.scheme}://{link.netloc}" == GLOBAL and link.path.startswith("/me/sign-in/")
    assert "HeForShe, for" not in mail.get_content()

    own = client.get("/me", base_url=GLOBAL).get_data(as_text=True)
    assert "sam@example.org" in own and "Nairobi" in own and "Counted" in own
    assert format_date(datetime.now(timezone.utc), "long", locale="en") in own, "the day, as English writes it"
    client.get("/", base_url=GLOBAL)  # the global page keeps the session
    assert "sam@example.org" in client.get("/me", base_url=GLOBAL).get_data(as_text=True)

    download = client.get("/me/commitment.json", base_url=GLOBAL)
    assert json.loads(download.data)["commitment"]["country"] == "KE"
    assert client.post("/me/withdraw", base_url=GLOBAL, data={"csrf_token": csrf_token(own)}).status_code == 303
    assert client.get("/count.json", base_url=GLOBAL).json["total"] == 0
    again = client.get("/me", base_url=GLOBAL).get_data(as_text=True)
    assert '<a href="/commit">Commit again</a>' in again

    signed_out = client.post("/sso/logout", base_url=GLOBAL, data={"csrf_token": csrf_token(again)})
    assert signed_out.status_code == 200
    assert "Send me a sign-in link" in client.get("/me", base_url=GLOBAL).get_data(as_text=True)


# Apart from every partner ------------------------------------------------------------------------------------------

def test_the_same_person_at_a_partner_and_in_the_movement_is_two_people_kept_apart(client, app, db, movement,
                                                                                 make_tenant, make_commitment,
                                                                                 smtp_server, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme, "sam@example.org", country="FR", city="Lyon")
    commit_on_the_global_page(client, email="sam@example.org", country="KE", city="Nairobi")
    commit_on_the_global_page(client, email="solo@example.org", country="KE")

    sign_in_by_mail(client, smtp_server, "sam@example.org")
    own = client.get("/me", base_url=GLOBAL).get_data(as_text=True)
    assert "Nairobi" in own and "Lyon" not in own
    assert client.get("/me", base_url=ACME).get_data(as_text=True).count("Send me a sign-in link") == 1, \
        "the movement's session signs nobody in at a partner"

    # The movement's cookie, carried to a partner's host, signs nobody in there.
    cookie = client.get_cookie("session", domain=BASE_DOMAIN)
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=f"acme.{BASE_DOMAIN}")
    assert "Send me a sign-in link" in thief.get("/me", base_url=ACME).get_data(as_text=True)

    # A partner's admin sees none of the movement's people, and their session is nobody on the global host.
    admin = app.test_client()
    sign_in_as(acme, Role.ADMIN, client=admin)
    members = admin.get("/portal/members", base_url=ACME).get_data(as_text=True)
    assert "sam@example.org" in members and "solo@example.org" not in members
    acme_cookie = admin.get_cookie("session", domain=f"acme.{BASE_DOMAIN}")
    visitor = app.test_client()
    visitor.set_cookie("session", acme_cookie.value, domain=BASE_DOMAIN)
    assert "Send me a sign-in link" in visitor.get("/me", base_url=GLOBAL).get_data(as_text=True)

    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == 2  # sam and the admin
    with tenant_context(movement):
        assert sorted(db.session.scalars(select(Member.email))) == ["sam@example.org", "solo@example.org"]


def test_a_sign_in_link_works_only_where_it_was_made(client, db, movement, make_tenant, make_commitment,
                                                     smtp_server):
    acme = make_tenant("acme")
    make_commitment(acme, "sam@example.org")
    make_commitment(movement, "sam@example.org")
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    client.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": token, "email": "sam@example.org"})
    acme_link = urlsplit(smtp_server.link(smtp_server.last_to("sam@example.org")))
    assert client.get(acme_link.path, base_url=GLOBAL).status_code == 404

    token = csrf_token(client.get("/me", base_url=GLOBAL).get_data(as_text=True))
    client.post("/me/sign-in-link", base_url=GLOBAL, data={"csrf_token": token, "email": "sam@example.org"})
    movement_link = urlsplit(smtp_server.link(smtp_server.last_to("sam@example.org")))
    assert movement_link.netloc == BASE_DOMAIN
    assert client.get(movement_link.path, base_url=ACME).status_code == 404
    assert client.get(movement_link.path, base_url=GLOBAL).status_code == 200


def test_the_movements_people_are_kept_by_the_orm_guard_like_any_tenants(db, movement, make_tenant,
                                                                         make_commitment):
    acme = make_tenant("acme")
    make_commitment(movement, "sam@example.org")
    with tenant_context(acme):
        assert db.session.scalar(select(func.count(Member.id))) == 0
        assert db.session.scalar(select(func.count(Commitment.id))) == 0
    with tenant_context(movement):
        assert db.session.scalar(select(func.count(Commitment.id))) == 1
