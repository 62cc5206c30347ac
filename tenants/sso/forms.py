"""Forms of the sign-in pages."""

from flask_wtf import FlaskForm


class SignOutForm(FlaskForm):
    """Signing out is a POST with a CSRF token, so no other site can sign anyone out."""
