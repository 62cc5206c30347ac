"""The LTI page's forms (a platform's registration, a course's unit) and the tool's one-click button."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from core.forms import Form
from core.rollup.models import Gender
from tenants.forms import GENDER_LABELS


class PlatformForm(Form):
    """A learning platform, as its LTI 1.3 tool registration shows it."""

    issuer = StringField(_l("Issuer"), validators=[DataRequired(), Length(max=500)])
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=200)])
    deployment_ids = TextAreaField(_l("Deployment ids, one per line"), validators=[DataRequired(), Length(max=5_000)])
    key_set_url = StringField(_l("Platform key set URL (JWKS)"), validators=[DataRequired(), Length(max=1000)])
    auth_login_url = StringField(_l("Authentication request URL"), validators=[DataRequired(), Length(max=1000)])
    auth_token_url = StringField(_l("Access token URL"), validators=[DataRequired(), Length(max=1000)])


class CourseForm(Form):
    """The unit a course's students commit in."""

    platform = HiddenField(validators=[DataRequired(), Length(max=40)])
    context = HiddenField(validators=[DataRequired(), Length(max=255)])
    unit = SelectField(_l("Unit"), choices=[], validate_choice=False)


class CommitForm(Form):
    """The one-click commitment. The signed launch it carries stands in for a CSRF token: the page works in the
    platform's frame, where no cookie of ours is sent."""

    class Meta:
        csrf = False

    launch = HiddenField(validators=[DataRequired(), Length(max=8_000)])
    # The platform says nothing of gender, and men are the headline number: asked, never required.
    gender = RadioField(_l("I describe myself as (optional)"), validators=[Optional()],
                        choices=[SelectChoice(each.value, label) for each, label in GENDER_LABELS.items()
                                 if each is not Gender.SELF_DESCRIBED])
