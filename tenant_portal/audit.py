"""The audit log in words: each entry as a sentence in the reader's language, and what it changed, old → new;
the page (``describe``) and the spreadsheet (``export``) both say it so.

Here rather than in services.py: recording (``services.record``) stays a plain write that every area imports,
while the words need the areas' own names for things (their forms' labels and choices), which import the areas'
services in turn. ``ACTIONS`` is the one list of the action codes recorded and how each is said; a code it does
not know (written by a newer version) still reads as a plain sentence, with its details as label and value.
Entries recorded before the old values were kept show the new value alone.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import NamedTuple

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import country_name
from tenant_portal.dashboard.services import neutralise
from tenant_portal.members.forms import ROLE_NAMES
from tenant_portal.models import AuditEntry
from tenant_portal.services import record
from tenant_portal.targets.forms import METRIC_NAMES
from tenant_portal.units.forms import KIND_NAMES
from tenants import plans
from tenants.giving.services import money
from tenants.models import Member, Role, TargetMetric, Tenant, UnitKind, utcnow


class Value(NamedTuple):
    """A value as shown; ``lang`` when it is written in another language than the page's (a tenant's text)."""

    text: str
    lang: str | None = None


@dataclass(frozen=True)
class Change:
    """One setting an entry changed (``old`` None when the old value was not kept), or one fact about it."""

    label: str
    new: Value
    old: Value | None = None


@dataclass(frozen=True)
class Line:
    """An audit entry in words."""

    sentence: str
    at: datetime  # in UTC
    when: str  # the time in the reader's language
    changes: list[Change] = field(default_factory=list)

    @property
    def iso(self) -> str:
        """The time for machines (``<time datetime>``)."""
        return self.at.isoformat(timespec="seconds").replace("+00:00", "Z")


Said = tuple[str, list[Change]]


def describe(entries: list[AuditEntry]) -> list[Line]:
    """The entries in words, in the current language; actors named by their current name where they have one."""
    names = _actor_names(entries)
    return [describe_one(entry, names.get(entry.actor_id)) for entry in entries]


def describe_one(entry: AuditEntry, actor_name: str | None = None) -> Line:
    """One entry in words; never fails, whatever its details hold."""
    who = actor_name or entry.actor_email or _("The platform")
    target, details = entry.target or "", entry.details if isinstance(entry.details, dict) else {}
    say = ACTIONS.get(entry.action)
    try:
        sentence, changes = say(who, target, details) if say else _unknown(who, target, details)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        # Details of an unexpected shape (an older or newer version's): said plainly rather than not at all.
        sentence, changes = _unknown(who, target, details)
    at = entry.at or utcnow()  # not stored yet
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC back
    at = at.astimezone(timezone.utc)
    return Line(sentence, at, format_datetime(at, "long"), changes)


#: The columns of the spreadsheet: the time and the code for machines, the rest for people.
CSV_COLUMNS = ("at", "actor", "action", "sentence", "changes")


def export(tenant: Tenant) -> tuple[str, str]:
    """The whole audit log as a spreadsheet (its file name and CSV text), newest first, in the reader's
    language; the download is noted in the log first, as every export is. Made at once, not line by line as the
    commitments are: the sentences need the request's language."""
    filename = f"{tenant.slug}-audit-log-{utcnow().date().isoformat()}.csv"
    record("export.audit_log", filename)
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for entry, line in zip(entries, describe(entries)):
        changes = "; ".join(f"{change.label}: {change.old.text} → {change.new.text}" if change.old
                            else f"{change.label}: {change.new.text}" for change in line.changes)
        writer.writerow([neutralise(cell) for cell in (line.iso, entry.actor_email, entry.action, line.sentence,
                                                       changes)])
    return filename, "\ufeff" + text.getvalue()  # the mark tells spreadsheets it is UTF-8


def _actor_names(entries: list[AuditEntry]) -> dict[uuid.UUID, str]:
    ids = {entry.actor_id for entry in entries if entry.actor_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Member.id, Member.display_name).where(
        Member.id.in_(ids), Member.display_name.is_not(None), Member.display_name != "")).all())


# Values ------------------------------------------------------------------------------------------------


