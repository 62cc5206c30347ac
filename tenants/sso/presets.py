"""What the common identity providers send, ready to fill in the sign-in settings (the admin can still change it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from tenants.sso.models import Protocol

MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
ORGANISATIONAL_UNIT = "urn:oid:2.5.4.11"
AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"


@dataclass(frozen=True)
class Preset:
    """One provider's usual settings; ``groups_scope``: it sends groups only when the ``groups`` scope is asked."""

    label: str
    protocol: Protocol
    email: str
    name: str
    unit: str
    groups: str
    issuer: str = ""
    scopes: str = "openid email profile"
    groups_scope: bool = False
    notes: tuple = field(default_factory=tuple)


PRESETS = {
    "entra": Preset(
        _l("Microsoft Entra ID"), Protocol.OIDC, "email", "name", "", "groups", notes=(
            _l("Issuer: https://login.microsoftonline.com/<tenant id>/v2.0. Client ID: the “Application (client) "
               "ID” of the app registration, not its object ID."),
            _l("Entra ID sends no email unless you add the optional claim “email” (Token configuration)."),
            _l("Entra ID sends groups as object IDs, not names: enter the admin group's object ID. Someone in more "
               "than 200 groups gets no groups claim at all, only an “overage” claim pointing to Microsoft Graph, "
               "and would not be recognised as an admin: emit “Groups assigned to the application” and assign "
               "the admin group to the application."),
        )),
    "okta": Preset(
        _l("Okta"), Protocol.OIDC, "email", "name", "department", "groups", groups_scope=True, notes=(
            _l("Issuer: https://<your-org>.okta.com, or your custom authorization server's issuer."),
            _l("Okta sends groups only through a “groups” claim on the authorization server (with a filter such as "
               "“Starts with HeForShe”), asked for with the scope “groups”."),
        )),
    "google": Preset(
        _l("Google Workspace"), Protocol.OIDC, "email", "name", "", "", issuer="https://accounts.google.com",
        notes=(
            _l("Google sends no groups: leave the admin group empty and give admins their role in the portal."),
            _l("Any Google account can pass Google's sign-in: list your Workspace domains under allowed email "
               "domains."),
        )),
    "shibboleth": Preset(
        _l("Shibboleth or SimpleSAMLphp (SAML)"), Protocol.SAML, MAIL, DISPLAY_NAME, ORGANISATIONAL_UNIT,
        AFFILIATION, notes=(
            _l("Release mail, displayName, eduPersonAffiliation and ou to our entity ID (attribute-filter.xml in "
               "Shibboleth); the admin group is then an affiliation such as “staff”."),
        )),
    "generic": Preset(
        _l("Another OpenID Connect provider"), Protocol.OIDC, "email", "name", "", "groups", groups_scope=True,
        notes=(_l("These are the standard claim names; change any your provider names otherwise."),)),
}


def values(preset: Preset, admin_group: str | None) -> dict:
    """The settings form's fields as the preset fills them (the ``groups`` scope only where an admin group is set)."""
    scopes = preset.scopes + (" groups" if preset.groups_scope and admin_group else "")
    filled = {"protocol": preset.protocol.value, "claim_email": preset.email, "claim_name": preset.name,
              "claim_unit": preset.unit, "claim_groups": preset.groups}
    if preset.protocol is Protocol.OIDC:
        filled["oidc_scopes"] = scopes
        if preset.issuer:
            filled["oidc_issuer"] = preset.issuer
    return filled
