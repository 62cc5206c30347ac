"""The public pages of actions: "I'll do this" on the thank-you page, the "Did you do it?" links and their one-click
unsubscribe, and the tenant's stories. A person's actions and story on their own page are the portal's (``/me``)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.extensions import host_and_address, limiter
from tenants.actions import catalogue, services
from tenants.actions.forms import ActionForm, AnswerForm, ButtonForm
from tenants.actions.vocabulary import PILLARS, PLEDGES
from tenants.views import require_tenant

bp = Blueprint("actions", __name__, template_folder="templates")
DONE, NOT_YET = "done", "not_yet"


@bp.app_template_global("pillar_pledges")
def pillar_pledges() -> list[tuple[str, str, str]]:
    """Each pillar's key, name and pledge, for the sign-up form."""
    return [(key, label, PLEDGES[key]) for key, label in PILLARS.items()]


@bp.app_template_global("action_csrf")
def action_csrf() -> str:
    """The CSRF token of the many small forms of a plan (one token for all)."""
    return generate_csrf()


@bp.app_template_global("kit_url")
def kit_url(action: catalogue.Action) -> str | None:
    return catalogue.kit_url(action)


@bp.post("/actions/plan")
def plan():
    """"I'll do this" on the thank-you page: one press, nothing asked; the page again, with the action planned."""
    require_tenant()
    form = ActionForm()
    if not form.validate_on_submit() or not services.plan_from_thank_you(form.action.data):
        abort(400)
    flash(_("Added to your plan: %(action)s", action=catalogue.find(form.action.data).text))
    return redirect(url_for("tenants.thanks", _anchor="plan"), code=303)


@bp.route("/actions/reminder/<reminder_token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRMATION_RATE_LIMIT"], key_func=host_and_address, methods=["POST"])
def reminder(reminder_token: str):
    """The link of a "Did you do it?" mail: a page with two buttons; only pressing one records the answer (mail
    filters open links to scan them)."""
    require_tenant()
    form = AnswerForm()
    try:
        if form.validate_on_submit() and form.answer.data in (DONE, NOT_YET):
            services.answer(reminder_token, done=form.answer.data == DONE)
            flash(_("Well done, and thank you! It is counted.") if form.answer.data == DONE else
                  _("Thank you for telling us. There is still time."))
            return redirect(url_for("me.show" if current_user.is_authenticated else "actions.answered",
                                    answer=form.answer.data), code=303)
        found = services.usable_reminder(reminder_token)
    except services.LinkUnusable as unusable:
        return render_template("actions/link_unusable.html", reason=unusable.reason.value), unusable.status
    planned = [catalogue.find(p.action) for p in services.actions_of(found.commitment_id) if p.done_at is None]
    return render_template("actions/reminder.html", form=form, planned=[a for a in planned if a]), (
        400 if form.is_submitted() else 200)


@bp.get("/actions/answered")
def answered():
    """What follows an answer: thanks, and where to tell the story."""
    require_tenant()
    return render_template("actions/answered.html", done=request.args.get("answer") == DONE)


@bp.route("/actions/unsubscribe/<unsubscribe_token>", methods=["GET", "POST"])
def unsubscribe(unsubscribe_token: str):
    """The reminder's unsubscribe link: its page has a button; a mail program's one-click POST (RFC 8058, the body
    ``List-Unsubscribe=One-Click``) stops the reminders at once, without a page."""
    require_tenant()
    if request.method == "GET":
        if not services.unsubscribe_is_known(unsubscribe_token):
            abort(404)
        return render_template("actions/unsubscribe.html", done=False)
    if not services.unsubscribe_is_known(unsubscribe_token):
        abort(404)
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400)
    services.unsubscribe(unsubscribe_token)
    return render_template("actions/unsubscribe.html", done=True)


@bp.get("/stories")
def stories():
    """The tenant's published stories, newest first, each with a button to report it."""
    require_tenant()
    return render_template("actions/stories.html", stories=services.published(), form=ButtonForm())


@bp.post("/stories/<uuid:story_id>/report")
@limiter.limit("20 per hour", key_func=host_and_address)
def report(story_id: uuid.UUID):
    """Anyone may send a published story back to the moderation queue."""
    require_tenant()
    story = services.find_story(story_id)
    if story is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if services.report(story):
        flash(_("Thank you: the story is hidden until it has been read again."))
    return redirect(url_for("actions.stories"), code=303)
