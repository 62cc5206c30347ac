"""Portal pages: members, roles and invitations (``portal_members``); each member's own page and the
invitation link (``me``, on the tenant's host outside the portal)."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core import auth
from core.extensions import host_and_address, limiter
from core.params import page_number, search_text
from tenant_portal.access import admin_required, is_admin, viewer_required
from tenant_portal.actions import views as actions
from tenant_portal.members import services
from tenant_portal.confirmation import confirm_page, require_confirmation
from tenant_portal.forms import ConfirmForm
from tenant_portal.members.forms import ROLE_NAMES, InviteForm, RoleForm, SignInLinkForm, role_choices
from tenants.models import Role
from tenants.services.signups import has_committed
from tenants.views import require_tenant
from tenants.sso import services as sso

bp = Blueprint("portal_members", __name__, url_prefix="/portal/members")
me = Blueprint("me", __name__)


def _index(invite_form: InviteForm | None = None, problem: str | None = None, status: int = 200):
    search = search_text()
    listing = services.member_page(search, page_number())
    return render_template(
        "tenant_portal/members/index.html", listing=listing, search=search, problem=problem,
        invite_form=invite_form or InviteForm(formdata=None),
        invitations=services.pending_invitations(), roles=role_choices(), can_change=is_admin(),
        csrf_value=generate_csrf(),  # one token for the many small forms of the list
    ), status


@bp.get("")
@viewer_required
def index():
    """The members, searchable and paged, with their roles; admins also invite and change roles here."""
    return _index()


@bp.post("/<uuid:member_id>/role")
@admin_required
def change_role(member_id: uuid.UUID):
    """Give a member another role (never leaving the organisation without an admin)."""
    member = services.find_member(member_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        return _index(problem=" ".join(str(e) for errors in form.errors.values() for e in errors), status=400)
    try:
        changed = services.change_role(member, Role(form.role.data), current_user)
    except services.MemberChangeRefused as refusal:
        return _index(problem=str(refusal), status=400)
    if changed:
        flash(_("%(email)s is now: %(role)s.", email=member.email, role=ROLE_NAMES[member.role]))
    if member.id == current_user.id and member.role is not Role.ADMIN:
        return redirect(url_for("core.home"), code=303)
    return redirect(request.form.get("back") if _is_members_path(request.form.get("back"))
                    else url_for("portal_members.index"), code=303)


def _is_members_path(path: str | None) -> bool:
    return bool(path) and path.startswith(url_for("portal_members.index")) and "//" not in path


@bp.route("/<uuid:member_id>/remove", methods=["GET", "POST"])
@admin_required
def remove(member_id: uuid.UUID):
    """Remove a member after a confirmation: their commitment is withdrawn and their data deleted."""
    member = services.find_member(member_id) or abort(404)
    return confirm_page("tenant_portal/members/remove.html", lambda: services.remove_member(member),
                        _("%(email)s was removed.", email=member.email), url_for("portal_members.index"),
                        refused=services.MemberChangeRefused, member=member, committed=has_committed(member))


@bp.post("/invitations")
@admin_required
def invite():
    """Send an invitation by email; the invitee becomes an admin or viewer by accepting it."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(g.tenant, form.email.data, Role(form.role.data), current_user)
        except services.MemberChangeRefused as refusal:
            form.email.errors.append(str(refusal))
        else:
            flash(_("An invitation was sent to %(email)s. Its link works once, for 7 days.", email=form.email.data))
            return redirect(url_for("portal_members.index"), code=303)
    return _index(invite_form=form, status=400)


@bp.post("/invitations/<uuid:invitation_id>/revoke")
@admin_required
def revoke(invitation_id: uuid.UUID):
    """Withdraw an invitation not used yet."""
    invitation = services.find_invitation(invitation_id) or abort(404)
    require_confirmation()
    services.revoke(invitation)
    flash(_("The invitation to %(email)s was withdrawn; its link no longer works.", email=invitation.email))
    return redirect(url_for("portal_members.index"), code=303)


