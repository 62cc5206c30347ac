"""The portal's action kits: which of HeForShe's kits the pages list, and the organisation's own kits, written with
a preview; every change in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry
from tenants.kits import services as kits
from tenants.kits.models import Kit, TenantKit
from tenants.models import Role
from tests.helpers import csrf_token, host

ACME = host("acme")
OWN = {"title": "Our helplines", "summary": "Who to call at Acme.", "audience": "corporation", "pillar": "violence",
       "language": "en", "body": "## Steps\n\n1. **Call** the security desk.\n2. **Write** to HR.",
       "contacts": "Security desk: +33 1 23 45 67 89\nhr@acme.example", "published": "y"}


@pytest.fixture
def acme(db, make_tenant, client, sign_in_as):
    """Acme with the starter kits published, and its admin signed in."""
    kits.load_starter()
    db.session.commit()
    tenant = make_tenant("acme", "Acme Corporation")
    sign_in_as(tenant, Role.ADMIN, client=client)
    return tenant


def post_from(client, page_path: str, action: str, **fields):
    page = client.get(page_path, base_url=ACME).get_data(as_text=True)
    return client.post(action, base_url=ACME, data={"csrf_token": csrf_token(page), **fields})


def listed(client) -> list[str]:
    return re.findall(r'<h2[^>]*><a href="/kits/([^"]+)"', client.get("/kits", base_url=ACME).get_data(as_text=True))


def audit(db, tenant) -> list[tuple]:
    with tenant_context(tenant):
        return [(entry.action, entry.target, entry.details) for entry in
                db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_admins_choose_which_of_heforshes_kits_their_pages_list(client, db, acme):
    page = client.get("/portal/kits", base_url=ACME).get_data(as_text=True)
    checked = re.findall(r'id="kit-(\d+)" name="shown" value="\d+" checked', page)
    ids = dict(db.session.execute(select(Kit.slug, Kit.id)).all())
    assert sorted(map(int, checked)) == sorted(ids[slug] for slug in (
        "equal-pay-conversation", "share-the-care", "speak-up", "peace-starts-at-home")), "the default is shown"
    chosen = post_from(client, "/portal/kits", "/portal/kits/choice",
                       shown=[ids["equal-pay-conversation"], ids["balanced-panels"]])
    assert chosen.status_code == 303
    assert listed(client) == ["equal-pay-conversation", "balanced-panels"]
    assert post_from(client, "/portal/kits", "/portal/kits/choice", shown=[ids["equal-pay-conversation"],
                                                                           ids["balanced-panels"]]).status_code == 303
    [(action, _target, details)] = audit(db, acme)
    assert action == "kits.choice" and details["shown"] == ["balanced-panels"]
    assert sorted(details["hidden"]) == ["peace-starts-at-home", "share-the-care", "speak-up"]


def test_a_viewer_sees_the_choice_and_cannot_make_it(client, db, make_tenant, sign_in_as):
    kits.load_starter()
    db.session.commit()
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.VIEWER, client=client)
    page = client.get("/portal/kits", base_url=ACME).get_data(as_text=True)
    assert page.count(" disabled>") == 8 and "Save the choice" not in page and "Write a kit" not in page


def test_an_own_kit_is_previewed_without_saving_then_saved_edited_and_deleted(client, db, acme):
    preview = post_from(client, "/portal/kits/new", "/portal/kits/new", **OWN, preview="Preview")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="preview-title"' in text
    assert "<strong>Call</strong> the security desk." in text and "Security desk: +33 1 23 45 67 89" in text
    assert 'value="Our helplines"' in text, "the form keeps what was typed"
    with tenant_context(acme):
        assert db.session.scalars(select(TenantKit)).all() == []

    assert post_from(client, "/portal/kits/new", "/portal/kits/new", **OWN).status_code == 303
    assert listed(client)[-1] == "our-helplines"
    page = client.get("/kits/our-helplines", base_url=ACME).get_data(as_text=True)
    assert "<h2>Local contacts</h2>" in page and "hr@acme.example" in page
    with tenant_context(acme):
        kit_id = db.session.scalar(select(TenantKit.id))

    edit = f"/portal/kits/{kit_id}/edit"
    assert post_from(client, edit, edit, **{**OWN, "title": "Acme helplines", "published": ""}).status_code == 303
    assert client.get("/kits/our-helplines", base_url=ACME).status_code == 404, "no longer shown; its address kept"
    delete = f"/portal/kits/{kit_id}/delete"
    assert post_from(client, delete, delete).status_code == 303
    assert [(action, target) for action, target, _ in audit(db, acme)] == [
        ("kits.own_create", "Our helplines"), ("kits.own_update", "Acme helplines"),
        ("kits.own_delete", "Acme helplines")]


def test_an_own_kit_without_its_text_is_refused_with_what_was_typed_kept(client, acme):
    refused = post_from(client, "/portal/kits/new", "/portal/kits/new", **{**OWN, "body": "  "})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Please write the kit&#39;s text." in page
    assert 'value="Who to call at Acme."' in page


def test_an_own_kit_takes_an_address_no_other_kit_has(client, db, acme):
    post_from(client, "/portal/kits/new", "/portal/kits/new", **{**OWN, "title": "Speak up!"})
    post_from(client, "/portal/kits/new", "/portal/kits/new", **{**OWN, "title": "大声说出来", "language": "zh"})
    with tenant_context(acme):
        assert sorted(db.session.scalars(select(TenantKit.slug))) == ["kit", "speak-up-2"]
    assert "Speak up!" in client.get("/kits/speak-up-2", base_url=ACME).get_data(as_text=True)
    assert "ارفع صوتك" in client.get("/kits/speak-up?lang=ar", base_url=ACME).get_data(as_text=True), \
        "HeForShe's kit keeps its own address"