def _plain(value) -> str:
    """Any stored value in words: yes or no, numbers and lists as the language writes them, never a repr."""
    if value is None or value in ("", [], {}):
        return _("not set")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (int, float)):
        return format_decimal(value)
    if isinstance(value, (list, tuple)):
        return format_list([_plain(item) for item in value], locale=get_locale())
    if isinstance(value, dict):
        return format_list([f"{_humanised(key)}: {_plain(item)}" for key, item in value.items()], locale=get_locale())
    return str(value)


def _humanised(key: str) -> str:
    words = str(key).replace("_", " ").replace(".", " ").strip()
    return words[:1].upper() + words[1:]


def _language(code: str | None) -> str:
    """A language's name in the reader's language."""
    try:
        return Locale.parse(code).get_display_name(get_locale()) or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code or _("not set")


def _languages(codes) -> str:
    return format_list([_language(code) for code in codes], locale=get_locale()) if codes else _("not set")


def _day(iso: str | None) -> str:
    return format_date(date.fromisoformat(iso), "long") if iso else _("not set")


def _moment(iso: str | None) -> str:
    return format_datetime(datetime.fromisoformat(iso), "long") if iso else _("not set")


def _named(names: dict, enum, value) -> str:
    try:
        return str(names[enum(value)])
    except (ValueError, KeyError):
        return _plain(value)


def _change(label: str, new, old=None, known_old: bool = False, show=_plain) -> Change:
    """``known_old``: the entry kept the old value (which may be empty)."""
    return Change(label, Value(show(new)), Value(show(old)) if known_old else None)


def _changes(labels: dict[str, Callable[[], str]], shows: dict, new: dict, old: dict | None) -> list[Change]:
    """A change for each of ``labels`` in ``new`` (only those that differ from ``old``, when it was kept)."""
    found = []
    for key, label in labels.items():
        if key not in new or (old is not None and old.get(key) == new.get(key)):
            continue
        show = shows.get(key, _plain)
        found.append(_change(label(), new.get(key), old.get(key) if old is not None else None, old is not None, show))
    return found


def _before(details: dict) -> dict | None:
    before = details.get("before")
    return before if isinstance(before, dict) else None


# Branding ----------------------------------------------------------------------------------------------


def _colors(who, target, details) -> Said:
    before = details.get("before")
    old = dict(zip(("primary", "accent"), before)) if isinstance(before, list) and len(before) == 2 else None
    labels = {"primary": lambda: _("Primary colour (header background)"), "accent": lambda: _("Accent colour (links)")}
    return _("%(who)s changed the colours.", who=who), _changes(labels, {}, details, old)


def _languages_changed(who, target, details) -> Said:
    labels = {"enabled": lambda: _("Languages of your pages"), "default": lambda: _("Default language")}
    shows = {"enabled": _languages, "default": _language}
    return _("%(who)s changed the languages of the pages.", who=who), _changes(labels, shows, details, _before(details))


def _listed(who, target, details) -> Said:
    if details["listed"]:
        return _("%(who)s listed the organisation on the global HeForShe page.", who=who), []
    return _("%(who)s took the organisation off the global HeForShe page.", who=who), []


def _ask_age(who, target, details) -> Said:
    if details["ask_age"]:
        return _("%(who)s turned on the question of the age of digital consent.", who=who), []
    return _("%(who)s turned off the question of the age of digital consent.", who=who), []


TEXT_LABELS = {"headline": lambda: _("Headline"), "commitment_text": lambda: _("Commitment text"),
               "thank_you_text": lambda: _("Thank-you text")}


def _texts(who, target, details) -> Said:
    language = _language(target)
    before = _before(details)
    names = [name for name in TEXT_LABELS if name in details
             and (before is None or before.get(name) != details.get(name))]

    def wording(text):
        # An empty text means the standard wording, in every language.
        return Value(text, target) if text else Value(_("the standard wording"))

    changes = [Change(TEXT_LABELS[name](), wording(details.get(name)),
                      wording(before.get(name)) if before is not None else None) for name in names]
    one = {
        "headline": lambda: _("%(who)s changed the headline in %(language)s.", who=who, language=language),
        "commitment_text": lambda: _("%(who)s changed the commitment text in %(language)s.", who=who,
                                     language=language),
        "thank_you_text": lambda: _("%(who)s changed the thank-you text in %(language)s.", who=who,
                                    language=language),
    }
    if before is not None and len(names) == 1:
        return one[names[0]](), changes
    return _("%(who)s changed the texts in %(language)s.", who=who, language=language), changes


