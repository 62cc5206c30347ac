"""The movement's vocabulary for action: HeForShe's four pillars and the audiences its action kits speak to.

Keys are stored (commitments, kits, actions); labels are what people read, translated when shown.
"""

from flask_babel import lazy_gettext as _l

#: The pillars a person may commit to and that kits and actions belong to: key -> label.
PILLARS = {
    "economic": _l("Economic empowerment"),
    "violence": _l("Ending violence"),
    "leadership": _l("Governance and leadership"),
    "peace": _l("Peace and security"),
}

#: Who a kit or an action is written for: key -> label.
AUDIENCES = {
    "individual": _l("Individuals"),
    "corporation": _l("Corporations and their managers"),
    "university": _l("Universities, their faculty and staff"),
    "government": _l("Governments"),
    "ngo": _l("NGOs"),
    "un": _l("UN agencies"),
}
