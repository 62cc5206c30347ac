"""Who gets into the portal: this tenant's admins and viewers, nobody else."""

from tenants.models import Role
from tests.helpers import host


def test_a_viewer_sees_the_dashboard_but_not_the_settings(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.get("/portal/dashboard", base_url=host("acme")).status_code == 200
    assert client.get("/portal/sso", base_url=host("acme")).status_code == 403
    assert client.get("/portal/audit", base_url=host("acme")).status_code == 403


def test_a_member_who_is_not_staff_is_refused(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.MEMBER, client=client)
    assert client.get("/portal/dashboard", base_url=host("acme")).status_code == 403


def test_an_admin_of_one_tenant_is_a_stranger_on_another(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    make_tenant("globex", "Globex")
    sign_in_as(acme, Role.ADMIN, client=client)
    assert client.get("/portal/dashboard", base_url=host("acme")).status_code == 200
    assert client.get("/portal/dashboard", base_url=host("globex")).location.startswith("/portal/sign-in")
