"""Forms of the units area; each carries a CSRF token and is checked on the server."""

from __future__ import annotations

import uuid

from flask_babel import lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.forms import Form
from core.i18n import country_choices, language_name
from tenant_portal.units.services import MAX_HEADCOUNT, UnitFields
from tenants.forms import plain_text
from tenants.models import Unit, UnitKind

#: Every kind of unit, named for people.
KIND_NAMES = {
    UnitKind.DEPARTMENT: _l("Department"), UnitKind.OFFICE: _l("Office"),
    UnitKind.SITE: lazy_pgettext("a place of work", "Site"),
    UnitKind.CAMPUS: _l("Campus"), UnitKind.FACULTY: _l("Faculty"), UnitKind.OTHER: _l("Other"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _headcount(label):
    return IntegerField(label, validators=[
        Optional(), NumberRange(min=0, max=MAX_HEADCOUNT, message=_l("Please enter a whole number, 0 or more."))])


class _HeadcountFields:
    """Eligible men and eligible people in all, both optional; the men never more than everyone."""

    def validate_eligible_men(self, field) -> None:
        total = self.eligible_total.data
        if field.data is not None and total is not None and field.data > total:
            raise ValidationError(_l("The eligible men cannot be more than the eligible people in all."))


class HeadcountForm(_HeadcountFields, Form):
    """The whole organisation's eligible headcount."""

    eligible_men = _headcount(_l("Eligible men in the organisation"))
    eligible_total = _headcount(_l("Eligible people in all (women, men and everyone else)"))


class UnitForm(_HeadcountFields, Form):
    """Add or change one unit."""

    name = StringField(_l("Name"), filters=[_strip], validators=[
        DataRequired(message=_l("Please enter the unit's name.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind.value, name) for kind, name in KIND_NAMES.items()],
                       validators=[InputRequired(message=_l("Please choose a kind."))])
    parent = SelectField(_l("Part of"), validate_choice=True)
    external_key = StringField(_l("Key (optional)"), filters=[_strip], validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country (optional)"), validate_choice=True)
    city = StringField(_l("City (optional)"), filters=[_strip], validators=[Optional(), Length(max=100)])
    eligible_men = _headcount(_l("Eligible men (optional)"))
    eligible_total = _headcount(_l("Eligible people in all (optional)"))

    def __init__(self, parents: list[tuple[Unit, int]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Indented so that sighted people see the tree; the names alone are what a screen reader reads.
        self.parent.choices = [SelectChoice("", _l("Nothing: a top-level unit"))] + [
            SelectChoice(str(unit.id), "\u00a0\u00a0" * depth + unit.name) for unit, depth in parents]
        self.country.choices = [SelectChoice("", _l("No country"))] + [
            SelectChoice(code, name) for code, name in country_choices()]

    def fields(self) -> UnitFields:
        """What was entered, for the services."""
        return UnitFields(
            name=self.name.data, kind=UnitKind(self.kind.data),
            parent_id=uuid.UUID(self.parent.data) if self.parent.data else None,
            external_key=self.external_key.data or None, country_code=self.country.data or None,
            city=self.city.data or None, eligible_men=self.eligible_men.data, eligible_total=self.eligible_total.data)

    @classmethod
    def values_of(cls, unit: Unit) -> dict:
        """A unit's values, to fill the form."""
        return {"name": unit.name, "kind": unit.kind.value, "parent": str(unit.parent_id) if unit.parent_id else "",
                "external_key": unit.external_key or "", "country": unit.country_code or "", "city": unit.city or "",
                "eligible_men": unit.eligible_men, "eligible_total": unit.eligible_total}


class ImportForm(Form):
    """A CSV file of units, checked before anything is written."""

    file = FileField(_l("CSV file of units"), validators=[FileRequired(message=_l("Please choose a CSV file."))])


class ApplyImportForm(Form):
    """Import the file that was just checked (its text comes back with the form, and is checked again)."""

    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField(validators=[Optional(), Length(max=200)])


class PosterForm(Form):
    """An event poster: what the event is, when and where, the unit it signs people up in, and its language."""

    event = StringField(_l("Event (optional)"), filters=[_strip], validators=[Optional(), Length(max=120), plain_text])
    details = StringField(_l("When and where (optional)"), filters=[_strip],
                          validators=[Optional(), Length(max=200), plain_text])
    unit = SelectField(_l("People who scan it commit in"), validators=[Optional()])
    language = SelectField(_l("Language of the poster"))

    def __init__(self, units: list[tuple[Unit, int]], languages: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice("", _l("The whole organisation"))] + [
            SelectChoice(str(unit.id), "\u00a0\u00a0" * depth + unit.name) for unit, depth in units]
        self.language.choices = [SelectChoice(code, language_name(code)) for code in languages]

    @property
    def unit_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.unit.data) if self.unit.data else None