# Members -----------------------------------------------------------------------------------------------


def _role(value) -> str:
    return _named(ROLE_NAMES, Role, value)


def _member_role(who, target, details) -> Said:
    change = _change(_("Role"), details["role"], details.get("previous"), "previous" in details, _role)
    if details.get("own"):
        return _("%(who)s changed their own role.", who=who), [change]
    return _("%(who)s changed the role of %(email)s.", who=who, email=target), [change]


def _member_remove(who, target, details) -> Said:
    if details.get("withdrawn"):
        return _("%(who)s removed %(email)s and withdrew their commitment.", who=who, email=target), []
    return _("%(who)s removed %(email)s.", who=who, email=target), []


def _member_invite(who, target, details) -> Said:
    facts = [_change(_("Role"), details["role"], show=_role)]
    if details.get("expires_at"):
        facts.append(_change(_("Valid until"), details["expires_at"], show=_moment))
    return _("%(who)s invited %(email)s to the portal.", who=who, email=target), facts


def _invitation_revoke(who, target, details) -> Said:
    return (_("%(who)s withdrew the invitation of %(email)s.", who=who, email=target),
            [_change(_("Role"), details["role"], show=_role)])


def _invitation_accept(who, target, details) -> Said:
    # Whoever accepts is not signed in yet: the invitee is the one who acted.
    return (_("%(email)s accepted the invitation to the portal.", email=target),
            [_change(_("Role"), details["role"], show=_role)])


# Sign-in and sign-up -----------------------------------------------------------------------------------


CONFIRMATION_NAMES = {"off": lambda: _("Off"), "optional": lambda: _("Optional"), "required": lambda: _("Required")}


def _confirmation(value) -> str:
    return CONFIRMATION_NAMES[value]() if value in CONFIRMATION_NAMES else _plain(value)


def _email_confirmation(who, target, details) -> Said:
    change = _change(_("Email confirmation"), target, details.get("previous"), "previous" in details, _confirmation)
    return _("%(who)s changed whether people confirm their email address when they commit.", who=who), [change]


PROTOCOL_NAMES = {"oidc": "OpenID Connect", "saml": "SAML 2.0"}  # names of standards, the same in every language


def _sso_settings(who, target, details) -> Said:
    new = {**details, "protocol": target}
    labels = {"protocol": lambda: _("Protocol"), "enabled": lambda: _("People can sign in this way"),
              "issuer": lambda: _("Issuer URL"), "admin_group": lambda: _("Group whose members are admins here")}
    shows = {"protocol": lambda value: PROTOCOL_NAMES.get(value, _plain(value))}
    return _("%(who)s saved the single sign-on settings.", who=who), _changes(labels, shows, new, _before(details))


# Targets -----------------------------------------------------------------------------------------------


def _target_title(details: dict) -> str:
    """A target named as on the targets page ("500 men committed by 30 June 2030")."""
    value, deadline = int(details["value"]), _day(details["deadline"])
    # The catalog's own plural rule, with the number as the language writes it (flask_babel's ngettext would put
    # the bare number in ``num``).
    words = {"num": format_decimal(value), "deadline": deadline}
    if details["metric"] == TargetMetric.MEN.value:
        return get_translations().ungettext("%(num)s man committed by %(deadline)s",
                                            "%(num)s men committed by %(deadline)s", value) % words
    if details["metric"] == TargetMetric.ALL.value:
        return get_translations().ungettext("%(num)s commitment by %(deadline)s",
                                            "%(num)s commitments by %(deadline)s", value) % words
    return _("%(percent)s%% of eligible men committed by %(deadline)s", percent=format_decimal(value),
             deadline=deadline)


def _target_scope(details: dict) -> str:
    if not details.get("unit"):
        return _("The whole organisation")
    return details.get("unit_name") or _("One unit")


