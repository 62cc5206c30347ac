"""Portal pages: targets."""

from flask import Blueprint

bp = Blueprint("portal_targets", __name__, url_prefix="/portal/targets")
