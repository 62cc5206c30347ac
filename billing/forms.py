"""The billing page's forms: each button posts its CSRF token (and the plan chosen, read by the view)."""

from core.forms import Form


class PlanForm(Form):
    """A billing button: only its CSRF token."""
