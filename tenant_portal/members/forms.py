"""Forms of the members area and of each member's own page; each carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length

from core.forms import Form
from tenants.models import Role


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field(label):
    return EmailField(label, filters=[_strip], validators=[
        DataRequired(message=_l("Please enter an email address.")), Length(max=254),
        Email(message=_l("Please enter a valid email address, like name@example.org."), check_deliverability=False)])


#: Every role, named for people.
ROLE_NAMES = {Role.ADMIN: _l("Admin"), Role.VIEWER: _l("Viewer"), Role.MEMBER: _l("Member")}


def role_choices() -> list[tuple[str, str]]:
    """(value, name) of every role, for the members table."""
    return [(role.value, name) for role, name in ROLE_NAMES.items()]


class RoleForm(Form):
    """Give one member another role."""

    role = SelectField(_l("Role"), choices=[SelectChoice(role.value, name) for role, name in ROLE_NAMES.items()],
                       validators=[InputRequired(message=_l("Please choose a role."))],
                       validate_choice=True)


class InviteForm(Form):
    """Invite someone by email to become an admin or a viewer."""

    email = _email_field(_l("Email address"))
    role = RadioField(_l("Role"), choices=[
        SelectChoice(Role.ADMIN.value, _l("Admin: sees everything and changes settings")),
        SelectChoice(Role.VIEWER.value, _l("Viewer: sees the numbers, changes nothing")),
    ], default=Role.VIEWER.value, validators=[InputRequired(message=_l("Please choose a role."))])




class SignInLinkForm(Form):
    """Ask for a link to one's own page by email."""

    email = _email_field(_l("Your email address"))
