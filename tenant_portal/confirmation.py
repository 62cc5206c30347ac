"""Actions a button confirms: a POST that carries only its CSRF token, or a page that asks before it removes."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template

from tenant_portal.forms import ConfirmForm


def require_confirmation() -> None:
    """Refuse (400) a confirming POST whose CSRF token is missing or stale."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def confirm_page(template: str, action: Callable[[], object], done: str, back_to: str,
                 refused: type[Exception] | tuple[type[Exception], ...] = (), **context):
    """Ask before an action that cannot be undone: on a confirmed POST run ``action``, say ``done`` and go back
    to ``back_to``; otherwise (or when the action is ``refused``, with its reason as ``problem``) show the page."""
    form = ConfirmForm()
    problem = None
    if form.validate_on_submit():
        try:
            action()
        except refused as refusal:
            problem = str(refusal)
        else:
            flash(done)
            return redirect(back_to, code=303)
    return render_template(template, form=form, problem=problem, **context), 400 if form.is_submitted() else 200