TARGET_LABELS = {"metric": lambda: _("What counts"), "value": lambda: _("Target"), "scope": lambda: _("For"),
                 "starts_on": lambda: _("Start date"), "deadline": lambda: _("Deadline"),
                 "public": lambda: _("Show this target and its progress on the sign-up page")}
TARGET_SHOWS = {"metric": lambda value: _named(METRIC_NAMES, TargetMetric, value), "starts_on": _day,
                "deadline": _day}


def _target_facts(details: dict) -> dict:
    return {**details, "scope": _target_scope(details)}


def _target_create(who, target, details) -> Said:
    return (_("%(who)s set the target %(target)s.", who=who, target=_target_title(details)),
            [_change(_("For"), _target_scope(details))])


def _target_update(who, target, details) -> Said:
    before = _before(details)
    title = _target_title(before if before is not None else details)
    changes = _changes(TARGET_LABELS, TARGET_SHOWS, _target_facts(details),
                       _target_facts(before) if before is not None else None)
    return _("%(who)s changed the target %(target)s.", who=who, target=title), changes


def _target_delete(who, target, details) -> Said:
    return (_("%(who)s deleted the target %(target)s.", who=who, target=_target_title(details)),
            [_change(_("For"), _target_scope(details))])


# Units -------------------------------------------------------------------------------------------------


def _kind(value) -> str:
    return _named(KIND_NAMES, UnitKind, value)


def _parent(name) -> str:
    return name or _("Nothing: a top-level unit")


UNIT_LABELS = {"name": lambda: _("Name"), "kind": lambda: _("Kind"), "parent": lambda: _("Part of"),
               "external_key": lambda: _("Key"), "country_code": lambda: _("Country"), "city": lambda: _("City"),
               "eligible_men": lambda: _("Eligible men"), "eligible_total": lambda: _("Eligible people in all")}
UNIT_SHOWS = {"kind": _kind, "parent": _parent,
              "country_code": lambda code: country_name(code) if code else _("No country")}


def _unit_create(who, target, details) -> Said:
    facts = [_change(_("Kind"), details["kind"], show=_kind)] if details.get("kind") else []
    if "parent" in details:
        facts.append(_change(_("Part of"), details["parent"], show=_parent))
    if details.get("key"):
        facts.append(_change(_("Key"), details["key"]))
    return _("%(who)s added the unit %(unit)s.", who=who, unit=target), facts


def _unit_update(who, target, details) -> Said:
    changes = []
    for key, (old, new) in details.get("changes", {}).items():
        if key == "parent_id":
            # Kept by earlier versions as the parents' ids, which say nothing to a reader.
            changes.append(Change(_("Part of"), Value(_("another unit"))))
            continue
        label = UNIT_LABELS.get(key, lambda key=key: _humanised(key))
        changes.append(_change(label(), new, old, True, UNIT_SHOWS.get(key, _plain)))
    return _("%(who)s changed the unit %(unit)s.", who=who, unit=target), changes


def _headcount(who, target, details) -> Said:
    old, new = details.get("before") or [None, None], details["after"]
    changes = [_change(_("Eligible men in the organisation"), new[0], old[0], "before" in details),
               _change(_("Eligible people in all (women, men and everyone else)"), new[1], old[1], "before" in details)]
    return _("%(who)s changed the organisation's eligible headcount.", who=who), changes


def _import(who, target, details) -> Said:
    facts = [_change(label, details[key]) for key, label in (
        ("units", _("Units in the file")), ("created", _("New units")), ("updated", _("Units updated")))
        if key in details]
    if target:
        return _("%(who)s imported units from %(file)s.", who=who, file=target), facts
    return _("%(who)s imported units from a file.", who=who), facts


def _registrations(who, target, details) -> Said:
    facts = [_change(label, details[key]) for key, label in (
        ("counted", _("Students counted")), ("repeat", _("Counted before")),
        ("not_opted_in", _("Did not opt in"))) if key in details]
    return _("%(who)s imported students' answers from course registration.", who=who), facts


# Action kits -------------------------------------------------------------------------------------------


