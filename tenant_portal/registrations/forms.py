"""The registrations page's forms: a CSV file to check, then the checked file to import."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired

from core.forms import Form


class CheckFileForm(Form):
    """A CSV file of students' answers, checked before anything is written."""

    file = FileField(_l("CSV file of students' answers"),
                     validators=[FileRequired(message=_l("Please choose a CSV file."))])


class ImportFileForm(Form):
    """Import the file that was just checked (its text comes back with the form, and is checked again)."""

    content = HiddenField(validators=[DataRequired()])
