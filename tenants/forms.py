"""The sign-up form: only what is needed, every field checked on the server."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache

from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from core import attack_mode, places
from core.consent_age import CONSENT_AGES, DEFAULT_AGE, consent_age
from core.forms import Form
from core.i18n import country_choices, is_country_code
from core.rollup.models import Gender
from tenants.actions.vocabulary import PILLARS
from tenants.services import public
from tenants.models import Unit, UnitKind

# Text that a spreadsheet would run as a formula, or that tries to be markup.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_MARKUP = re.compile(r"[<>]")
# Control characters (C0, DEL and C1), and halves of a surrogate pair, which a JSON body can spell (\ud800) but no
# text can hold: a database refuses to store them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# WTForms' own message for a choice not offered, translated by its catalog (as its select fields do).
WTFORMS_INVALID_CHOICE = "Not a valid choice."

GENDER_LABELS = {
    Gender.MAN: _l("Man"),
    Gender.WOMAN: _l("Woman"),
    Gender.NON_BINARY: _l("Non-binary"),
    Gender.SELF_DESCRIBED: _l("I describe myself as…"),
    Gender.UNDISCLOSED: _l("I prefer not to say"),
}

UNIT_GROUPS = {
    UnitKind.OFFICE: _l("Offices"),
    UnitKind.SITE: _l("Sites"),
    UnitKind.CAMPUS: _l("Campuses"),
    UnitKind.FACULTY: _l("Faculties"),
    UnitKind.DEPARTMENT: _l("Departments"),
    UnitKind.OTHER: _l("Other"),
}


@lru_cache(maxsize=16)
def _country_options(locale: str) -> tuple[SelectChoice, ...]:
    # Built once per language: some 250 options on every sign-up cost about a millisecond each time.
    return tuple(SelectChoice(code, name) for code, name in country_choices())


def plain_text(form, field) -> None:
    """Refuse markup, spreadsheet formulas and control characters in free text."""
    value = field.data or ""
    if _MARKUP.search(value):
        raise ValidationError(_l("Please leave out the characters < and >."))
    if _FORMULA_START.match(value):
        raise ValidationError(_l("Please do not start with =, +, - or @."))
    if has_control_characters(value):
        raise ValidationError(_l("Please use letters, digits and ordinary punctuation only."))


def has_control_characters(value: str) -> bool:
    """Whether text holds control characters or half a surrogate pair (never in a person's words)."""
    return _CONTROL.search(value) is not None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CommitmentForm(Form):
    """What everyone confirms when committing: gender, where they are, and consent."""

    gender = RadioField(_l("Gender"), choices=[SelectChoice(g.value, label) for g, label in GENDER_LABELS.items()],
                        validators=[InputRequired(message=_l("Please choose one of the options."))])
    gender_description = StringField(_l("In your own words (optional)"), filters=[_strip],
                                     validators=[Optional(), Length(max=60), plain_text])
    # validate_country checks the code: WTForms' own check would walk some 250 options on every sign-up.
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Please choose your country."))],
                          validate_choice=False)
    city = StringField(_l("City (optional)"), filters=[_strip], validators=[Optional(), Length(max=100), plain_text])
    place = HiddenField(validators=[Optional()])
    consent = BooleanField(_l("I agree that my commitment is stored and counted as the privacy notice describes."),
                           validators=[DataRequired(message=_l("Please agree to the privacy notice to commit."))])
    # Where the tenant asks it (``ask_pillar``): what the person commits to most, a breakdown like any other.
    pillar = SelectField(_l("What do you commit to most? (optional)"), validators=[Optional()],
                         choices=[SelectChoice("", _l("No preference")),
                                  *(SelectChoice(key, label) for key, label in PILLARS.items())])
    # A consent of its own, to the reminders notice: one mail, to ask whether the person did what they planned.
    reminders = BooleanField(_l("Write to me once, later, to ask whether I did the actions I choose"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Choose your country")), *_country_options(str(get_locale()))]

    def validate_country(self, field) -> None:
        if not is_country_code(field.data or ""):
            raise ValidationError(_l("Please choose your country from the list."))

    def validate_place(self, field) -> None:
        if not field.data:
            return
        place = places.get(int(field.data)) if field.data.isdigit() else None
        if place is None or place.country != self.country.data:
            raise ValidationError(_l("Please choose a city of the country you chose."))

    @property
    def place_id(self) -> int | None:
        return int(self.place.data) if self.place.data else None


class SignupForm(CommitmentForm):
    """A person's commitment through the public form. Units are the current tenant's only: any other id is
    not a valid choice."""

    name = StringField(_l("Your name (optional)"), filters=[_strip],
                       validators=[Optional(), Length(max=100), plain_text])
    name_public = BooleanField(_l("You may show my name publicly"))
    email = EmailField(_l("Email"), filters=[_strip], validators=[
        DataRequired(message=_l("Please enter your email address.")),
        Length(max=254),
        Email(message=_l("Please enter a valid email address, like name@example.org."), check_deliverability=False),
    ])
    # Two choices, where the organisation has units of both sorts: where the person works or studies, and their
    # department or faculty. Each is checked against the one unit given, so that a sign-up loads no list of units.
    unit = SelectField(_l("Office, site or campus (optional)"), validators=[Optional()], validate_choice=False)
    department = SelectField(_l("Department or faculty (optional)"), validators=[Optional()], validate_choice=False)
    # Signs of a script (tenants/services/screening.py), never checked here: a sign-up is not refused for them.
    # A trap field no person sees, reaches by keyboard or hears read out; its label asks to leave it empty.
    website = StringField(_l("Leave this field empty"))
    # When the form was shown, signed.
    rendered = HiddenField()

    def offer_units(self, units: list[Unit]) -> None:
        """The units shown as choices: departments and faculties in one list, the other units in the other, each
        grouped by kind and sorted by name. A list with no unit is not shown."""
        kinds = list(UNIT_GROUPS)
        ordered = sorted(units, key=lambda u: (kinds.index(u.kind), u.name.casefold()))
        for field, departments in ((self.unit, False), (self.department, True)):
            field.choices = [SelectChoice("", _l("None of these"))] + [
                SelectChoice(str(unit.id), unit.name, optgroup=UNIT_GROUPS[unit.kind])
                for unit in ordered if unit.kind.is_department == departments]

    def validate_unit(self, field) -> None:
        self._check_unit(field, departments=False)

    def validate_department(self, field) -> None:
        self._check_unit(field, departments=True)

    @staticmethod
    def _check_unit(field, departments: bool) -> None:
        try:
            unit = public.unit_in_tenant(uuid.UUID(field.data))
        except ValueError:
            unit = None
        if unit is None or unit.kind.is_department != departments:
            raise ValidationError(field.gettext(WTFORMS_INVALID_CHOICE))

    def choose_unit(self, unit: Unit) -> None:
        """Chosen already (a unit's own sign-up link): in the list its kind belongs to."""
        (self.department if unit.kind.is_department else self.unit).data = str(unit.id)

    @property
    def unit_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.unit.data) if self.unit.data else None

    @property
    def department_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.department.data) if self.department.data else None

    # Attack mode's proof of work: the widget writes this field (the form never renders it), checked only while
    # the view says the site is ``challenged``. A solution accepted is spent, unless the form is refused (the
    # request's transaction is rolled back).
    altcha = HiddenField(_l("Check against automated sign-ups"))
    challenged = False

    def validate_altcha(self, field) -> None:
        if not self.challenged:
            return
        if not field.data:
            raise ValidationError(_l("Your browser has not done its check yet (it needs JavaScript): please commit "
                                     "again."))
        if not attack_mode.accept(field.data):
            raise ValidationError(_l("Your browser's check did not succeed or has expired: please commit again."))