def _kits_choice(who, target, details) -> Said:
    facts = [_change(label, details[key]) for key, label in (
        ("shown", _("Now listed")), ("hidden", _("No longer listed"))) if details.get(key)]
    return _("%(who)s changed which HeForShe kits the pages list.", who=who), facts


def _own_kit(message):
    """An own kit added or changed: the sentence names it, and says whether the pages show it."""
    return lambda who, target, details: (message % {"who": who, "kit": target}, [
        _change(_("Shown on the pages"), details["published"])] if "published" in details else [])


# Any other code ----------------------------------------------------------------------------------------


def _sentence(message, target_as: str | None = None) -> Callable[[str, str, dict], Said]:
    """An action said in one sentence, of who acted and (named ``target_as`` in it) its target, with no changes."""
    return lambda who, target, details: (message % {"who": who, **({target_as: target} if target_as else {})}, [])


def _unknown(who, target, details) -> Said:
    facts = [Change(_humanised(key), Value(_plain(value))) for key, value in details.items()]
    if target:
        return _("%(who)s made a change to %(target)s.", who=who, target=target), facts
    return _("%(who)s made a change.", who=who), facts


def _actions_settings(who, target, details) -> Said:
    before = details.get("before") or {}
    yes_no = lambda value: Value(_("Yes") if value else _("No"))  # noqa: E731
    changes = [Change(_("Ask which pillar people commit to"), yes_no(details["ask_pillar"]),
                      yes_no(before["ask_pillar"]) if "ask_pillar" in before else None),
               Change(_("Days before the “Did you do it?” mail"), Value(format_decimal(details["reminder_days"])),
                      Value(format_decimal(before["reminder_days"])) if "reminder_days" in before else None)]
    return _("%(who)s changed the settings of the actions.", who=who), changes


def _deprovision(who, target, details) -> Said:
    if details.get("previous_role"):
        return _("%(who)s deprovisioned %(user)s by SCIM: their portal role (%(role)s) is removed, their commitment "
                 "kept.", who=who, user=target, role=details["previous_role"]), []
    return _("%(who)s deprovisioned %(user)s by SCIM; their commitment, if any, is kept.", who=who, user=target), []


def _pledge(who, target, details) -> Said:
    cap = money(details["cap"], details["currency"])
    if details.get("kind") == "per_commitment" and details.get("amount"):
        return _("%(who)s pledged %(amount)s to UN Women for each commitment, up to %(cap)s.", who=who,
                 amount=money(details["amount"], details["currency"]), cap=cap), []
    return _("%(who)s pledged to match the gifts made through the pages, up to %(cap)s.", who=who, cap=cap), []


def _plan_change(who, target, details) -> Said:
    labels = {"plan": lambda: _("Plan"), "status": lambda: _("Payment"),
              "cancel_at_period_end": lambda: _("Ends at the end of the period paid for")}
    shows = {"plan": plans.plan_name, "status": lambda value: str(plans.STATUS_NAMES.get(value, value or "—"))}
    before = {"plan": details["previous_plan"], "status": details.get("previous_status")} \
        if "previous_plan" in details else None
    new = {key: details[key] for key in labels if key in details}
    if before is not None and "cancel_at_period_end" in new:
        before["cancel_at_period_end"] = new["cancel_at_period_end"]  # said only when it is all that changed
    sentence = _("%(who)s noted what Stripe says: the plan is now %(plan)s.", who=who, plan=target)
    return sentence, _changes(labels, shows, new, before)


