"""The forms of actions and stories: each a button or a short text, with its CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from core.forms import Form
from tenants.actions import catalogue
from tenants.forms import has_control_characters


class ActionForm(Form):
    """One action of the catalogue, by its key: "I'll do this", or "I did it"."""

    action = HiddenField(validators=[DataRequired()])

    def validate_action(self, field) -> None:
        if catalogue.find(field.data) is None:
            raise ValidationError(_l("Please choose one of the actions shown."))


class AnswerForm(Form):
    """The buttons of a "Did you do it?" link: "Yes, done" or "Not yet" (the button's own value)."""

    answer = HiddenField()


def plain_story(form, field) -> None:
    """A story is plain text: no markup and no control characters (line breaks are fine)."""
    value = field.data or ""
    if "<" in value or ">" in value:
        raise ValidationError(_l("Please leave out the characters < and >."))
    if has_control_characters(value.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise ValidationError(_l("Please use letters, digits and ordinary punctuation only."))


class StoryForm(Form):
    text = TextAreaField(_l("What did you do? (up to 1,000 characters)"),
                         filters=[lambda value: value.strip() if isinstance(value, str) else value],
                         validators=[DataRequired(message=_l("Please write your story.")),
                                     Length(max=1000, message=_l("Please keep your story to 1,000 characters.")),
                                     plain_story])


class ButtonForm(Form):
    """A button that only needs its CSRF token (report, approve, reject)."""
