"""Portal pages: branding."""

from flask import Blueprint

bp = Blueprint("portal_branding", __name__, url_prefix="/portal/branding")
