"""The audit log in words: every recorded action as a sentence in the reader's language, old → new values,
times for the language, a fallback for codes of a newer version; the page on a phone."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from core.i18n import LANGUAGES
from core.tenancy import tenant_context
from tenant_portal.audit import ACTIONS, describe_one
from tenant_portal.models import AuditEntry
from tenant_portal.targets import services as targets
from tenants.models import Member, Role, TargetMetric
from tests.helpers import BASE_DOMAIN, csrf_token, host

ROOT = Path(__file__).resolve().parents[2]
ACME = host("acme")
AT = datetime(2026, 12, 4, 20, 15, tzinfo=timezone.utc)
UNIT_ID, PARENT_ID, TARGET_ID = ("0193a0de-0000-7000-8000-00000000000" + str(n) for n in (1, 2, 3))
TARGET = {"metric": "men", "value": 500, "unit": UNIT_ID, "unit_name": "Paris office", "starts_on": None,
          "deadline": "2030-06-30", "public": False}

#: A typical entry of each action code, as its service records it today: (target, details).
SAMPLES = {
    "billing.checkout": ("Partner", {"plan": "partner"}),
    "billing.plan_change": ("Partner", {"plan": "partner", "status": "past_due", "cancel_at_period_end": False,
                                        "previous_plan": "partner", "previous_status": "active"}),
    "billing.cancel": ("Partner", {"plan": "partner"}),
    "billing.resume": ("Partner", {"plan": "partner"}),
    "actions.settings": ("acme", {"ask_pillar": False, "reminder_days": 21,
                                  "before": {"ask_pillar": True, "reminder_days": 14}}),
    "story.publish": ("I asked how pay is set at work", {"story_id": "0190a1b2-0000-7000-8000-000000000003"}),
    "story.reject": ("I asked how pay is set at work", {"story_id": "0190a1b2-0000-7000-8000-000000000003"}),
    "api.key_create": ("HR portal", {"key_id": "0190a1b2-0000-7000-8000-000000000001", "scopes": ["stats:read"]}),
    "api.key_revoke": ("HR portal", {"key_id": "0190a1b2-0000-7000-8000-000000000001"}),
    "provisioning.token_create": ("3f9a0c1d2e4b", {"token_id": "0190a1b2-0000-7000-8000-000000000002"}),
    "provisioning.token_revoke": ("3f9a0c1d2e4b", {"token_id": "0190a1b2-0000-7000-8000-000000000002"}),
    "provisioning.user_deprovision": ("sam@acme.example", {"user_id": "0190a1b2c3d4", "previous_role": "admin"}),
    "giving.pledge": ("per_commitment", {"kind": "per_commitment", "amount": 200, "cap": 1_000_000, "currency": "USD"}),
    "giving.pledge_withdraw": (None, {}),
    "branding.colors": ("acme", {"primary": "#1f4e8c", "accent": "#005a70", "before": ["#5b2a86", "#00758d"]}),
    "branding.languages": ("acme", {"enabled": ["en", "fr"], "default": "fr",
                                    "before": {"enabled": ["en"], "default": "en"}}),
    "branding.listed": ("acme", {"listed": False}),
    "branding.ask_age": ("acme", {"ask_age": True}),
    "branding.texts": ("fr", {"headline": "Nouveau titre", "commitment_text": None, "thank_you_text": None,
                              "before": {"headline": "Ancien titre", "commitment_text": None, "thank_you_text": None}}),
    "branding.logo": ("acme", {"bytes": 1234, "mime": "image/png"}),
    "branding.favicon": ("acme", {"bytes": 345}),
    "branding.logo_removed": ("acme", {}),
    "branding.hero": ("acme", {"bytes": 123456, "mime": "image/jpeg"}),
    "branding.hero_removed": ("acme", {}),
    "lti.platform": ("northfield", {"issuer": "https://lms.northfield.example", "client_id": "heforshe",
                                    "deployments": ["1"]}),
    "lti.course": ("northfield", {"course": "Law 101", "unit": "Faculty of Law"}),
    "registrations.widget": ("northfield", {"origins": ["https://registration.northfield.example"]}),
    "registrations.import": ("northfield", {"counted": 40, "repeat": 2, "not_opted_in": 9, "refused": 0}),
    "branding.favicon_removed": ("acme", {}),
    "branding.domain_added": ("join.acme.example", {}),
    "branding.domain_removed": ("join.acme.example", {"verified": True}),
    "branding.domain_verified": ("join.acme.example", {}),
    "export.commitments": ("acme-commitments-2026-12-04.csv", {}),
    "export.aggregates": ("acme-aggregates-2026-12-04.csv", {"k": 10}),
    "export.audit_log": ("acme-audit-log-2026-12-04.csv", {}),
    "member.role": ("sam@acme.example", {"role": "viewer", "previous": "admin", "own": False}),
    "member.remove": ("sam@acme.example", {"withdrawn": True}),
    "member.invite": ("grace@acme.example", {"role": "viewer", "expires_at": "2026-12-11T20:15:00+00:00"}),
    "member.invitation_revoke": ("grace@acme.example", {"role": "viewer"}),
    "member.invitation_accept": ("grace@acme.example", {"role": "admin"}),
    "member.own_download": ("sam@acme.example", {}),
    "member.own_withdraw": ("sam@acme.example", {}),
    "signup.email_confirmation": ("required", {"previous": "optional"}),
    "sso.settings": ("saml", {"issuer": None, "enabled": True, "admin_group": "portal-admins",
                              "before": {"protocol": "oidc", "issuer": "https://login.acme.example",
                                         "enabled": False, "admin_group": None}}),
    "sso.domain_proven": ("acme.example", {}),
    "target.create": (TARGET_ID, TARGET),
    "target.update": (TARGET_ID, {**TARGET, "value": 600, "unit": None, "unit_name": None, "before": TARGET}),
    "target.delete": (TARGET_ID, TARGET),
    "unit.create": ("Lyon office", {"unit_id": UNIT_ID, "key": "lyon", "kind": "office", "parent_id": PARENT_ID,
                                    "parent": "France"}),
    "unit.update": ("Lyon campus", {"unit_id": UNIT_ID, "changes": {
        "name": ["Lyon office", "Lyon campus"], "kind": ["office", "campus"], "parent": ["France", None],
        "country_code": ["FR", "DE"], "eligible_men": [None, 120]}}),
    "unit.delete": ("Lyon campus", {"unit_id": UNIT_ID, "key": "lyon"}),
    "units.headcount": ("Acme Corporation", {"before": [None, None], "after": [800, 2000]}),
    "units.import": ("units.csv", {"units": 5, "created": 3, "updated": 2}),
    "kits.choice": (None, {"shown": ["balanced-panels"], "hidden": ["speak-up", "share-the-care"]}),
    "kits.own_create": ("Our helplines", {"slug": "our-helplines", "published": True}),
    "kits.own_update": ("Our helplines", {"slug": "our-helplines", "published": False}),
    "kits.own_delete": ("Our helplines", {"slug": "our-helplines"}),
    "webhook.create": ("https://hr.acme.example/in", {"events": ["commitment.created"], "personal_data": False}),
    "webhook.delete": ("https://hr.acme.example/in", {}),
    "webhook.enable": ("https://hr.acme.example/in", {}),
    "webhook.resend": ("https://hr.acme.example/in", {"event": "commitment.created", "event_id": "msg_1"}),
}
#: Codes whose sentence names the person in the target (they acted on their own behalf).
SAID_BY_THE_TARGET = {"member.invitation_accept", "member.own_download", "member.own_withdraw"}


def recorded_codes() -> set[str]:
    """Every action code a ``record("...")`` call in the source writes."""
    codes = set()
    for package in ("core", "tenants", "tenant_portal", "billing"):
        for path in (ROOT / package).rglob("*.py"):
            codes |= set(re.findall(r'\brecord\(\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    return codes


def test_every_recorded_code_has_a_sentence():
    codes = recorded_codes()
    assert len(codes) > 30, "the source is scanned"
    assert codes - ACTIONS.keys() == set(), "recorded, but the audit log cannot say it"
    assert ACTIONS.keys() - codes == set(), "said, but no longer recorded"
    assert SAMPLES.keys() == codes, "each code has a sample in this test"


def words(line) -> list[str]:
    return [line.sentence] + [text for change in line.changes
                              for text in (change.label, change.new.text, change.old.text if change.old else "")]


def entry(code: str, target: str | None, details: dict, actor_email: str | None = "maria@acme.example"):
    return AuditEntry(action=code, target=target, details=details, at=AT, actor_email=actor_email)


@pytest.mark.parametrize("code", sorted(recorded_codes()))
def test_each_code_reads_as_a_sentence_in_english_french_and_arabic(app, code):
    target, details = SAMPLES[code]
    for language in ("en", "fr", "ar"):
        with app.test_request_context(), force_locale(language):
            said = ACTIONS[code]("Maria", target, details)  # called directly: a describer that fails shows here
            line = describe_one(entry(code, target, details), "Maria")
            as_stored_before = describe_one(entry(code, target, {}))  # an older version's entry, details missing
            by_the_platform = describe_one(entry(code, target, details, actor_email=None))
        assert (line.sentence, line.changes) == said
        for shown in (line, as_stored_before, by_the_platform):
            for text in words(shown):
                assert not {"{", "}"} & set(text) and "%(" not in text and "None" not in text, (language, text)
                assert code not in text, (language, text)
        assert (target if code in SAID_BY_THE_TARGET else "Maria") in line.sentence, language
        assert line.iso == "2026-12-04T20:15:00Z"


def test_times_and_language_names_follow_the_reader(app):
    target, details = SAMPLES["branding.languages"]
    with app.test_request_context():
        with force_locale("fr"):
            line = describe_one(entry("branding.languages", target, details), "Maria")
        assert "4 décembre 2026" in line.when
        assert [(c.old.text, c.new.text) for c in line.changes] == [("anglais", "anglais et français"),
                                                                   ("anglais", "français")]
        with force_locale("en"):
            line = describe_one(entry("branding.languages", target, details), "Maria")
        assert "December 4, 2026" in line.when
        assert [(c.old.text, c.new.text) for c in line.changes] == [("English", "English and French"),
                                                                   ("English", "French")]


def test_a_code_of_a_newer_version_reads_as_a_plain_sentence(app):
    details = {"plan": "pro", "seats": 12, "auto_renew": True, "limits": {"units": 5}}
    with app.test_request_context(), force_locale("en"):
        line = describe_one(entry("billing.plan_changed", "Pro plan", details), "Maria")
    assert line.sentence == "Maria made a change to Pro plan."
    assert [(c.label, c.new.text) for c in line.changes] == [
        ("Plan", "pro"), ("Seats", "12"), ("Auto renew", "Yes"), ("Limits", "Units: 5")]


# The page ----------------------------------------------------------------------------------------------


@pytest.fixture
def acme_admin(client, db, make_tenant, sign_in_as):
    """Acme, with its admin Maria signed in on the client."""
    acme = make_tenant("acme", "Acme Corporation")
    member_id = sign_in_as(acme, Role.ADMIN, email="maria@acme.example", client=client)
    with tenant_context(acme):
        db.session.scalars(select(Member).where(Member.id == member_id)).one().display_name = "Maria Santos"
        db.session.commit()
    return acme


def the_log(client, query: str = "") -> str:
    response = client.get(f"/portal/audit{query}", base_url=ACME)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    start = page.index('<ol class="audit-log"')
    return page[start:page.index("</ol>", start)]


def save_french_headline(client, headline: str) -> None:
    page = client.get("/portal/branding", base_url=ACME).get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "primary_color": "#5b2a86", "accent_color": "#00758d",
            "enabled_languages": list(LANGUAGES), "default_language": "en", "listed": "y",
            "texts_fr-headline": headline}
    assert client.post("/portal/branding", base_url=ACME, data=form).status_code == 303


def test_a_headline_changed_in_french_shows_old_and_new_for_a_french_reader(client, db, acme_admin):
    save_french_headline(client, "Acme s’engage")
    save_french_headline(client, "Acme s’engage pour l’égalité")
    log = the_log(client, "?lang=fr")
    newest = log[log.index("<li>"):log.index("</li>")]
    sentence = re.search(r'<p class="audit-sentence">([^<]*)</p>', newest).group(1)
    assert "Maria Santos" in sentence and "français" in sentence
    assert "<dt>Titre</dt>" in newest  # the branding form's label, in French
    assert re.search(r'<span class="audit-old"><span lang="fr" dir="ltr">Acme s’engage</span></span> '
                     r'<span aria-hidden="true">→</span><span class="visually-hidden"> [^<]+ </span> '
                     r'<span class="audit-new"><span lang="fr" dir="ltr">Acme s’engage pour l’égalité</span>', newest)
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">[^<]*20\d\d', newest)
    assert "branding.texts" not in log and "{" not in log
    first = log[log.index("</li>"):].split("</li>")[1]
    assert "Acme s’engage" in first and "audit-old" in first, "the first text replaced the standard wording"


def test_the_arrow_points_the_way_arabic_reads(client, acme_admin):
    save_french_headline(client, "Un")
    save_french_headline(client, "Deux")
    log = the_log(client, "?lang=ar")
    assert '<span aria-hidden="true">←</span>' in log and "→" not in log


def test_a_target_change_keeps_its_old_values(client, db, acme_admin):
    with tenant_context(acme_admin):
        data = targets.TargetData(None, TargetMetric.MEN, 500, None, date(2030, 6, 30), False)
        target = targets.create_target(acme_admin, data, today=date(2026, 12, 4))
        targets.update_target(acme_admin, target, dataclasses.replace(data, value=600), today=date(2026, 12, 4))
        db.session.commit()
    log = the_log(client)
    newest = log[log.index("<li>"):log.index("</li>")]
    assert "changed the target 500 men committed by June 30, 2030" in newest
    assert re.search(r"<dt>Target</dt>\s*<dd><span class=\"audit-old\">500</span>.*changed to.*600", newest)


def test_an_entry_of_an_unknown_kind_shows_without_a_dictionary(client, db, acme_admin):
    with tenant_context(acme_admin):
        db.session.add(AuditEntry(action="billing.plan_changed", target="Pro plan", details={"limits": {"units": 5}}))
        db.session.commit()
    log = the_log(client)
    assert "made a change to Pro plan." in log and "Units: 5" in log and "{" not in log


def test_the_empty_log_says_what_will_be_listed(client, acme_admin):
    page = client.get("/portal/audit", base_url=ACME).get_data(as_text=True)
    assert "Nothing has been changed yet." in page and "audit-log" not in page


def test_the_log_reads_on_a_narrow_phone_and_passes_accessibility_checks(page, axe, db, acme_admin, sign_in_as):
    with tenant_context(acme_admin):
        for code, (target, details) in SAMPLES.items():
            db.session.add(AuditEntry(action=code, target=target, details=details, actor_email="maria@acme.example"))
        db.session.commit()
    sign_in_as(acme_admin, Role.ADMIN, email="root@acme.example", page=page)
    page.set_viewport_size({"width": 320, "height": 640})
    per_page = 50  # the log's pages: every sample is on one of the first two
    for language in ("en", "ar"):
        for number in range(1, -(-len(SAMPLES) // per_page) + 1):
            page.goto(f"http://acme.{BASE_DOMAIN}:{page.port}/portal/audit?lang={language}&page={number}")
            expected = min(per_page, len(SAMPLES) - (number - 1) * per_page)
            expect(page.locator(".audit-log > li")).to_have_count(expected)
            assert axe(page) == [], f"the audit log in {language}, page {number}"
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, "nothing wider than the screen"


def test_admins_download_the_log_as_a_spreadsheet_in_their_language(client, acme_admin):
    save_french_headline(client, "Acme s’engage")
    response = client.get("/portal/audit.csv?lang=fr", base_url=ACME)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="acme-audit-log-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0] == ["at", "actor", "action", "sentence", "changes"]
    downloaded, texts = rows[1:]
    assert downloaded[1:3] == ["maria@acme.example", "export.audit_log"], "the download is recorded first"
    assert texts[2] == "branding.texts" and "Maria Santos" in texts[3] and "français" in texts[3]
    assert texts[4].startswith("Titre: ") and texts[4].endswith(" → Acme s’engage")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", texts[0])


def test_viewers_cannot_download_the_log(client, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.VIEWER, client=client)
    assert client.get("/portal/audit.csv", base_url=ACME).status_code == 403
