"""Forms of the tenant portal; every one carries a CSRF token and is checked on the server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp, ValidationError

from core.forms import Form
from tenants.models import EmailConfirmation, Unit
from tenants.sso.models import Protocol
from tenants.sso.presets import PRESETS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SsoSettingsForm(Form):
    """Which identity provider the tenant's people sign in with, and where it puts each fact."""

    preset = SelectField(_l("Your identity provider"), choices=[
        SelectChoice(key, preset.label) for key, preset in PRESETS.items()], validate_choice=False)
    fill = SubmitField(_l("Fill in its usual settings"))
    protocol = RadioField(_l("Protocol"), choices=[
        SelectChoice(Protocol.OIDC.value, _l("OpenID Connect (Entra ID, Okta, Google Workspace, ...)")),
        SelectChoice(Protocol.SAML.value, _l("SAML 2.0 (Shibboleth, ADFS, ...)")),
    ], default=Protocol.OIDC.value, validators=[DataRequired(message=_l("Please choose a protocol."))])
    enabled = BooleanField(_l("People can sign in this way"), default=True)
    oidc_issuer = StringField(_l("Issuer URL"), filters=[_strip], validators=[
        Optional(), Length(max=500), URL(require_tld=False, message=_l("Please enter a web address."))])
    oidc_client_id = StringField(_l("Client ID"), filters=[_strip], validators=[Optional(), Length(max=255)])
    oidc_client_secret = PasswordField(_l("Client secret"), filters=[_strip], validators=[Optional(), Length(max=500)])
    oidc_scopes = StringField(_l("Scopes"), filters=[_strip], default="openid email profile",
                              validators=[Optional(), Length(max=255),
                                          Regexp(r"^[\w:./-]+( [\w:./-]+)*$", message=_l("Separate scopes by spaces."))])
    saml_metadata_url = StringField(_l("Identity provider metadata URL"), filters=[_strip], validators=[
        Optional(), Length(max=500), URL(require_tld=False, message=_l("Please enter a web address."))])
    saml_metadata_xml = TextAreaField(_l("or its metadata (XML)"), filters=[_strip],
                                      validators=[Optional(), Length(max=200_000)])
    claim_email = StringField(_l("Email claim or attribute"), filters=[_strip], validators=[
        DataRequired(message=_l("Please say where the email address is.")), Length(max=255)])
    claim_name = StringField(_l("Name claim or attribute"), filters=[_strip], validators=[Optional(), Length(max=255)])
    claim_unit = StringField(_l("Unit claim or attribute (department, campus, ...)"), filters=[_strip],
                             validators=[Optional(), Length(max=255)])
    claim_groups = StringField(_l("Groups claim or attribute"), filters=[_strip], validators=[Optional(), Length(max=255)])
    admin_group = StringField(_l("Group whose members are admins here"), filters=[_strip],
                              validators=[Optional(), Length(max=255)])
    allowed_domains = TextAreaField(_l("Allowed email domains (one per line)"), filters=[_strip],
                                    validators=[Optional(), Length(max=5000)])
    default_unit = SelectField(_l("Unit for people whose unit is unknown"), validators=[Optional()])

    def __init__(self, units: list[Unit], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_unit.choices = [SelectChoice("", _l("No unit"))] + [
            SelectChoice(str(unit.id), unit.name) for unit in units]

    def validate_oidc_issuer(self, field) -> None:
        if self.protocol.data == Protocol.OIDC.value and not field.data:
            raise ValidationError(_l("OpenID Connect needs the issuer URL."))

    def validate_oidc_client_id(self, field) -> None:
        if self.protocol.data == Protocol.OIDC.value and not field.data:
            raise ValidationError(_l("OpenID Connect needs the client ID."))

    def validate_saml_metadata_xml(self, field) -> None:
        if self.protocol.data == Protocol.SAML.value and not (field.data or self.saml_metadata_url.data):
            raise ValidationError(_l("SAML needs the identity provider's metadata: its URL or the XML."))

    @property
    def domains(self) -> list[str]:
        return [d for d in (self.allowed_domains.data or "").replace(",", "\n").split() if d]


class EmailConfirmationForm(Form):
    """Whether people who commit by the sign-up form confirm their address by mail."""

    mode = RadioField(_l("Email confirmation"), choices=[
        SelectChoice(EmailConfirmation.OFF.value, _l("Off: no mail; every commitment counts at once, unverified")),
        SelectChoice(EmailConfirmation.OPTIONAL.value,
                     _l("Optional: a commitment counts at once, and as verified once its maker confirms it")),
        SelectChoice(EmailConfirmation.REQUIRED.value,
                     _l("Required: a commitment counts only once its maker confirms it")),
    ], validators=[DataRequired(message=_l("Please choose one of the options."))])


class ConfirmForm(Form):
    """A button that confirms an action (remove, delete, verify, test, accept, withdraw): only the CSRF token."""


class BreakGlassForm(Form):
    """An admin's sign-in when the identity provider is down."""

    email = EmailField(_l("Email"), filters=[_strip], validators=[
        DataRequired(message=_l("Please enter your email address.")), Length(max=254),
        Email(message=_l("Please enter a valid email address, like name@example.org."), check_deliverability=False)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Please enter your password.")),
                                                         Length(max=200)])
    code = StringField(_l("Code from your authenticator app"), filters=[_strip], validators=[
        DataRequired(message=_l("Please enter the 6-digit code.")),
        Regexp(r"^\d{6}$", message=_l("Please enter the 6-digit code."))])
