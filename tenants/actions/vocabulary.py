"""What the actions add to the words they share with the kits (``tenants/kits/vocabulary.py``: the pillars and the
audiences): a concrete pledge for each pillar, and the audience of a tenant's people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tenants.kits.vocabulary import AUDIENCES, PILLARS, audience_for_kind
from tenants.models import Tenant

__all__ = ["AUDIENCES", "PILLARS", "PLEDGES", "audience_of"]

#: A concrete pledge for each pillar, as the sign-up form offers them.
PLEDGES = {
    "economic": _l("I will work for equal pay and share the unpaid care work at home."),
    "violence": _l("I will speak up against harassment and violence, and never look away."),
    "leadership": _l("I will make room for women to lead, in meetings, on panels and in elections."),
    "peace": _l("I will settle conflicts without violence and support women making peace."),
}


def audience_of(tenant: Tenant) -> str:
    """The audience a tenant's people belong to: its kind's; the movement's people (and any other kind) are
    individuals."""
    return audience_for_kind(tenant.kind.value)
