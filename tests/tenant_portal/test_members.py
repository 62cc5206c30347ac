"""Members, roles, invitations by email, removal, and each member's own page (``/me``)."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from babel.dates import format_datetime
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import mail
from core.extensions import db as _db
from core.models import MailStatus, OutboxMessage
from core.rollup import services as rollup
from core.tenancy import tenant_context
from tenant_portal.models import AuditEntry, Invitation, SignInLink
from tenants.models import Member, Role, utcnow
from tenants.services.members import find_or_create_member
from tests.helpers import BASE_DOMAIN, csrf_token, host
from tests.mail_fixtures import _free_port

ACME = host("acme")
CSRF_VALUE = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", "Acme Corporation")


def member(db, tenant, email: str) -> Member | None:
    with tenant_context(tenant):
        found = db.session.scalars(select(Member).where(Member.email == email)).one_or_none()
        if found is not None:
            db.session.expunge(found)
        return found


def add_member(db, tenant, email: str, role: Role = Role.MEMBER, name: str | None = None):
    with tenant_context(tenant):
        person = find_or_create_member(email, name)
        person.role = role
        db.session.commit()
        return person.id


def audit_actions(db, tenant) -> list[str]:
    with tenant_context(tenant):
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.at)))


def members_page(client, base=ACME, **params) -> str:
    response = client.get("/portal/members", base_url=base, query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_from_members_page(client, path, base=ACME, **data):
    token = csrf_token(client.get("/portal/members", base_url=base).get_data(as_text=True))
    return client.post(path, base_url=base, data={"csrf_token": token, **data})


def invite(client, email="grace@acme.example", role="admin"):
    return post_from_members_page(client, "/portal/members/invitations", email=email, role=role)


def local(link: str) -> tuple[str, str]:
    """A link from a mail as (base URL, path) for the test client."""
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}", parts.path


def accept(client, link: str):
    base, path = local(link)
    page = client.get(path, base_url=base)
    if page.status_code != 200:
        return page
    return client.post(path, base_url=base, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


# The list ----------------------------------------------------------------------------------------------------

def test_the_list_shows_roles_and_who_committed_and_searches_without_case(client, db, acme, sign_in_as,
                                                                         make_commitment):
    make_commitment(acme, "Alice.Martin@acme.example", name="Alice Martin")
    add_member(db, acme, "bob@acme.example", Role.VIEWER, name="Bob Stone")
    sign_in_as(acme, Role.ADMIN, email="root@acme.example", client=client)

    page = members_page(client)
    assert "Alice.Martin@acme.example" in page and "bob@acme.example" in page
    assert "3 members in all" in page and "1 admin" in page
    row = re.search(r"Alice\.Martin@acme\.example.*?</tr>", page, re.S).group(0)
    assert re.search(r"<td[^>]*>Yes</td>", row)
    bob = re.search(r"bob@acme\.example.*?</tr>", page, re.S).group(0)
    assert 'value="viewer" selected' in bob and re.search(r"<td[^>]*>No</td>", bob)

    found = members_page(client, q="aLiCe")
    assert "Alice.Martin@acme.example" in found and "bob@acme.example" not in found
    assert "1 matches" in found or "1 match" in found
    by_name = members_page(client, q="STONE")
    assert "bob@acme.example" in by_name and "Alice" not in by_name
    nobody = members_page(client, q="100%_")
    assert "Nobody&#39;s email or name contains" in nobody or "Nobody's email or name contains" in nobody


def test_long_lists_are_paged_fifty_at_a_time(client, db, acme, sign_in_as):
    with tenant_context(acme):
        for n in range(54):
            find_or_create_member(f"person{n:02}@acme.example")
        db.session.commit()
    sign_in_as(acme, Role.ADMIN, client=client)

    first = members_page(client)
    assert "Showing 1 to 50 of 55." in first and "Page 1 of 2" in first
    assert first.count('role="rowheader"') == 50
    assert 'href="/portal/members?page=2" rel="next"' in first
    second = members_page(client, page=2)
    assert "Showing 51 to 55 of 55." in second and second.count('role="rowheader"') == 5
    assert "person00@acme.example" in second  # newest first: the first one made is last


# Roles -------------------------------------------------------------------------------------------------------

def test_an_admin_changes_a_role_and_it_is_in_the_audit_log(client, db, acme, sign_in_as):
    bob = add_member(db, acme, "bob@acme.example")
    sign_in_as(acme, Role.ADMIN, client=client)
    changed = post_from_members_page(client, f"/portal/members/{bob}/role", role="viewer")
    assert changed.status_code == 303 and changed.location == "/portal/members"
    assert member(db, acme, "bob@acme.example").role is Role.VIEWER
    assert "bob@acme.example is now: Viewer." in members_page(client)
    assert "member.role" in audit_actions(db, acme)


def test_the_last_admin_cannot_step_down_or_be_removed(client, db, acme, sign_in_as):
    me = sign_in_as(acme, Role.ADMIN, email="root@acme.example", client=client)
    refused = post_from_members_page(client, f"/portal/members/{me}/role", role="member")
    assert refused.status_code == 400
    assert "root@acme.example is the only admin: make someone else an admin first" in refused.get_data(as_text=True)
    assert member(db, acme, "root@acme.example").role is Role.ADMIN

    page = client.get(f"/portal/members/{me}/remove", base_url=ACME).get_data(as_text=True)
    removal = client.post(f"/portal/members/{me}/remove", base_url=ACME, data={"csrf_token": csrf_token(page)})
    assert removal.status_code == 400 and "is the only admin" in removal.get_data(as_text=True)
    assert member(db, acme, "root@acme.example") is not None
    assert "member.role" not in audit_actions(db, acme) and "member.remove" not in audit_actions(db, acme)


def test_an_admin_may_step_down_when_another_admin_remains(client, db, acme, sign_in_as):
    add_member(db, acme, "other@acme.example", Role.ADMIN)
    me = sign_in_as(acme, Role.ADMIN, email="root@acme.example", client=client)
    stepped_down = post_from_members_page(client, f"/portal/members/{me}/role", role="member")
    assert stepped_down.status_code == 303 and stepped_down.location == "/"
    # A role change ends the member's sessions: this one too.
    assert client.get("/portal/members", base_url=ACME).location.startswith("/portal/sign-in")


def test_a_bad_role_is_refused_and_nothing_changes(client, db, acme, sign_in_as):
    bob = add_member(db, acme, "bob@acme.example")
    sign_in_as(acme, Role.ADMIN, client=client)
    refused = post_from_members_page(client, f"/portal/members/{bob}/role", role="owner")
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    assert client.post(f"/portal/members/{bob}/role", base_url=ACME, data={"role": "admin"}).status_code == 400
    assert member(db, acme, "bob@acme.example").role is Role.MEMBER


# Removal -----------------------------------------------------------------------------------------------------

def test_removing_a_member_withdraws_their_commitment_first(client, db, acme, sign_in_as, make_commitment):
    make_commitment(acme, "sam@acme.example")
    make_commitment(acme, "kim@acme.example")
    sam = member(db, acme, "sam@acme.example").id
    sign_in_as(acme, Role.ADMIN, client=client)
    with tenant_context(acme):
        assert rollup.tenant_counts().total == 2

    confirm = client.get(f"/portal/members/{sam}/remove", base_url=ACME).get_data(as_text=True)
    assert "Their commitment is withdrawn first" in confirm
    removed = client.post(f"/portal/members/{sam}/remove", base_url=ACME, data={"csrf_token": csrf_token(confirm)})
    assert removed.status_code == 303
    assert "sam@acme.example was removed." in members_page(client)
    assert member(db, acme, "sam@acme.example") is None
    with tenant_context(acme):
        assert rollup.tenant_counts().total == 1
    assert "member.remove" in audit_actions(db, acme)


# Invitations -------------------------------------------------------------------------------------------------

def test_an_invitation_arrives_by_mail_and_its_link_works_once(client, app, db, acme, sign_in_as, smtp_server):
    sign_in_as(acme, Role.ADMIN, email="root@acme.example", client=client)
    sent = invite(client, "Grace@Acme.example", "admin")
    assert sent.status_code == 303
    assert "An invitation was sent to Grace@Acme.example" in members_page(client)

    mail = smtp_server.last_to("Grace@Acme.example")
    assert mail["From"].addresses[0].display_name == "Acme Corporation"
    assert "Acme Corporation" in mail["Subject"]
    link = smtp_server.link(mail)
    assert link.startswith(f"{ACME}/invitations/")
    token = link.rsplit("/", 1)[1]
    with tenant_context(acme):
        stored = db.session.scalars(select(Invitation)).one()
        assert stored.token_hash != token and token not in stored.token_hash  # only a hash is kept
    assert "Grace@Acme.example" in members_page(client)  # listed as waiting
    french = client.get("/portal/members?lang=fr", base_url=ACME).get_data(as_text=True)
    assert format_datetime(stored.expires_at, "short", locale="fr") in french, "when it expires, as French writes it"

    invitee = app.test_client()
    opened = invitee.get(local(link)[1], base_url=ACME)
    assert opened.status_code == 200 and "Accept and sign in" in opened.get_data(as_text=True)
    accepted = accept(invitee, link)
    assert accepted.status_code == 303 and accepted.location == "/portal/"
    assert invitee.get("/portal/members", base_url=ACME).status_code == 200
    assert member(db, acme, "Grace@Acme.example").role is Role.ADMIN

    again = accept(app.test_client(), link)
    assert again.status_code == 410 and "used already, or it has expired" in again.get_data(as_text=True)
    assert "member.invite" in audit_actions(db, acme) and "member.invitation_accept" in audit_actions(db, acme)


def test_an_expired_link_is_gone_and_another_tenants_link_is_not_found(client, app, db, acme, make_tenant,
                                                                      sign_in_as, smtp_server):
    make_tenant("globex", "Globex")
    sign_in_as(acme, Role.ADMIN, client=client)
    invite(client, "viewer@acme.example", "viewer")
    link = smtp_server.link(smtp_server.last_to("viewer@acme.example"))
    path = local(link)[1]
    assert re.search(r'<th [^>]*scope="row">viewer@acme\.example', members_page(client, q="viewer"))  # waiting

    elsewhere = app.test_client().get(path, base_url=host("globex"))
    assert elsewhere.status_code == 404 and "This invitation cannot be used" in elsewhere.get_data(as_text=True)

    with tenant_context(acme):
        db.session.scalars(select(Invitation)).one().expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert accept(app.test_client(), link).status_code == 410
    assert member(db, acme, "viewer@acme.example") is None
    assert not re.search(r'<th [^>]*scope="row">viewer@acme\.example', members_page(client))  # no longer waiting


def test_a_withdrawn_invitation_stops_working(client, app, db, acme, sign_in_as, smtp_server):
    sign_in_as(acme, Role.ADMIN, client=client)
    invite(client, "grace@acme.example")
    link = smtp_server.link(smtp_server.last_to("grace@acme.example"))
    with tenant_context(acme):
        invitation_id = db.session.scalars(select(Invitation.id)).one()
    revoked = post_from_members_page(client, f"/portal/members/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 303
    assert "its link no longer works" in members_page(client)
    assert app.test_client().get(local(link)[1], base_url=ACME).status_code == 404
    assert "member.invitation_revoke" in audit_actions(db, acme)


def test_a_bad_invitation_is_explained_and_nothing_is_written_or_sent(client, db, acme, sign_in_as, smtp_server):
    add_member(db, acme, "already@acme.example", Role.ADMIN)
    sign_in_as(acme, Role.ADMIN, client=client)
    for email, role, message in (("not-an-address", "admin", "Please enter a valid email address"),
                                 ("grace@acme.example", "member", "Not a valid choice"),
                                 ("already@acme.example", "admin", "already an admin")):
        refused = invite(client, email, role)
        assert refused.status_code == 400
        assert message in refused.get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalars(select(Invitation)).all() == []
    assert smtp_server.delivered() == []
    assert "member.invite" not in audit_actions(db, acme)


def test_an_admin_invited_again_under_a_look_alike_address_is_recognised(client, db, acme, sign_in_as):
    add_member(db, acme, "grace@acme.example", Role.ADMIN)
    sign_in_as(acme, Role.ADMIN, client=client)
    refused = invite(client, "ｇｒａｃｅ@ＡＣＭＥ.example", "viewer")
    assert refused.status_code == 400 and "already an admin" in refused.get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalars(select(Invitation)).all() == []


def test_without_a_mail_server_the_mail_goes_to_the_log(client, app, db, acme, sign_in_as, caplog):
    assert app.config["MAIL_SERVER"] == ""
    sign_in_as(acme, Role.ADMIN, client=client)
    assert invite(client, "grace@acme.example").status_code == 303
    with app.app_context():
        assert mail.deliver_due() == 1
    assert f"{ACME}/invitations/" in caplog.text and "MAIL_SERVER is empty" in caplog.text


def test_an_invitation_made_while_the_mail_server_is_down_is_sent_once_it_is_back(client, app, db, acme,
                                                                                  sign_in_as, smtp_server):
    up = smtp_server.port
    app.config.update(MAIL_PORT=_free_port())  # nobody listens there: the mail server is down
    sign_in_as(acme, Role.ADMIN, client=client)
    assert invite(client, "grace@acme.example").status_code == 303  # the admin is neither kept waiting nor refused
    assert smtp_server.deliver() == 0
    with app.app_context():
        waiting = _db.session.scalars(select(OutboxMessage)).one()
        assert (waiting.status, waiting.attempts) == (MailStatus.QUEUED, 1) and waiting.last_error
    app.config.update(MAIL_PORT=up)
    assert smtp_server.deliver() == 0  # not due yet: the next try waits MAIL_RETRY_SECONDS
    with app.app_context():
        assert mail.deliver_due(now=utcnow() + timedelta(seconds=app.config["MAIL_RETRY_SECONDS"])) == 1
    assert smtp_server.link(smtp_server.last_to("grace@acme.example")).startswith(f"{ACME}/invitations/")


# Who may do what ---------------------------------------------------------------------------------------------

def test_a_viewer_sees_the_list_but_every_change_is_refused(client, db, acme, sign_in_as, smtp_server):
    bob = add_member(db, acme, "bob@acme.example")
    sign_in_as(acme, Role.VIEWER, client=client)
    page = members_page(client)
    assert "bob@acme.example" in page and "<select" not in page and "Invite" not in page
    with tenant_context(acme):
        invitation = Invitation(email="x@acme.example", role=Role.ADMIN, token_hash="0" * 64,
                                expires_at=utcnow() + timedelta(days=1))
        db.session.add(invitation)
        db.session.commit()
        invitation_id = invitation.id
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    for path, data in ((f"/portal/members/{bob}/role", {"role": "admin"}), (f"/portal/members/{bob}/remove", {}),
                       ("/portal/members/invitations", {"email": "a@acme.example", "role": "admin"}),
                       (f"/portal/members/invitations/{invitation_id}/revoke", {})):
        assert client.post(path, base_url=ACME, data={"csrf_token": token, **data}).status_code == 403, path
    assert client.get(f"/portal/members/{bob}/remove", base_url=ACME).status_code == 403
    assert member(db, acme, "bob@acme.example").role is Role.MEMBER
    assert smtp_server.delivered() == []


def test_an_admin_of_one_tenant_cannot_reach_another_tenants_members(client, db, acme, make_tenant, sign_in_as):
    globex = make_tenant("globex", "Globex")
    theirs = add_member(db, globex, "them@globex.example")
    with tenant_context(globex):
        invitation = Invitation(email="x@globex.example", role=Role.ADMIN, token_hash="1" * 64,
                                expires_at=utcnow() + timedelta(days=1))
        db.session.add(invitation)
        db.session.commit()
        invitation_id = invitation.id
    sign_in_as(acme, Role.ADMIN, client=client)
    assert "them@globex.example" not in members_page(client)
    assert client.get(f"/portal/members/{theirs}/remove", base_url=ACME).status_code == 404
    assert post_from_members_page(client, f"/portal/members/{theirs}/role", role="admin").status_code == 404
    assert post_from_members_page(client, f"/portal/members/{theirs}/remove").status_code == 404
    assert post_from_members_page(client, f"/portal/members/invitations/{invitation_id}/revoke").status_code == 404
    assert member(db, globex, "them@globex.example").role is Role.MEMBER


# Each member's own page ---------------------------------------------------------------------------------------

def test_a_member_gets_a_sign_in_link_by_mail_and_sees_downloads_and_withdraws(client, app, db, acme,
                                                                             make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example", city="Lyon")
    page = client.get("/me", base_url=ACME).get_data(as_text=True)
    assert "Send me a sign-in link" in page

    def ask(email):
        form = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
        response = client.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": form, "email": email})
        assert response.status_code == 303
        # The page's CSRF tokens carry a timestamp: they are not part of what the answer says.
        return CSRF_VALUE.sub("", client.get("/me", base_url=ACME).get_data(as_text=True))

    unknown = ask("nobody@acme.example")
    known = ask("SAM@acme.example")
    assert unknown.replace("nobody@acme.example", "X") == known.replace("SAM@acme.example", "X"), \
        "the answer reveals nothing about the address"
    assert [m["To"] for m in smtp_server.delivered()] == ["sam@acme.example"]

    link = smtp_server.link(smtp_server.last_to("sam@acme.example"))
    base, path = local(link)
    assert base == ACME
    signed_in = accept(client, link)
    assert signed_in.status_code == 303 and signed_in.location == "/me"
    own = client.get("/me", base_url=ACME).get_data(as_text=True)
    assert "sam@acme.example" in own and "Lyon" in own and "Counted" in own

    download = client.get("/me/commitment.json", base_url=ACME)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(download.data)
    assert data["email"] == "sam@acme.example" and data["commitment"]["city"] == "Lyon"
    assert data["commitment"]["withdrawn_at"] is None

    withdrawn = client.post("/me/withdraw", base_url=ACME, data={"csrf_token": csrf_token(own)})
    assert withdrawn.status_code == 303
    assert "Your commitment is withdrawn" in client.get("/me", base_url=ACME).get_data(as_text=True)
    with tenant_context(acme):
        assert rollup.tenant_counts().total == 0
    assert {"member.own_download", "member.own_withdraw"} <= set(audit_actions(db, acme))


def test_asking_for_a_sign_in_link_is_answered_at_once_and_alike_while_the_mail_server_is_slow(
        client, app, acme, make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example")
    smtp_server.delay = 2.0  # the SMTP server holds each message two seconds

    def ask(email):
        visitor = app.test_client()
        token = csrf_token(visitor.get("/me", base_url=ACME).get_data(as_text=True))
        started = time.monotonic()
        answer = visitor.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": token, "email": email})
        took = time.monotonic() - started
        page = CSRF_VALUE.sub("", visitor.get("/me", base_url=ACME).get_data(as_text=True))
        return answer, took, page.replace(email, "X")

    known, known_took, known_page = ask("sam@acme.example")
    unknown, unknown_took, unknown_page = ask("nobody@acme.example")
    assert known_took < 1 and unknown_took < 1, f"answered in {known_took:.2f} s and {unknown_took:.2f} s"
    assert (known.status_code, known.location, known.data) == (unknown.status_code, unknown.location, unknown.data)
    assert ({k: v for k, v in known.headers if k != "Set-Cookie"}
            == {k: v for k, v in unknown.headers if k != "Set-Cookie"})
    # The session cookie carries the flashed address; its attributes are the same.
    assert known.headers["Set-Cookie"].partition(";")[2] == unknown.headers["Set-Cookie"].partition(";")[2]
    assert known_page == unknown_page
    assert smtp_server.messages == []  # nothing was sent while the requests ran

    started = time.monotonic()
    assert smtp_server.deliver() == 1  # the mail worker waits for the slow server instead
    assert time.monotonic() - started >= 2
    assert [m["To"] for m in smtp_server.messages] == ["sam@acme.example"]


def test_asking_for_a_sign_in_link_writes_the_same_for_any_address_and_only_a_member_gets_mail(
        client, app, db, acme, make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example")

    def rows() -> dict[str, int]:
        with tenant_context(acme):
            counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                      for table in db.metadata.sorted_tables}
            db.session.rollback()
            return counts

    def ask(email):
        visitor = app.test_client()  # a server-like client of its own (the ``client`` fixture sets the class)
        token = csrf_token(visitor.get("/me", base_url=ACME).get_data(as_text=True))
        before = rows()
        answer = visitor.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": token, "email": email})
        after = rows()
        written = {table: after[table] - before[table] for table in after if after[table] != before[table]}
        return written, (answer.status_code, answer.location, answer.data)

    known_written, known_answer = ask("SAM@acme.example")
    unknown_written, unknown_answer = ask("nobody@acme.example")
    # The request does the same work for both: one queued mail job, nothing else (no link, no lookup's trace).
    assert known_written == unknown_written == {"mail_outbox": 1}
    assert known_answer == unknown_answer

    # The mail worker finds the member: one mail with a working single-use link; nothing for the stranger.
    assert [m["To"] for m in smtp_server.delivered()] == ["sam@acme.example"]
    link = smtp_server.link(smtp_server.last_to("sam@acme.example"))
    assert local(link)[0] == ACME
    assert accept(app.test_client(), link).status_code == 303
    assert accept(app.test_client(), link).status_code == 410
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["sam@acme.example"]


def test_a_sign_in_link_asked_for_while_the_mail_server_is_down_arrives_later_and_works(client, app, db, acme,
                                                                                      make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example")
    up = smtp_server.port
    app.config.update(MAIL_PORT=_free_port())  # nobody listens there: the mail server is down
    token = csrf_token(client.get("/me", base_url=ACME).get_data(as_text=True))
    client.post("/me/sign-in-link", base_url=ACME, data={"csrf_token": token, "email": "sam@acme.example"})
    assert smtp_server.deliver() == 0
    app.config.update(MAIL_PORT=up)
    with app.app_context():
        assert mail.deliver_due(now=utcnow() + timedelta(seconds=app.config["MAIL_RETRY_SECONDS"])) == 1
    # The second try sent the mail made at the first: its link is the one link there is, and it works.
    with tenant_context(acme):
        assert len(db.session.scalars(select(SignInLink)).all()) == 1
    assert accept(client, smtp_server.link(smtp_server.last_to("sam@acme.example"))).status_code == 303


def test_sign_in_links_are_throttled_per_address_and_host_with_a_translated_page_that_says_when(
        client, app, db, acme, make_tenant):
    make_tenant("globex", "Globex")

    def ask(visitor, base=ACME, email="someone@acme.example", **query):
        token = csrf_token(visitor.get("/me", base_url=base).get_data(as_text=True))
        return visitor.post("/me/sign-in-link", base_url=base, query_string=query,
                            data={"csrf_token": token, "email": email})

    assert app.config["SIGN_IN_LINK_RATE_LIMIT"] == "5 per minute"
    assert [ask(client).status_code for _ in range(5)] == [303] * 5
    throttled = ask(client)
    assert throttled.status_code == 429 and "Too many tries" in throttled.get_data(as_text=True)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 61  # within the minute (rounded up to whole seconds)
    assert '<html lang="fr"' in ask(client, lang="fr").get_data(as_text=True)  # the error page, in French
    assert ask(client, email="other@acme.example").status_code == 429  # per client, not per address asked for
    assert ask(client, base=host("globex")).status_code == 303  # another tenant's host counts apart
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "127.9.0.9"
    assert ask(elsewhere).status_code == 303
    assert client.get("/me", base_url=ACME).status_code == 200  # the page itself still opens
    # Only the answered requests queued a mail job.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 7


def test_a_sign_in_link_expires_and_works_on_its_own_tenants_host_only(client, app, db, acme, make_tenant,
                                                                      make_commitment, smtp_server):
    globex = make_tenant("globex", "Globex")
    make_commitment(globex, "sam@acme.example")
    form = csrf_token(client.get("/me", base_url=host("globex")).get_data(as_text=True))
    client.post("/me/sign-in-link", base_url=host("globex"), data={"csrf_token": form, "email": "sam@acme.example"})
    path = local(smtp_server.link(smtp_server.last_to("sam@acme.example")))[1]

    on_acme = app.test_client().get(path, base_url=ACME)
    assert on_acme.status_code == 404 and "This sign-in link cannot be used" in on_acme.get_data(as_text=True)
    assert app.test_client().get(path[:-3] + "xyz", base_url=host("globex")).status_code == 404
    with tenant_context(globex):
        link = db.session.scalars(select(SignInLink)).one()
        expires_at, link.expires_at = link.expires_at, utcnow() - timedelta(seconds=1)  # an hour has passed
        db.session.commit()
        assert accept(app.test_client(), f"{host('globex')}{path}").status_code == 410
        link.expires_at = expires_at
        db.session.commit()
    assert accept(app.test_client(), f"{host('globex')}{path}").status_code == 303
    assert client.get("/me/commitment.json", base_url=ACME).status_code == 302
    assert client.post("/me/withdraw", base_url=ACME).status_code in (400, 403)


def test_a_member_signed_in_already_goes_straight_to_their_page(client, acme, sign_in_as):
    sign_in_as(acme, Role.MEMBER, client=client)
    page = client.get("/me", base_url=ACME).get_data(as_text=True)
    assert "You have not committed at Acme Corporation yet." in page


# In a browser ------------------------------------------------------------------------------------------------

def url(page, path, slug="acme"):
    return f"http://{slug}.{BASE_DOMAIN}:{page.port}{path}"


def test_an_admin_invites_a_viewer_in_a_browser_and_the_pages_pass_accessibility_checks(
        page, browser, axe, db, acme, sign_in_as, make_commitment, smtp_server):
    make_commitment(acme, "sam@acme.example", name="Sam")
    sign_in_as(acme, Role.ADMIN, email="root@acme.example", page=page)
    page.goto(url(page, "/portal/members"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    assert axe(page) == []

    page.get_by_label("Email address").fill("grace@acme.example")
    page.get_by_label("Viewer: sees the numbers, changes nothing").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("An invitation was sent to grace@acme.example")
    expect(page.get_by_role("table").last).to_contain_text("grace@acme.example")
    assert axe(page) == []

    page.get_by_label("Search by email or name").fill("SAM")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".members-table tbody tr")).to_have_count(1)

    link = smtp_server.link(smtp_server.last_to("grace@acme.example"))
    assert link.startswith(url(page, "/invitations/"))
    invitee = browser.new_context().new_page()
    invitee.goto(link)
    assert axe(invitee) == []
    invitee.get_by_role("button", name="Accept and sign in").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Dashboard")
    invitee.goto(url(page, "/portal/members"))
    expect(invitee.locator(".members-table")).to_contain_text("grace@acme.example")
    expect(invitee.locator(".members-table select")).to_have_count(0)
    invitee.context.close()

    page.goto(url(page, "/portal/members?lang=ar"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert axe(page) == [], "the members page in Arabic"
