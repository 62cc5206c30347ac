"""The application to join (public) and the operators' forms; each carries a CSRF token and is checked on the
server."""

from __future__ import annotations

import wtforms
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, FormField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from core.forms import Form
from core.i18n import LANGUAGES, country_choices, is_country_code, language_name
from operator_console import services
from operator_console.models import ApplicationKind, ApplicationStatus
from tenants import plans
from tenants.forms import plain_text
from tenants.kits import services as kits
from tenants.kits.body import MAX_BODY_CHARACTERS
from tenants.kits.vocabulary import AUDIENCES, PILLARS
from tenants.models import TenantKind, TenantStatus

KIND_LABELS = {
    ApplicationKind.CORPORATION: _l("Corporation"),
    ApplicationKind.UNIVERSITY: _l("University"),
    ApplicationKind.GOVERNMENT: _l("Government"),
    ApplicationKind.NGO: _l("NGO"),
}
#: Every tenant kind's name (tenants made by the command may be "other").
KIND_NAMES = {kind.value: label for kind, label in KIND_LABELS.items()} | {TenantKind.OTHER.value: _l("Other")}
STATUS_LABELS = {TenantStatus.ACTIVE: _l("Active"), TenantStatus.SUSPENDED: _l("Suspended")}
APPLICATION_STATUS_LABELS = {ApplicationStatus.PENDING: _l("Waiting"), ApplicationStatus.APPROVED: _l("Approved"),
                             ApplicationStatus.REJECTED: _l("Rejected")}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class ApplicationForm(Form):
    """"Bring HeForShe to your organisation": who applies, and the address they would like."""

    organisation = StringField(_l("Organisation name"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give your organisation's name.")), Length(max=200), plain_text])
    kind = SelectField(_l("Kind of organisation"), choices=[SelectChoice("", _l("Choose one"))] + [
        SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        validators=[DataRequired(message=_l("Please choose the kind of organisation."))])
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Please choose your country."))],
                          validate_choice=False)
    website = StringField(_l("Website"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give your organisation's website.")), Length(max=500),
        URL(message=_l("Please enter a web address, like https://example.org."))])
    contact_name = StringField(_l("Your name"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give your name.")), Length(max=100), plain_text])
    contact_email = EmailField(_l("Your work email"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give your email address.")), Length(max=320),
        Email(message=_l("Please enter a valid email address."))])
    subdomain = StringField(_l("Address of your HeForShe page"), filters=[_lower], validators=[
        DataRequired(message=_l("Please choose the address of your page.")), Length(max=63)])
    consent = BooleanField(_l("I agree that HeForShe keeps these details to consider our application and to write "
                              "to me about it."),
                           validators=[DataRequired(message=_l("Please agree, so that we may consider the "
                                                               "application."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Choose your country")),
                                *(SelectChoice(code, name) for code, name in country_choices())]

    def validate_country(self, field) -> None:
        if not is_country_code(field.data or ""):
            raise ValidationError(_l("Please choose your country from the list."))

    def validate_subdomain(self, field) -> None:
        # Checked again on submit, whatever the page's script said: someone may have taken it since.
        found = services.subdomain_state(field.data or "")
        if found.state != "available":
            raise ValidationError(found.message)


class BreakGlassForm(Form):
    """The operators' sign-in when their identity provider is down."""

    email = EmailField(_l("Email"), filters=[_strip], validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])
    code = StringField(_l("Code from your authenticator app"), filters=[_strip],
                       validators=[DataRequired(), Length(max=10)])


class ConfirmForm(Form):
    """A button that carries only its CSRF token (sign out, approve)."""


class ReasonForm(Form):
    """An operator action that says why (reject, suspend, reactivate, sponsor): the reason is kept in the audit
    log, and a rejection's is mailed to the applicant."""

    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give the reason.")), Length(max=2000)])


class TenantFilterForm(Form):
    """The tenants list's search and filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search by name or address"), filters=[_strip], validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("", _l("Any kind"))] + [
        SelectChoice(value, label) for value, label in KIND_NAMES.items()], validators=[Optional()])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()], validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    plan = SelectField(_l("Plan"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", _l("Any country")),
                                *(SelectChoice(code, name) for code, name in country_choices())]
        self.plan.choices = [SelectChoice("", _l("Any plan")),
                             *(SelectChoice(plan, plans.plan_name(plan)) for plan in plans.plans())]

    def filters(self) -> services.TenantFilter:
        """What to narrow the list to; a value that is no valid choice narrows nothing."""
        self.validate()
        return services.TenantFilter(**{name: "" if self[name].errors else (self[name].data or "")
                                        for name in ("q", "kind", "status", "country", "plan")})

    def validate_country(self, field) -> None:
        if field.data and not is_country_code(field.data):
            raise ValidationError(_l("Please choose your country from the list."))


class KitTextForm(wtforms.Form):
    """A kit's words in one language (inside the kit form, which carries the CSRF token); all empty: none."""

    title = StringField(_l("Title"), filters=[_strip], validators=[Length(max=kits.MAX_TITLE)])
    summary = StringField(_l("Summary (one sentence, shown in the list of kits)"), filters=[_strip],
                          validators=[Length(max=kits.MAX_SUMMARY)])
    body = TextAreaField(_l("Text, in Markdown (## for a heading, 1. for a step, **bold**)"), filters=[_strip],
                         validators=[Length(max=MAX_BODY_CHARACTERS)])

    def text(self) -> kits.KitText | None:
        return kits.KitText(self.title.data, self.summary.data, self.body.data) if any(self.data.values()) else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if any(self.data.values()):
            for field in (self.title, self.summary, self.body):
                if not field.data:
                    field.errors = [*field.errors, _l("Please fill in this field too, or leave the language empty.")]
                    valid = False
        return valid


class KitForm(Form):
    """One of the operator's kits: its address (fixed once made), audience, pillar, whether it is published, and
    its words in each language (``kit_form`` adds them)."""

    slug = StringField(_l("Address: the end of /kits/…"), filters=[_lower], validators=[
        DataRequired(message=_l("Please choose the kit's address.")), Length(max=80)])
    audience = SelectField(_l("Audience"), choices=[SelectChoice("", _l("Choose one"))] + [
        SelectChoice(key, label) for key, label in AUDIENCES.items()],
        validators=[DataRequired(message=_l("Please choose the audience."))])
    pillar = SelectField(_l("Pillar"), choices=[SelectChoice("", _l("Choose one"))] + [
        SelectChoice(key, label) for key, label in PILLARS.items()],
        validators=[DataRequired(message=_l("Please choose the pillar."))])
    published = BooleanField(_l("Published: every site may show it"))

    @property
    def text_fields(self) -> list[tuple[str, FormField]]:
        """(language, its subform), English first."""
        return [(code, self[f"text_{code}"]) for code in LANGUAGES]

    def texts(self) -> dict[str, kits.KitText | None]:
        return {code: subform.form.text() for code, subform in self.text_fields}


def kit_form(**kwargs) -> KitForm:
    """The kit form with a section of words for each of the six languages."""

    class LanguagesKitForm(KitForm):
        pass

    for code in LANGUAGES:
        setattr(LanguagesKitForm, f"text_{code}", FormField(KitTextForm, label=language_name(code)))
    return LanguagesKitForm(**kwargs)
