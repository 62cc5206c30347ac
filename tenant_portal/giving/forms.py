"""The match pledge: an amount per commitment, or the gifts made through the tenant's pages, up to a cap."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from core.forms import Form, MoneyField
from tenants.giving.models import MatchKind

CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "CNY")


class PledgeForm(Form):
    kind = RadioField(_l("What you match"), choices=[
        SelectChoice(MatchKind.PER_COMMITMENT.value, _l("An amount for each commitment")),
        SelectChoice(MatchKind.GIFTS.value, _l("The gifts people make through your pages")),
    ], validators=[InputRequired(message=_l("Choose what you match."))])
    amount = MoneyField(_l("Amount for each commitment"), validators=[
        Optional(), NumberRange(min=0.01, max=10_000, message=_l("Between 0.01 and 10,000."))])
    cap = MoneyField(_l("Up to (in all)"), validators=[
        InputRequired(message=_l("Give the most you will give in all.")),
        NumberRange(min=1, max=100_000_000, message=_l("Between 1 and 100,000,000."))])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(code, code) for code in CURRENCIES])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked here: an empty optional field stops its own validators before any that would ask for it.
        if self.kind.data == MatchKind.PER_COMMITMENT.value and self.amount.data is None and not self.amount.errors:
            self.amount.errors = [_l("Give the amount for each commitment.")]
            return False
        return valid
