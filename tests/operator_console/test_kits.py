"""The operators' action kits: adding, translating and publishing them, which translations are missing or out of
date, and the audit log of it."""

from __future__ import annotations

import re

from sqlalchemy import select

from operator_console.models import OperatorAuditEntry
from tenants.kits.models import Kit
from tests.helpers import csrf_token
from tests.operator_console.conftest import GLOBAL

ENGLISH = {"text_en-title": "Mentor a woman colleague", "text_en-summary": "Share what you know, every month.",
           "text_en-body": "## Why it matters\n\nSponsors open doors.\n\n## Steps\n\n1. **Offer an hour a month.**"}


def save(client, path: str, **fields):
    page = client.get(path, base_url=GLOBAL).get_data(as_text=True)
    return client.post(path, base_url=GLOBAL, data={"csrf_token": csrf_token(page), **fields})


def test_an_operator_adds_a_kit_and_publishes_it_to_every_site(signed_in_operator, client, db):
    added = save(client, "/operator/kits/new", slug="Mentor-A-Colleague", audience="corporation", pillar="leadership",
                 **ENGLISH, **{"text_fr-title": "Parrainez une collègue", "text_fr-summary": "Chaque mois.",
                               "text_fr-body": "Ouvrez des portes."})
    assert added.status_code == 303
    kit = db.session.scalars(select(Kit)).one()
    assert (kit.slug, kit.published, sorted(t.language for t in kit.translations)) == (
        "mentor-a-colleague", False, ["en", "fr"])
    assert client.get("/kits/mentor-a-colleague", base_url=GLOBAL).status_code == 404, "not published yet"
    listing = client.get("/operator/kits", base_url=GLOBAL).get_data(as_text=True)
    assert "Mentor a woman colleague" in listing and "<td>en fr</td>" in listing

    path = f"/operator/kits/{kit.id}"
    form = client.get(path, base_url=GLOBAL).get_data(as_text=True)
    assert re.search(r'<textarea[^>]* dir="rtl" id="text_ar-body" lang="ar"', form), "Arabic is typed right to left"
    assert save(client, path, audience="corporation", pillar="leadership", published="y", **ENGLISH,
                **{"text_fr-title": "", "text_fr-summary": "", "text_fr-body": ""}).status_code == 303
    db.session.expire_all()
    assert [t.language for t in db.session.get(Kit, kit.id).translations] == ["en"], "the emptied French is gone"
    page = client.get("/kits/mentor-a-colleague?lang=fr", base_url=GLOBAL).get_data(as_text=True)
    assert "Mentor a woman colleague" in page and "pas encore traduit en français" in page
    entries = db.session.execute(
        select(OperatorAuditEntry.action, OperatorAuditEntry.target, OperatorAuditEntry.details)
        .where(OperatorAuditEntry.action.like("kit.%")).order_by(OperatorAuditEntry.id)).all()
    assert [(action, target, details["languages"]) for action, target, details in entries] == [
        ("kit.created", "mentor-a-colleague", ["en", "fr"]), ("kit.changed", "mentor-a-colleague", ["fr"])]


def test_a_kit_is_refused_without_english_with_half_a_translation_or_a_taken_address(signed_in_operator, client, db):
    no_english = save(client, "/operator/kits/new", slug="x", audience="ngo", pillar="peace",
                      **{"text_es-title": "Solo en español", "text_es-summary": "Uno.", "text_es-body": "Dos."})
    assert no_english.status_code == 400
    assert "Every kit needs its English text" in no_english.get_data(as_text=True)
    half = save(client, "/operator/kits/new", slug="y", audience="ngo", pillar="peace", **ENGLISH,
                **{"text_zh-title": "只有标题"})
    assert half.status_code == 400 and "Please fill in this field too" in half.get_data(as_text=True)
    assert save(client, "/operator/kits/new", slug="z", audience="ngo", pillar="peace", **ENGLISH).status_code == 303
    taken = save(client, "/operator/kits/new", slug="z", audience="ngo", pillar="peace", **ENGLISH)
    assert taken.status_code == 400 and "Another kit has this address already." in taken.get_data(as_text=True)
    bad = save(client, "/operator/kits/new", slug="no spaces!", audience="ngo", pillar="peace", **ENGLISH)
    assert bad.status_code == 400 and "lower-case letters" in bad.get_data(as_text=True)
    assert db.session.scalars(select(Kit.slug)).all() == ["z"]


def test_the_coverage_page_says_which_translation_is_missing_or_older_than_the_english(signed_in_operator, client,
                                                                                         db):
    french = {"text_fr-title": "Parrainez", "text_fr-summary": "Chaque mois.", "text_fr-body": "Ouvrez des portes."}
    save(client, "/operator/kits/new", slug="mentor", audience="individual", pillar="economic", **ENGLISH, **french)
    kit_id = db.session.scalar(select(Kit.id))

    def states() -> list[str]:
        page = client.get("/operator/kits/coverage", base_url=GLOBAL).get_data(as_text=True)
        return re.findall(r'<td class="coverage-(\w+)">', page)

    assert states() == ["ok", "missing", "missing", "missing", "missing"]  # fr es ar zh ru
    save(client, f"/operator/kits/{kit_id}", audience="individual", pillar="economic", **french,
         **{**ENGLISH, "text_en-body": ENGLISH["text_en-body"] + "\n2. **Introduce her to your network.**"})
    assert states() == ["outdated", "missing", "missing", "missing", "missing"]
    page = client.get("/operator/kits/coverage?lang=ar", base_url=GLOBAL).get_data(as_text=True)
    assert "الفرنسية" in page, "languages named in the reader's language"
