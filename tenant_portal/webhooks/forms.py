"""Forms of the webhooks area; each carries a CSRF token and is checked on the server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import Form
from tenants.webhooks.models import EVENTS

#: Every event, described for people.
EVENT_NAMES = {
    "commitment.created": _l("A commitment is made (commitment.created)"),
    "commitment.withdrawn": _l("A commitment is withdrawn (commitment.withdrawn)"),
    "target.reached": _l("A target is reached (target.reached)"),
}


class EndpointForm(Form):
    """A new endpoint: its address, the events it is sent, and whether it may receive who committed."""

    url = StringField(_l("Address (URL)"), validators=[
        DataRequired(message=_l("Enter a full address starting with https://.")),
        Length(max=2000, message=_l("This address is too long."))])
    events = SelectMultipleField(_l("Events to send"), choices=[SelectChoice(e, EVENT_NAMES[e]) for e in EVENTS],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                 validators=[DataRequired(message=_l("Choose at least one event."))])
    personal_data = BooleanField(_l("Include personal data (the email address, name and city of who committed)"))
