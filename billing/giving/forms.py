"""The gift form: a preset amount of the chosen currency or one of the person's own, once or every month."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from billing.giving.services import MAXIMUM, MINIMUM, presets
from core.forms import Form, MoneyField

OTHER = "other"


class GiveForm(Form):
    currency = HiddenField()
    amount = RadioField(_l("Amount"), validate_choice=True)
    other = MoneyField(_l("Another amount"), validators=[Optional(), NumberRange(
        min=MINIMUM, max=MAXIMUM, message=_l("Give between %(min)s and %(max)s.", min=MINIMUM, max=MAXIMUM))])
    frequency = RadioField(_l("How often"), choices=[SelectChoice("once", _l("Once")), SelectChoice("monthly", _l("Every month"))],
                           default="once")

    def offer(self, currency: str, labels: dict[str, str], other_label: str) -> None:
        """Offer ``currency``'s presets (labelled as the reader's language writes them) and "another amount"."""
        self.currency.data = currency
        self.amount.choices = [SelectChoice(str(value), labels[str(value)]) for value in presets(currency)]
        self.amount.choices.append(SelectChoice(OTHER, other_label))
        if self.amount.data is None:
            self.amount.data = str(presets(currency)[1])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checked here: an empty optional field stops its own validators before any that would ask for it.
        if self.amount.data == OTHER and self.other.data is None and not self.other.errors:
            self.other.errors = [_l("Type the amount you would like to give.")]
            return False
        return valid

    def minor_units(self) -> int:
        """The chosen amount in the currency's smallest unit (cents)."""
        value = self.other.data if self.amount.data == OTHER else Decimal(self.amount.data)
        return int(value * 100)
