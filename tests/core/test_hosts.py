"""How a request finds its site: the Host header, and nothing else."""

import pytest
import sqlalchemy as sa

from core.tenancy import tenant_context
from tenants.models import Tenant, TenantStatus
from tenants.services import hosts, registry
from tests.helpers import BASE_DOMAIN, host


def test_the_base_domain_is_the_global_page(client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page = client.get("/", base_url=host()).get_data(as_text=True)
    assert "Men and boys standing up for gender equality" in page


def test_a_subdomain_is_its_tenants_sign_up_page(client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    page = client.get("/", base_url=host("acme")).get_data(as_text=True)
    assert "Join Acme Corporation in HeForShe" in page


def test_the_port_and_case_of_the_host_do_not_matter(client, make_tenant):
    make_tenant("acme", "Acme Corporation")
    response = client.get("/", base_url=f"http://ACME.{BASE_DOMAIN.upper()}:8443")
    assert "Join Acme Corporation" in response.get_data(as_text=True)


def test_a_verified_custom_domain_reaches_its_tenant(client, db, make_tenant):
    acme = make_tenant("acme", "Acme Corporation")
    hosts.add_hostname(acme, "heforshe.acme.example")
    db.session.commit()
    page = client.get("/", base_url="http://heforshe.acme.example").get_data(as_text=True)
    assert "Join Acme Corporation in HeForShe" in page


def test_an_unverified_custom_domain_is_not_served(client, db, make_tenant):
    acme = make_tenant("acme")
    hosts.add_hostname(acme, "heforshe.acme.example", verified=False)
    db.session.commit()
    assert client.get("/", base_url="http://heforshe.acme.example").status_code == 404


@pytest.mark.parametrize("other", [
    "http://nobody.hfs.test",          # no such tenant
    "http://www.hfs.test",             # reserved
    "http://a.b.hfs.test",             # nested subdomain
    "http://evil.example",             # another domain
    "http://127.0.0.1",                # a bare address
    "http://acme.hfs.test.evil.example",
])
def test_any_other_host_gets_404(client, make_tenant, other):
    make_tenant("acme")
    response = client.get("/stats.json", base_url=other)
    assert response.status_code == 404
    assert "total" not in response.get_data(as_text=True)


def test_a_host_that_names_no_site_leads_to_the_global_site(client, make_tenant):
    make_tenant("acme", "Acme Corporation", primary_color="#1f4e8c")
    for scheme, port in (("http", ":5000"), ("https", "")):
        response = client.get("/", base_url=f"{scheme}://nosuch.{BASE_DOMAIN}{port}",
                              headers={"Accept-Language": "fr"})
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert '<html lang="fr"' in page and "Erreur 404" in page
        assert page.count(f'href="{scheme}://{BASE_DOMAIN}{port}/"') == 2  # HeForShe, and the page's button
        assert 'href="/"' not in page and "Acme" not in page


def test_a_host_that_names_no_site_serves_the_products_look_and_nothing_else(client, make_tenant):
    make_tenant("acme", primary_color="#1f4e8c")
    nosuch = f"http://nosuch.{BASE_DOMAIN}"
    assert client.get("/static/core/app.css", base_url=nosuch).status_code == 200
    colors = client.get("/brand.css", base_url=nosuch).get_data(as_text=True)
    assert "--brand-primary: #5b2a86;" in colors
    for path in ("/map", "/privacy", "/portal/", "/thanks"):
        assert client.get(path, base_url=nosuch).status_code == 404, path
    assert client.get("/stats.json", base_url=nosuch).get_json() == {"error": "Page not found"}


def suspend(app, tenant: Tenant) -> None:
    """Suspend a tenant as the operators do, as the owner (on PostgreSQL the app role may not change a status),
    and so behind this process's back."""
    owner = sa.create_engine(app.config["MIGRATION_DATABASE_URL"])
    with owner.begin() as connection:
        connection.execute(sa.update(Tenant.__table__).where(Tenant.__table__.c.id == tenant.id)
                           .values(status=TenantStatus.SUSPENDED.value))
    owner.dispose()


def test_a_suspended_tenant_is_not_served(app, client, make_tenant):
    acme = make_tenant("acme")
    suspend(app, acme)
    assert client.get("/", base_url=host("acme")).status_code == 404


def test_a_change_to_a_tenant_committed_here_is_served_at_once(client, db, make_tenant):
    acme = make_tenant("acme", primary_color="#111111")
    assert "#111111" in client.get("/brand.css", base_url=host("acme")).get_data(as_text=True)
    with tenant_context(acme):
        acme.primary_color = "#222222"
        db.session.commit()
    assert "#222222" in client.get("/brand.css", base_url=host("acme")).get_data(as_text=True)


@pytest.mark.parametrize("forget", [
    lambda tenant: hosts.forget_host(f"{tenant.slug}.{BASE_DOMAIN}"),
    lambda tenant: hosts.forget_tenants([tenant.id]),
], ids=["the host", "its tenant"])
def test_a_remembered_host_is_looked_up_again_once_forgotten(app, client, db, make_tenant, monkeypatch, forget):
    monkeypatch.setattr(hosts, "HOST_CACHE_SECONDS", 600.0)
    acme, globex = make_tenant("acme"), make_tenant("globex")
    assert client.get("/", base_url=host("acme")).status_code == 200
    assert client.get("/", base_url=host("globex")).status_code == 200
    suspend(app, acme)
    suspend(app, globex)
    assert client.get("/", base_url=host("acme")).status_code == 200, "remembered: the change was made elsewhere"
    forget(acme)
    assert client.get("/", base_url=host("acme")).status_code == 404
    assert client.get("/", base_url=host("globex")).status_code == 200, "another host is still remembered"


@pytest.mark.parametrize("slug", ["www", "admin", "api", "static", "-acme", "acme-", "Acme", "ac_me", "a" * 64, ""])
def test_reserved_and_malformed_slugs_are_refused(db, slug):
    with pytest.raises(registry.InvalidTenantSetting):
        registry.validate_slug(slug)


def test_session_cookies_are_host_only(client, make_tenant):
    make_tenant("acme")
    response = client.get("/", base_url=host("acme"))
    cookie = response.headers["Set-Cookie"]
    assert "Domain=" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_on_the_global_host_only_the_movements_paths_are_the_movements_pages(app, movement):
    with app.test_request_context(base_url=host()):
        for path in ("/commit", "/thanks", "/me", "/me/sign-in/token", "/me/withdraw", "/sso/logout"):
            assert hosts.match_host(BASE_DOMAIN, BASE_DOMAIN, path).tenant.id == movement.id, path
        for path in ("/", "/stats.json", "/count.json", "/map", "/map.json", "/live", "/embed/counter", "/committed",
                     "/meet", "/sso/discover", "/sso/login", "/portal/", "/invitations/token", "/brand.css"):
            match = hosts.match_host(BASE_DOMAIN, BASE_DOMAIN, path)
            assert match.tenant is None, path
            assert match.session_tenant_id == movement.id, "a movement's session is kept on the global pages"


def test_the_global_counts_stay_everyones_beside_the_movement(client, movement, make_tenant, make_commitment):
    acme = make_tenant("acme")
    make_commitment(acme)
    make_commitment(acme)
    make_commitment(movement)
    assert client.get("/stats.json", base_url=host()).json["total"] == 3
    assert client.get("/count.json", base_url=host()).json["total"] == 3
    assert client.get("/map.json", base_url=host()).json["total"] == 3


def test_the_global_host_remembers_the_movement_as_a_tenants_host_remembers_its_tenant(app, client, db, movement,
                                                                                      monkeypatch):
    monkeypatch.setattr(hosts, "HOST_CACHE_SECONDS", 600.0)
    assert "Commit now" in client.get("/", base_url=host()).get_data(as_text=True)
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert "Commit now" in client.get("/", base_url=host()).get_data(as_text=True)
    assert client.get("/commit", base_url=host()).status_code == 200
    assert not [s for s in statements if "WHERE tenants.slug" in s], "the movement's row is not read again"
    suspend(app, movement)
    assert client.get("/commit", base_url=host()).status_code == 200, "remembered: the change was made elsewhere"
    hosts.forget_tenants([movement.id])
    assert client.get("/commit", base_url=host()).status_code == 404
    assert "Commit now" not in client.get("/", base_url=host()).get_data(as_text=True)