#: Every action code the portal records, and how it is said: ``(who, target, details) -> (sentence, changes)``.
ACTIONS: dict[str, Callable[[str, str, dict], Said]] = {
    "billing.checkout": _sentence(_l("%(who)s chose the %(plan)s plan and went to pay for it at Stripe."), "plan"),
    "billing.plan_change": _plan_change,
    "billing.cancel": _sentence(_l("%(who)s asked to end the %(plan)s plan at the end of the period paid for."),
                                "plan"),
    "billing.resume": _sentence(_l("%(who)s asked to keep the %(plan)s plan after all."), "plan"),
    "api.key_create": _sentence(_l("%(who)s made the API key “%(key)s”."), "key"),
    "api.key_revoke": _sentence(_l("%(who)s revoked the API key “%(key)s”."), "key"),
    "provisioning.token_create": _sentence(_l("%(who)s made a SCIM token (%(token)s)."), "token"),
    "provisioning.token_revoke": _sentence(_l("%(who)s revoked a SCIM token (%(token)s)."), "token"),
    "provisioning.user_deprovision": _deprovision,
    "giving.pledge": _pledge,
    "giving.pledge_withdraw": _sentence(_l("%(who)s withdrew the match pledge.")),
    "actions.settings": _actions_settings,
    "story.publish": _sentence(_l("%(who)s published a story (“%(story)s”)."), "story"),
    "story.reject": _sentence(_l("%(who)s rejected a story (“%(story)s”)."), "story"),
    "branding.colors": _colors,
    "branding.languages": _languages_changed,
    "branding.listed": _listed,
    "branding.ask_age": _ask_age,
    "branding.texts": _texts,
    "branding.logo": _sentence(_l("%(who)s uploaded a new logo.")),
    "branding.favicon": _sentence(_l("%(who)s uploaded a new favicon.")),
    "branding.logo_removed": _sentence(_l("%(who)s removed the logo.")),
    "branding.favicon_removed": _sentence(_l("%(who)s removed the favicon.")),
    "branding.hero": _sentence(_l("%(who)s uploaded a new image for the sign-up page.")),
    "branding.hero_removed": _sentence(_l("%(who)s removed the sign-up page's image.")),
    "branding.domain_added": _sentence(_l("%(who)s added the domain %(domain)s."), "domain"),
    "branding.domain_removed": _sentence(_l("%(who)s removed the domain %(domain)s."), "domain"),
    "branding.domain_verified": _sentence(
        _l("%(who)s proved that the domain %(domain)s is the organisation's."), "domain"),
    "export.commitments": _sentence(_l("%(who)s downloaded the commitments (%(file)s)."), "file"),
    "export.aggregates": _sentence(_l("%(who)s downloaded the counts (%(file)s)."), "file"),
    "export.audit_log": _sentence(_l("%(who)s downloaded the audit log (%(file)s)."), "file"),
    "member.role": _member_role,
    "member.remove": _member_remove,
    "member.invite": _member_invite,
    "member.invitation_revoke": _invitation_revoke,
    "member.invitation_accept": _invitation_accept,
    "member.own_download": _sentence(_l("%(email)s downloaded their own data."), "email"),
    "member.own_withdraw": _sentence(_l("%(email)s withdrew their commitment."), "email"),
    "signup.email_confirmation": _email_confirmation,
    "sso.settings": _sso_settings,
    "sso.domain_proven": _sentence(
        _l("%(who)s proved that the email domain %(domain)s is the organisation's."), "domain"),
    "target.create": _target_create,
    "target.update": _target_update,
    "target.delete": _target_delete,
    "unit.create": _unit_create,
    "unit.update": _unit_update,
    "unit.delete": _sentence(_l("%(who)s deleted the unit %(unit)s."), "unit"),
    "units.headcount": _headcount,
    "units.import": _import,
    "registrations.import": _registrations,
    "lti.platform": _sentence(_l("%(who)s registered a learning platform for the LTI tool.")),
    "lti.course": _sentence(_l("%(who)s set the unit of a course in the learning platform.")),
    "registrations.widget": _sentence(_l("%(who)s set the key and the embedding pages of the course registration "
                                         "opt-in.")),
    "kits.choice": _kits_choice,
    "kits.own_create": _own_kit(_l("%(who)s wrote the kit “%(kit)s”.")),
    "kits.own_update": _own_kit(_l("%(who)s changed the kit “%(kit)s”.")),
    "kits.own_delete": _sentence(_l("%(who)s deleted the kit “%(kit)s”."), "kit"),
    "webhook.create": _sentence(_l("%(who)s added the webhook endpoint %(url)s."), "url"),
    "webhook.delete": _sentence(_l("%(who)s removed the webhook endpoint %(url)s."), "url"),
    "webhook.enable": _sentence(_l("%(who)s turned the webhook endpoint %(url)s back on."), "url"),
    "webhook.resend": _sentence(_l("%(who)s sent an event again to the webhook endpoint %(url)s."), "url"),
}
