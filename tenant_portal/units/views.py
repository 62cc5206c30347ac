"""Portal pages: units."""

from flask import Blueprint

bp = Blueprint("portal_units", __name__, url_prefix="/portal/units")
