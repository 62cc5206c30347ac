"""Forms of the kits area; each carries a CSRF token and is checked on the server."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from core.forms import Form
from core.i18n import LANGUAGES, language_name
from tenants.forms import plain_text
from tenants.kits import services as kits
from tenants.kits.body import MAX_BODY_CHARACTERS
from tenants.kits.models import TenantKit
from tenants.kits.vocabulary import AUDIENCES, PILLARS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ChoiceForm(Form):
    """The operator's kits the organisation's pages list (checked) and those they leave out."""

    shown = SelectMultipleField(_l("Kits your pages list"), coerce=int, validate_choice=False)


class OwnKitForm(Form):
    """One of the organisation's own kits: its words in one language, for whom, local contacts, shown or not;
    "Preview" shows it as it would look without saving it."""

    title = StringField(_l("Title"), filters=[_strip], validators=[
        DataRequired(message=_l("Please give the kit a title.")), Length(max=kits.MAX_TITLE), plain_text])
    summary = StringField(_l("Summary (one sentence, shown in the list of kits)"), filters=[_strip], validators=[
        DataRequired(message=_l("Please sum the kit up in one sentence.")), Length(max=kits.MAX_SUMMARY), plain_text])
    audience = SelectField(_l("For"), choices=[SelectChoice(key, label) for key, label in AUDIENCES.items()])
    pillar = SelectField(_l("Pillar"), choices=[SelectChoice(key, label) for key, label in PILLARS.items()])
    language = SelectField(_l("Written in"), choices=[SelectChoice(code, language_name(code)) for code in LANGUAGES])
    body = TextAreaField(_l("Text, in Markdown (## for a heading, 1. for a step, **bold**)"), filters=[_strip],
                         validators=[DataRequired(message=_l("Please write the kit's text.")),
                                     Length(max=MAX_BODY_CHARACTERS)])
    contacts = TextAreaField(_l("Local contacts (optional): who to call or write to, one per line"),
                             filters=[_strip], validators=[Optional(), Length(max=kits.MAX_CONTACTS)])
    published = BooleanField(_l("Show it on our pages"))
    preview = SubmitField(_l("Preview"))

    @classmethod
    def values_of(cls, kit: TenantKit) -> dict:
        return {name: getattr(kit, name) for name in (
            "title", "summary", "audience", "pillar", "language", "body", "contacts", "published")}

    def fields(self) -> kits.OwnKit:
        return kits.OwnKit(self.audience.data, self.pillar.data, self.language.data,
                           kits.KitText(self.title.data, self.summary.data, self.body.data), self.contacts.data or None,
                           self.published.data)
