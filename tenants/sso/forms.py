"""Forms of the sign-in pages."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from core.forms import Form


class SignOutForm(Form):
    """Signing out is a POST with a CSRF token, so no other site can sign anyone out."""


class DiscoveryForm(Form):
    """A work or university address, to find the organisation's own sign-in."""

    email = EmailField(_l("Your work or university email"), filters=[lambda v: v.strip() if v else v], validators=[
        DataRequired(message=_l("Please enter your email address.")), Length(max=254),
        Email(message=_l("Please enter a valid email address, like name@example.org."), check_deliverability=False)])
