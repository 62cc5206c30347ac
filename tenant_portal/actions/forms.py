"""Forms of the actions area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from core.forms import Form


class SettingsForm(Form):
    """Whether the sign-up form asks the pillar, and when the "Did you do it?" mail goes."""

    ask_pillar = BooleanField(_l("Ask people which pillar they commit to most, and suggest actions for it"))
    reminder_days = IntegerField(_l("Days after a commitment that the “Did you do it?” mail goes"), validators=[
        InputRequired(message=_l("Please enter a whole number of days from 1 to 365.")),
        NumberRange(min=1, max=365, message=_l("Please enter a whole number of days from 1 to 365."))])
