"""The catalogue of concrete actions: what the thank-you page offers a person to do after committing.

Kept in code, like the vocabulary it uses: each action's key is stored with what people plan and do, so a key
never changes; its words are translated like every other text. An action for some audiences only comes before
the ones for everyone; a kit, where one exists, says more on how to go about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tenants.actions.vocabulary import PILLARS
from tenants.kits import services as kits

#: How many actions the thank-you page offers.
OFFERED = 3


@dataclass(frozen=True)
class Action:
    key: str
    text: object  # lazily translated
    pillar: str
    audiences: frozenset[str] | None = None  # None: everyone
    kit: str | None = None  # the slug of the action kit that helps with it


def _for(*audiences: str) -> frozenset[str]:
    return frozenset(audiences)


ACTIONS = (
    Action("econ-pay-audit", _l("Propose a review of the pay gap in your team or organisation."), "economic",
           _for("corporation", "government", "un"), "equal-pay-conversation"),
    Action("econ-buy", _l("Buy from a business owned or run by women this month."), "economic",
           _for("individual", "ngo")),
    Action("econ-pay-talk", _l("Ask how pay is set where you work, and whether women and men are paid equally."),
           "economic", kit="equal-pay-conversation"),
    Action("econ-share-care", _l("Take on an equal share of the care and housework at home this month."), "economic",
           kit="share-the-care"),
    Action("econ-mentor", _l("Mentor or sponsor a woman at the start of her career."), "economic"),
    Action("vio-campus", _l("Walk your campus with a women's group and report the places that feel unsafe."),
           "violence", _for("university"), "safe-campus"),
    Action("vio-policy", _l("Check that your organisation has a clear policy against harassment, and that it is "
                            "used."), "violence", _for("corporation", "government", "ngo", "un")),
    Action("vio-speak-up", _l("Speak up the next time you hear a sexist joke or remark."), "violence",
           kit="speak-up"),
    Action("vio-helpline", _l("Find out where to send someone who tells you about violence, and keep the number."),
           "violence"),
    Action("vio-listen", _l("Ask a woman you trust what makes her feel unsafe, and listen."), "violence"),
    Action("lead-count", _l("Count the women in your organisation's leadership and share the figure."),
           "leadership", _for("corporation", "university", "government", "ngo", "un")),
    Action("lead-panels", _l("Decline to speak on a panel that has no women on it."), "leadership",
           kit="balanced-panels"),
    Action("lead-meetings", _l("Make sure women's ideas in meetings are heard and credited to them."), "leadership",
           kit="women-at-the-table"),
    Action("lead-support", _l("Support a woman standing for a leadership role or an election."), "leadership"),
    Action("peace-teams", _l("Ask that women take part in every negotiation or mediation you have a say in."),
           "peace", _for("government", "ngo", "un")),
    Action("peace-home", _l("Settle conflicts at home by talking, never by force, and teach children to do the "
                            "same."), "peace", kit="peace-starts-at-home"),
    Action("peace-circle", _l("Join or start a community circle where women and men talk about safety."), "peace",
           kit="community-circles"),
    Action("peace-learn", _l("Read about the part women play in building peace, and share what you learn."),
           "peace"),
)
BY_KEY = {action.key: action for action in ACTIONS}


def find(key: str | None) -> Action | None:
    return BY_KEY.get(key or "")


def offered(audience: str, pillar: str | None) -> list[Action]:
    """The actions offered to a person of ``audience`` who committed to ``pillar``: those for their audience
    first, then those for everyone; without a pillar, the first of the first pillars'."""
    fitting = [a for a in ACTIONS if a.audiences is None or audience in a.audiences]
    if pillar not in PILLARS:
        return [next(a for a in fitting if a.pillar == p) for p in list(PILLARS)[:OFFERED]]
    own = [a for a in fitting if a.pillar == pillar]
    return sorted(own, key=lambda a: a.audiences is None)[:OFFERED]


def kit_url(action: Action) -> str | None:
    """The address of the kit that helps with the action, when this site has it published; else None."""
    if action.kit is None or kits.find_page(action.kit, str(get_locale())) is None:
        return None
    return url_for("kits.show", kit_slug=action.kit)
