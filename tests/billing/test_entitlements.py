"""What a plan gates, checked for every route of the URL map: a Community admin meets each paid feature's pages
with a 403 that says why, an entitled one does not; every other portal page stays open to both. And what a lapsed
plan stops beyond the pages: webhooks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.tenancy import tenant_context
from tenants import plans
from tenants.models import Role
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookMessage
from tests.helpers import csrf_token, host, sign_up
from tests.test_isolation import ROUTES, object_factories, path_with_objects_of

ACME = host("acme")
#: Portal blueprints closed as a whole while the plan lacks the feature.
GATED_BLUEPRINTS = {"portal_api": "api", "portal_webhooks": "api", "portal_lti": "course_registration",
                    "portal_provisioning": "course_registration", "portal_registrations": "course_registration"}
#: Single routes of open blueprints that use or change a paid feature.
GATED_ROUTES = {
    ("tenant_portal.sso_settings", "POST"): "sso", ("tenant_portal.test_connection", "POST"): "sso",
    ("tenant_portal.check_domain", "POST"): "sso",
    ("portal_branding.add_domain", "POST"): "custom_domains",
    ("portal_branding.verify_domain", "POST"): "custom_domains",
    ("portal_dashboard.commitments_csv", "GET"): "personal_data_exports",
}


def _portal_calls():
    for rule in ROUTES:
        if not rule.rule.startswith("/portal/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            feature = GATED_BLUEPRINTS.get(rule.endpoint.split(".")[0]) or GATED_ROUTES.get((rule.endpoint, method))
            yield pytest.param(rule, method, feature, id=f"{method} {rule.rule}")


PORTAL_CALLS = list(_portal_calls())


def test_every_gated_route_exists():
    called = {(rule.endpoint, method) for rule, method, _ in (call.values for call in PORTAL_CALLS)}
    assert set(GATED_ROUTES) <= called
    assert {endpoint.split(".")[0] for endpoint, _ in called} >= set(GATED_BLUEPRINTS)


def _call(client, path, method):
    token = csrf_token(client.get("/portal/sso", base_url=ACME).get_data(as_text=True))
    return client.open(path, method=method, base_url=ACME, data={"csrf_token": token} if method == "POST" else None)


def _on_plan(app, db, tenant, plan: str) -> None:
    with app.test_request_context():
        plans.grant(tenant, plan)
        db.session.commit()


@pytest.mark.parametrize("rule, method, feature", PORTAL_CALLS)
def test_a_community_admin_meets_each_paid_feature_with_a_403_and_an_entitled_one_does_not(
        app, client, db, make_tenant, make_unit, sign_in_as, rule, method, feature):
    """The route's objects made on a paid plan, then asked for on Community, then on Enterprise again."""
    acme = make_tenant("acme", "Acme Corporation")
    path = path_with_objects_of(rule, object_factories(app, db, make_unit), acme)
    _on_plan(app, db, acme, "community")
    sign_in_as(acme, Role.ADMIN, client=client)
    answer = _call(client, path, method)
    if feature is None:
        assert answer.status_code != 403, f"{method} {rule.rule} is in every plan"
        return
    assert answer.status_code == 403, f"{method} {rule.rule} needs {feature}"
    assert "This is not part of your plan (Community)." in answer.get_data(as_text=True)
    _on_plan(app, db, acme, "enterprise")
    assert _call(client, path, method).status_code != 403


def test_no_webhook_is_written_while_the_plan_lacks_the_api(app, client, db, make_tenant, make_commitment):
    """Endpoints made on a paid plan wait, as they are, while it is off: no commitment, however it comes in, writes
    a message for them."""
    acme = make_tenant("acme", "Acme Corporation", plan="partner")
    with tenant_context(acme):
        webhooks.add_endpoint("https://hooks.acme.example/in", ["commitment.created"], True, None)
        db.session.commit()
    make_commitment(acme, "ada@example.org")
    _on_plan(app, db, acme, "community")
    make_commitment(acme, "bo@example.org")
    assert sign_up(client, "acme", email="cy@example.org").status_code in (200, 303)
    with tenant_context(acme):
        sent = db.session.scalars(select(WebhookMessage.payload)).all()
        assert [message["data"]["email"] for message in sent] == ["ada@example.org"]
        assert db.session.scalar(select(func.count()).select_from(WebhookMessage)) == 1
