"""The registrations page's forms (a CSV file to check, then to import; the widget's settings) and the widget's
button."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from core.forms import Form


class CheckFileForm(Form):
    """A CSV file of students' answers, checked before anything is written."""

    file = FileField(_l("CSV file of students' answers"),
                     validators=[FileRequired(message=_l("Please choose a CSV file."))])


class ImportFileForm(Form):
    """Import the file that was just checked (its text comes back with the form, and is checked again)."""

    content = HiddenField(validators=[DataRequired()])


class WidgetForm(Form):
    """The embeddable opt-in's public key and the origins allowed to embed it."""

    public_key = TextAreaField(_l("Public key of your registration system (PEM)"), validators=[
        DataRequired(message=_l("Please paste the public key.")), Length(max=10_000)])
    origins = TextAreaField(_l("Pages allowed to embed the opt-in: their origins, one per line"), validators=[
        DataRequired(message=_l("Name at least one origin allowed to embed the opt-in.")), Length(max=5_000)])


class LaunchForm(Form):
    """The opt-in's one button. Its signed, single-use launch token stands in for a CSRF token: the page works in
    another site's frame, where no cookie of ours is sent."""

    class Meta:
        csrf = False

    token = HiddenField(validators=[DataRequired(), Length(max=8_000)])
