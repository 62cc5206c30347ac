"""The form that makes an API key; it carries a CSRF token and is checked on the server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from core.forms import Form
from tenant_portal.api.models import SCOPES
from tenants.forms import plain_text

#: What each scope lets a key do, for people.
SCOPE_NAMES = {
    "stats:read": _l("Read the counts"),
    "commitments:read": _l("Read commitments"),
    "commitments:write": _l("Record and withdraw commitments"),
    "registrations:write": _l("Record course registrations"),
    "units:write": _l("Read and change units"),
    "webhooks:manage": _l("Manage webhooks"),
}


class KeyForm(Form):
    name = StringField(_l("Name"), filters=[lambda value: value.strip() if isinstance(value, str) else value],
                       validators=[DataRequired(message=_l("Please name the key, like “HR portal”.")),
                                   Length(max=100), plain_text])
    scopes = SelectMultipleField(_l("What the key may do"), choices=[SelectChoice(scope, SCOPE_NAMES[scope]) for scope in SCOPES],
                                 option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
                                 validators=[DataRequired(message=_l("Please choose at least one thing the key may "
                                                                     "do."))])