class SignedInCommitForm(CommitmentForm):
    """The one-click commitment of someone signed in through their organisation: the identity provider gave
    their name, email and unit; they confirm gender, country and consent."""

    name_public = BooleanField(_l("You may show my name publicly"))


YES, NO = "yes", "no"
# The ages the question can name (as text, as the form sends them).
ASKED_AGES = frozenset(str(age) for age in (DEFAULT_AGE, *CONSENT_AGES.values()))


def age_question(age: int) -> str:
    """The age question for a country whose age of digital consent is ``age``."""
    return _("Are you %(age)s or older?", age=format_number(age))


class AgeQuestion:
    """The question a tenant may ask (``ask_age``): is the person at least the age of digital consent of the
    country they chose (``core.consent_age``)? One yes or no decides it, so no age or birth year is ever sent.

    ``asked_age`` is the age the question showed (the page's script follows the chosen country): an answer to
    another country's question that does not decide this one is asked again. Under the age, the email and name
    are not required, and whatever was typed in them is dropped here, before anything could keep it."""

    old_enough = RadioField(_l("Your age"), choices=[SelectChoice(YES, _l("Yes")), SelectChoice(NO, _l("No"))],
                            validators=[InputRequired(message=_l("Please answer the question about your age."))])
    asked_age = HiddenField()

    @property
    def age_to_ask(self) -> int:
        """The age of digital consent of the country chosen (the default one until a country is)."""
        return consent_age(self.country.data if is_country_code(self.country.data or "") else None)

    @property
    def under_age(self) -> bool:
        return self.old_enough.data == NO

    @property
    def question(self) -> str:
        return age_question(self.age_to_ask)

    def for_script(self) -> dict:
        """What the page's script needs to ask the question of any country chosen: each country's age, the
        default one, and the question for every age."""
        return {"ages": dict(CONSENT_AGES), "default": DEFAULT_AGE,
                "questions": {age: age_question(int(age)) for age in sorted(ASKED_AGES, key=int)}}

    def validate(self, extra_validators=None) -> bool:
        if self.under_age:
            for field in (self.email, self.name):
                field.data, field.raw_data, field.validators = None, [], [Optional()]
            self.name_public.data = self.reminders.data = False
        return super().validate(extra_validators)

    def validate_old_enough(self, field) -> None:
        if not is_country_code(self.country.data or ""):
            return  # the country's own error says what to do
        required = self.age_to_ask
        asked = int(self.asked_age.data) if self.asked_age.data in ASKED_AGES else None
        if asked is None or (field.data == YES and asked < required) or (field.data == NO and asked > required):
            field.data = None  # answered again, to the question for the country chosen
            raise ValidationError(_l("The age asked depends on the country: please answer again for the country "
                                     "you chose."))


class AgeAskingSignupForm(AgeQuestion, SignupForm):
    """The public sign-up form of a tenant that asks for the age of digital consent."""


class ConfirmCommitmentForm(Form):
    """The button that confirms a commitment from its mail: only the CSRF token."""
