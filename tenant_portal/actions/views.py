"""Portal pages of actions and stories (``portal_actions``: admins only), and a person's own actions and story on
their page (``me_actions``, beside ``/me``)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import host_and_address, limiter
from tenant_portal.access import admin_required
from tenant_portal.actions.forms import SettingsForm
from tenant_portal.services import record
from tenants.actions import catalogue
from tenants.actions import services as actions
from tenants.actions.forms import ActionForm, ButtonForm, StoryForm
from tenants.actions.vocabulary import audience_of
from tenants.models import Commitment
from tenants.views import require_tenant

bp = Blueprint("portal_actions", __name__, url_prefix="/portal/actions")
me = Blueprint("me_actions", __name__)


def _index(form: SettingsForm | None = None, status: int = 200):
    tenant = g.tenant
    return render_template("tenant_portal/actions/index.html", queue=actions.queue(), button=ButtonForm(),
                           form=form or SettingsForm(formdata=None, data={
                               "ask_pillar": tenant.ask_pillar, "reminder_days": tenant.reminder_days})), status


@bp.get("")
@admin_required
def index():
    """The stories waiting to be read (reported ones first), and the actions' settings."""
    return _index()


@bp.post("/settings")
@admin_required
def settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    tenant = g.tenant
    before = {"ask_pillar": tenant.ask_pillar, "reminder_days": tenant.reminder_days}
    after = {"ask_pillar": form.ask_pillar.data, "reminder_days": form.reminder_days.data}
    if after != before:
        actions.configure(tenant, **after)
        record("actions.settings", tenant.slug, **after, before=before)
    flash(_("Saved."))
    return redirect(url_for("portal_actions.index"), code=303)


@bp.post("/stories/<uuid:story_id>/publish")
@admin_required
def publish(story_id: uuid.UUID):
    """Publish a waiting story on the tenant's stories page."""
    return _decide(story_id, True)


@bp.post("/stories/<uuid:story_id>/reject")
@admin_required
def reject(story_id: uuid.UUID):
    """Keep a waiting story off the tenant's stories page."""
    return _decide(story_id, False)


def _decide(story_id: uuid.UUID, publish: bool):
    story = actions.find_story(story_id) or abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    actions.decide(story, publish, current_user.email)
    if publish:
        record("story.publish", story.text[:60], story_id=str(story.id))
        flash(_("The story is published."))
    else:
        record("story.reject", story.text[:60], story_id=str(story.id))
        flash(_("The story is rejected."))
    return redirect(url_for("portal_actions.index"), code=303)


def mine(commitment: Commitment | None, story_form: StoryForm | None = None) -> dict:
    """What ``/me`` shows of a person's actions: planned and done, the others offered, their stories."""
    if commitment is None:
        return {"actions": None}
    planned = [(catalogue.find(p.action), p) for p in actions.actions_of(commitment.id)]
    planned = [(action, row) for action, row in planned if action is not None]
    keys = {action.key for action, _row in planned}
    return {"actions": {
        "planned": [(a, row) for a, row in planned if row.done_at is None],
        "done": [(a, row) for a, row in planned if row.done_at is not None],
        "offered": [a for a in catalogue.offered(audience_of(g.tenant), commitment.pillar) if a.key not in keys],
        "stories": actions.stories_of(commitment.id),
        "reminder": actions.reminder_of(commitment.id),
    }, "story_form": story_form or StoryForm(formdata=None)}


def _signed_in() -> None:
    require_tenant()
    if not current_user.is_authenticated:
        abort(403)


def _own_commitment() -> Commitment:
    """The signed-in person's standing commitment (asked once their form is found good)."""
    commitment = actions.commitment_of_member(current_user.id)
    if commitment is None or commitment.withdrawn_at is not None:
        abort(404)
    return commitment


@me.post("/me/actions")
def act():
    """On one's own page: plan an action, or say it is done."""
    _signed_in()
    form = ActionForm()
    if not form.validate_on_submit() or request.form.get("do") not in ("plan", "done"):
        abort(400)
    commitment = _own_commitment()
    actions.plan_action(commitment.id, form.action.data)
    if request.form["do"] == "done":
        actions.mark_done(commitment.id, {form.action.data})
        flash(_("Well done, and thank you! It is counted."))
    else:
        flash(_("Added to your plan: %(action)s", action=catalogue.find(form.action.data).text))
    return redirect(url_for("me.show", _anchor="actions"), code=303)


@me.post("/me/story")
@limiter.limit("10 per hour", key_func=host_and_address)
def story():
    """On one's own page: a story of what one did, into the moderation queue."""
    _signed_in()
    form = StoryForm()
    if form.validate_on_submit():
        commitment = _own_commitment()
        try:
            actions.submit_story(commitment.id, form.text.data, str(get_locale()))
        except actions.StoryRefused:
            form.text.errors = [_("Your earlier stories are still waiting to be read: please send this one once "
                                  "they are.")]
        else:
            flash(_("Thank you for your story. It will be shown once it has been read."))
            return redirect(url_for("me.show", _anchor="story"), code=303)
    from tenant_portal.members.views import me_page  # the page this form is part of (it imports this module)

    return me_page(story_form=form), 400
