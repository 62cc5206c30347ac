"""Portal pages: members."""

from flask import Blueprint

bp = Blueprint("portal_members", __name__, url_prefix="/portal/members")
