"""The words action kits and commitments share: the four pillars and the six audiences, keys with their labels.

Keys are stored (kits, commitments, roll-ups); labels are shown, translated. Both dicts keep the order pages list
them in.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PILLARS = {
    "economic": _l("Economic empowerment"),
    "violence": _l("Ending violence"),
    "leadership": _l("Governance and leadership"),
    "peace": _l("Peace and security"),
}

AUDIENCES = {
    "individual": _l("Individuals"),
    "corporation": _l("Corporations and managers"),
    "university": _l("Universities, faculty and staff"),
    "government": _l("Governments"),
    "ngo": _l("NGOs"),
    "un": _l("UN agencies"),
}

# The audience a tenant's kind speaks to (TenantKind values); anything else speaks to individuals.
AUDIENCE_OF_TENANT_KIND = {"corporation": "corporation", "university": "university", "government": "government",
                           "ngo": "ngo"}


def audience_for_kind(kind: str | None) -> str:
    """The audience key for a tenant kind's value (``"corporation"``...), ``"individual"`` when none fits."""
    return AUDIENCE_OF_TENANT_KIND.get(kind or "", "individual")
