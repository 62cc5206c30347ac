"""The base of every form: Flask-WTF's CSRF protection, with WTForms' own messages translated from memory."""

from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, FormField
from wtforms.i18n import messages_path


@lru_cache(maxsize=16)
def _wtforms_translations(locale: str) -> support.Translations:
    # Flask-WTF reads this catalog from disk on every request that shows or checks a form.
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


CONTROL_CHARACTER = _l("Please use letters, digits and ordinary punctuation only.")
CENTS = _l("Use two decimals at most.")


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages ("This field is required.") come in the page's language,
    and which refuses a NUL byte in any field (no person types one, and PostgreSQL cannot store it)."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _fields(self):
            if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
                field.errors = [*field.errors, CONTROL_CHARACTER]
                valid = False
        return valid

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None
            return _wtforms_translations(str(get_locale()))


class MoneyField(DecimalField):
    """An amount of money, in whole cents: what Python's Decimal reads besides ("NaN", "sNaN", "Infinity", which
    the range checks cannot compare) is not a number here, and a fraction of a cent is refused, never cut."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, places=2, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is None:
            return
        if not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        if self.data.normalize().as_tuple().exponent < -2:
            raise ValueError(str(CENTS))


def _fields(form):
    """Every field of a form, those of its sub-forms included."""
    for field in form:
        if isinstance(field, FormField):
            yield from _fields(field.form)
        else:
            yield field