@me.route("/invitations/<invitation_token>", methods=["GET", "POST"])
def invitation(invitation_token: str):
    """An invitation link: shows who invites whom, and a button that accepts it.

    Accepting takes a click rather than the opening itself: mail filters open links to scan them,
    and would otherwise use up a single-use invitation before the invitee sees it.
    """
    require_tenant()
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            member = services.accept_invitation(invitation_token)
            auth.sign_in(member, auth.Via.INVITATION)
            flash(_("Welcome. You can now use the portal of %(name)s.", name=g.tenant.name))
            return redirect(url_for("tenant_portal.home"), code=303)
        found = services.usable_invitation(invitation_token)
    except services.LinkUnusable as unusable:
        return render_template("tenant_portal/members/invitation_unusable.html", gone=unusable.gone), (
            410 if unusable.gone else 404)
    return render_template("tenant_portal/members/invitation.html", invitation=found, form=form,
                           role=ROLE_NAMES[found.role]), 400 if form.is_submitted() else 200


@me.get("/me")
def show():
    """A member's own page: their commitment, to see, download or withdraw; or how to sign in to see it."""
    require_tenant()
    if not current_user.is_authenticated:
        return render_template("tenant_portal/members/me_sign_in.html", form=SignInLinkForm(formdata=None),
                               sso_on=sso.connection(enabled_only=True) is not None)
    return me_page()


def me_page(**shown):
    """A signed-in member's own page, with what a refused form of it (``shown``) holds."""
    commitment = services.own_commitment(current_user)
    return render_template("tenant_portal/members/me.html", commitment=commitment, form=ConfirmForm(),
                           **actions.mine(commitment, **shown))


@me.post("/me/sign-in-link")
@limiter.limit(lambda: current_app.config["SIGN_IN_LINK_RATE_LIMIT"], key_func=host_and_address)
def request_link():
    """Mail a sign-in link to a member's address; the answer is the same for any address."""
    require_tenant()
    form = SignInLinkForm()
    if not form.validate_on_submit():
        return render_template("tenant_portal/members/me_sign_in.html", form=form,
                               sso_on=sso.connection(enabled_only=True) is not None), 400
    services.ask_for_sign_in_link(g.tenant, form.email.data, str(get_locale()))
    flash(_("If %(email)s belongs to someone who committed here, a sign-in link is on its way. "
            "It works for one hour.", email=form.email.data))
    return redirect(url_for("me.show"), code=303)


@me.route("/me/sign-in/<link_token>", methods=["GET", "POST"])
def sign_in(link_token: str):
    """A sign-in link from the mail: a button signs its member in on this host, for their own page only.

    Signing in takes a click rather than the opening itself: mail filters open links to scan them, and
    would otherwise use up the single-use link before its owner sees it.
    """
    require_tenant()
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            auth.sign_in(services.use_sign_in_link(link_token), auth.Via.EMAIL_LINK)
            return redirect(url_for("me.show"), code=303)
        services.usable_sign_in_link(link_token)
    except services.LinkUnusable as unusable:
        return render_template("tenant_portal/members/sign_in_link_unusable.html"), 410 if unusable.gone else 404
    return render_template("tenant_portal/members/sign_in_link.html", form=form), 400 if form.is_submitted() else 200


@me.get("/me/commitment.json")
def download():
    """The member's own data, as a JSON file to keep."""
    require_tenant()
    if not current_user.is_authenticated:
        return redirect(url_for("me.show"))
    data = services.commitment_export(current_user)
    response = current_app.response_class(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                                          mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="heforshe-{g.tenant.slug}-commitment.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@me.post("/me/withdraw")
def withdraw():
    """The member withdraws their commitment; the counts drop at once."""
    require_tenant()
    if not current_user.is_authenticated:
        abort(403)
    require_confirmation()
    if services.withdraw_own(current_user):
        flash(_("Your commitment is withdrawn. You can commit again at any time."))
    return redirect(url_for("me.show"), code=303)
