"""Helpers for driving the site as a browser would."""

from __future__ import annotations

import html
import re

from core.consent_age import consent_age

BASE_DOMAIN = "hfs.test"


def host(slug: str | None = None) -> str:
    """The base URL of a tenant's site (or of the global site) in tests."""
    return f"http://{slug + '.' if slug else ''}{BASE_DOMAIN}"


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(page: str) -> str:
    """The CSRF token in a rendered form."""
    match = CSRF_PATTERN.search(page)
    assert match, "the page has no CSRF token"
    return match.group(1)


HIDDEN_PATTERN = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of a rendered form (its CSRF token, the sign-up form's render time), as a browser sends
    them."""
    return {name: html.unescape(value) for name, value in HIDDEN_PATTERN.findall(page)}


def sign_up(client, slug: str, path: str = "/", **fields):
    """Fill in the sign-up form as a browser would (its hidden fields included) and post it at once: faster than a
    person, so the commitment is noted as suspect ("too_fast", tenants/services/screening.py) and counted."""
    page = client.get(path, base_url=host(slug))
    form = {**hidden_fields(page.get_data(as_text=True)), "email": "sam@example.org", "gender": "man",
            "country": "FR", "consent": "y"}
    form.update({k: v for k, v in fields.items() if v is not None})
    if 'name="old_enough"' in page.get_data(as_text=True) and not {"old_enough", "asked_age"} & fields.keys():
        # a form asking the age, and the test says nothing of it: old enough
        form = {"old_enough": "yes", "asked_age": str(consent_age(form.get("country"))), **form}
    for key in [k for k, v in fields.items() if v is None]:
        form.pop(key, None)
    return client.post(path, base_url=host(slug), data=form)


REFRESH_PATTERN = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)">')


def continues_to(response) -> str:
    """Where a "continue" page (``core.navigation``: the answer to a form that leads to another host) goes."""
    assert response.status_code == 200
    match = REFRESH_PATTERN.search(response.get_data(as_text=True))
    assert match, "the page does not move on by itself"
    return html.unescape(match.group(1))


def chart_labels(page, chart: str) -> list[list]:
    """The texts drawn on a chart (an SVG): each one's direction, whether it lies inside the chart, and whether its
    first character is drawn to the left of its last (not so for a date set right to left, as in Arabic)."""
    return page.locator(chart).evaluate("""svg => {
        const box = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].map(text => {
            const drawn = text.getBoundingClientRect(), last = text.getNumberOfChars() - 1;
            return [getComputedStyle(text).direction, drawn.left >= box.left - 1 && drawn.right <= box.right + 1,
                    text.getExtentOfChar(0).x < text.getExtentOfChar(last).x];
        });
    }""")
