"""Forms of the branding area; each carries a CSRF token and is checked on the server."""

from __future__ import annotations

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FormField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import Form
from core.i18n import LANGUAGES, language_name

_LANGUAGE_CHOICES = [SelectChoice(code, language_name(code)) for code in LANGUAGES]
COLOR_MESSAGE = _l("Please give a colour as # followed by six hexadecimal digits, like #5b2a86.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _color_field(label):
    return StringField(label, filters=[_strip, _lower], validators=[
        DataRequired(message=COLOR_MESSAGE), Regexp(r"^#[0-9a-f]{6}$", message=COLOR_MESSAGE)])


def _at_least_one(form, field):
    # Not DataRequired: that would mark every checkbox "required", though any one of them is enough.
    if not field.data:
        raise ValidationError(_l("Please keep at least one language."))


class LanguageTextsForm(wtforms.Form):
    """A tenant's own wording in one language (inside the branding form, which carries the CSRF token)."""

    headline = StringField(_l("Headline"), filters=[_strip], validators=[Optional(), Length(max=200)])
    commitment_text = TextAreaField(_l("Commitment text"), filters=[_strip], validators=[Optional(), Length(max=2000)])
    thank_you_text = TextAreaField(_l("Thank-you text"), filters=[_strip], validators=[Optional(), Length(max=2000)])


class BrandingForm(Form):
    """Colours, languages, listing; ``branding_form`` adds the texts of each enabled language."""

    primary_color = _color_field(_l("Primary colour (header background)"))
    accent_color = _color_field(_l("Accent colour (links)"))
    enabled_languages = SelectMultipleField(
        _l("Languages of your pages"), choices=_LANGUAGE_CHOICES,
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
        validators=[_at_least_one])
    default_language = SelectField(_l("Default language"), choices=_LANGUAGE_CHOICES,
                                   validators=[DataRequired(message=_l("Please choose the default language."))])
    listed = BooleanField(_l("List my organisation on the global HeForShe page"))
    ask_age = BooleanField(_l("Ask whether people are of the age of digital consent of their country"))

    @property
    def text_fields(self) -> list[tuple[str, FormField]]:
        """(language, its texts subform) for each language the form has texts for."""
        return [(code, self[f"texts_{code}"]) for code in LANGUAGES if f"texts_{code}" in self]


def branding_form(languages: list[str], **kwargs) -> BrandingForm:
    """The branding form with a texts section for each of ``languages``."""

    class LanguagesBrandingForm(BrandingForm):
        pass

    for code in languages:
        setattr(LanguagesBrandingForm, f"texts_{code}", FormField(LanguageTextsForm, label=language_name(code)))
    return LanguagesBrandingForm(**kwargs)


IMAGE_LABEL = _l("Image file (PNG, JPEG or WebP, at most 2 MB)")
NO_FILE = _l("Please choose an image file.")


class LogoForm(Form):
    """Upload a logo."""

    logo = FileField(IMAGE_LABEL, validators=[FileRequired(message=NO_FILE)])


class FaviconForm(Form):
    """Upload a favicon."""

    favicon = FileField(IMAGE_LABEL, validators=[FileRequired(message=NO_FILE)])


class HeroForm(Form):
    """Upload the sign-up page's hero image."""

    hero = FileField(IMAGE_LABEL, validators=[FileRequired(message=NO_FILE)])


class DomainForm(Form):
    """Add a custom domain."""

    hostname = StringField(_l("Domain name"), filters=[_strip, _lower], validators=[
        DataRequired(message=_l("Please enter a domain name, like join.example.org.")), Length(max=253)])
