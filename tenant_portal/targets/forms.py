"""Forms of the targets area; each carries a CSRF token and is checked on the server."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from core.forms import Form
from tenant_portal.targets.services import TargetData
from tenants.models import Target, TargetMetric, Unit

#: Every metric, named for people.
METRIC_NAMES = {
    TargetMetric.MEN: _l("Men committed"),
    TargetMetric.ALL: _l("All commitments"),
    TargetMetric.PARTICIPATION_RATE: _l("Participation rate: men committed as a percentage of the eligible men"),
    TargetMetric.ACTED: _l("Actions done: people who did an action they planned"),
}
#: Browsers without a date picker let people type dates in any shape; this says which one is understood.
_DATE = _l("Please enter a date, like 2030-06-30.")


class TargetForm(Form):
    """A target: for the whole organisation or one unit, what it counts, how many, by when."""

    unit = SelectField(_l("For"), validators=[Optional()])
    metric = RadioField(_l("What counts"), choices=[SelectChoice(m.value, name) for m, name in METRIC_NAMES.items()],
                        default=TargetMetric.MEN.value,
                        validators=[InputRequired(message=_l("Please choose what the target counts."))])
    value = IntegerField(_l("Target"), validators=[
        InputRequired(message=_l("Please enter a whole number, like 500.")),
        NumberRange(min=1, max=100_000_000, message=_l("Please enter a whole number from 1 up."))])
    starts_on = DateField(_l("Start date (optional)"), validators=[Optional()], invalid_value_message=_DATE)
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Please enter the deadline."))],
                         invalid_value_message=_DATE)
    public = BooleanField(_l("Show this target and its progress on the sign-up page"))

    def __init__(self, units: list[Unit], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice("", _l("The whole organisation"))] + [
            SelectChoice(str(unit.id), unit.name) for unit in units]

    @classmethod
    def of(cls, target: Target, units: list[Unit]) -> TargetForm:
        """The form filled in with a target's values (on a GET; a POST keeps what was sent)."""
        return cls(units, data={"unit": str(target.unit_id) if target.unit_id else "", "metric": target.metric.value,
                                "value": target.value, "starts_on": target.starts_on, "deadline": target.deadline,
                                "public": target.public})

    def target_data(self) -> TargetData:
        """What was filled in, as the services take it (after ``validate_on_submit``)."""
        return TargetData(unit_id=uuid.UUID(self.unit.data) if self.unit.data else None,
                          metric=TargetMetric(self.metric.data), value=self.value.data,
                          starts_on=self.starts_on.data, deadline=self.deadline.data, public=self.public.data)
