"""Whatever a query string or a path holds, no page answers 5xx: every GET route of the URL map, every
parameter its view reads, NUL bytes, huge and negative numbers, lone surrogates, very long text, any script."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.tenancy import tenant_context
from tenants.models import Role, TenantText
from tenants.sso import services as sso
from tenants.sso.models import Protocol
from tests.helpers import csrf_token, host

ROOT = Path(__file__).resolve().parents[2]

#: The query parameters each view reads (its own code, or the library it hands the request to).
QUERY_PARAMETERS = {
    "core.map_page": ["unit"],
    "core.map_json": ["unit"],
    "core.places_json": ["country", "q"],
    "snapshots.index": ["page"],
    "portal_dashboard.show": ["units_page"],
    "portal_members.index": ["q", "page"],
    "portal_targets.index": ["page"],
    "portal_units.index": ["page"],
    "portal_units.add": ["parent"],
    "tenant_portal.audit": ["page"],
    "tenant_portal.sign_in": ["next"],
    "sso.login": ["next", "login_hint"],
    "sso.oidc_callback": ["code", "state", "error", "error_description", "iss"],  # read by authlib
    "sso.saml_sls": ["SAMLResponse", "RelayState", "SigAlg", "Signature"],  # what an identity provider sends
    "sso.oidc_initiate": ["iss", "login_hint", "target_link_uri"],  # what an app launcher sends
    "registration_widget.show": ["token"],
    "lti.login": ["iss", "client_id", "login_hint", "lti_message_hint"],  # a learning platform's login
    "lti.commit_page": ["launch"],
    "tenants.thanks": ["anonymous"],
    "actions.answered": ["answer"],
    # read by scim2-server, once the SCIM token is good (tests/tenant_portal/test_provisioning.py sends them with one)
    "scim.endpoint": ["filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder"],
    "tenants.card": ["lang"],  # the card's language, not the visitor's choice
    "giving.give": ["currency"],
    "kits.index": ["audience", "pillar"],
}
#: Read on every page: the language choice; and one nobody reads.
EVERY_PAGE = ["lang", "unexpected"]

HOSTILE = [
    "\x00", "a\x00b", "\ud800", "\udfff", "\ufeff", "\u202e", "99999999999999999999", "9" * 5000, "-1",
    "-99999999999999999999", "0", "1e309", "nan", "0x10", "١٢", " 3 ", "", "%", "_", "\\", "' OR 1=1 --",
    "x" * 20_000, "../../etc/passwd", "//evil.example", "//[", "[", "https://evil.example/", "javascript:alert(1)",
    "00000000-0000-0000-0000-000000000000", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ﷺ", "中文", "\r\nSet-Cookie: x=1",
]

any_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=()), max_size=40),  # every code point, lone surrogates included
    st.integers().map(str),
    st.builds(lambda character, times: character * times, st.characters(exclude_categories=()),
              st.integers(1000, 30_000)),
)


def encoded(value: str) -> str:
    """A value as a hostile client would put it in a URL: percent-encoded bytes, lone surrogates included."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def get_routes(app) -> list:
    """Every rule of the URL map that answers GET (less the tests' own sign-in route)."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint != "test_sign_in"), key=lambda r: r.rule)


ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


def path_for(rule, value: str) -> str:
    """The rule's path with ``value`` in each string argument (a fresh id in uuid and int ones)."""
    path = rule.rule
    for converter, name in ARGUMENT.findall(rule.rule):
        filler = {"uuid": str(uuid.uuid4()), "int": "7"}.get(converter, encoded(value))
        path = re.sub(rf"<(?:\w+:)?{name}>", lambda _: filler, path)
    return path


def url(rule, parameters: dict[str, str], path_value: str = "x") -> str:
    query = "&".join(f"{encoded(name)}={encoded(value)}" for name, value in parameters.items())
    return path_for(rule, path_value) + (f"?{query}" if query else "")


def status(client, base_url: str, target: str) -> int:
    response = client.get(target, base_url=base_url)
    response.close()  # /live streams until closed
    return response.status_code


@pytest.fixture
def site(app, client, db, make_tenant, make_unit, make_commitment, sign_in_as, movement):
    """Acme, with a unit, a commitment and an unreachable OpenID provider, and its admin's browser, which is
    also signed in to the movement (open) on the global host; unexpected errors answered with a 500 page as in
    production, so that the status is what is checked."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    acme = make_tenant("acme", "Acme Corporation")
    make_commitment(acme, unit=make_unit(acme, "Paris office"))
    with tenant_context(acme):
        sso.configure(acme, Protocol.OIDC, sso.Mapping("email", "name", None, "groups", None, [], None),
                      oidc=sso.OidcSettings("http://127.0.0.1:9", "acme", "secret"))
        db.session.commit()
    sign_in_as(acme, Role.ADMIN, client=client)
    make_commitment(movement, "sam@example.org")
    sign_in_as(movement, Role.MEMBER, email="sam@example.org", client=client)
    return app, client


READS_A_PARAMETER = re.compile(r"""(?:request\.args\.get|page_number|search_text)\(\s*["'](\w+)["']""")


def test_every_parameter_a_view_reads_is_fuzzed():
    read = set()
    for package in ("core", "tenants", "tenant_portal", "billing"):
        for source in (ROOT / package).rglob("*.py"):
            read |= set(READS_A_PARAMETER.findall(source.read_text()))
    assert read <= {name for names in QUERY_PARAMETERS.values() for name in names} | set(EVERY_PAGE)


@pytest.mark.parametrize("base_url", [host("acme"), host()], ids=["tenant-admin", "global"])
def test_known_hostile_values_in_every_parameter_and_path(site, base_url):
    """Each known hostile value in each parameter a view reads, and in each free-text path argument
    (the language and unknown parameters are read the same way on every page: tried on the home page)."""
    app, client = site
    targets = []
    for rule in get_routes(app):
        names = QUERY_PARAMETERS.get(rule.endpoint, []) + (EVERY_PAGE if rule.rule == "/" else [])
        targets += [url(rule, {name: value}) for name in names for value in HOSTILE]
        if any(converter not in ("uuid", "int") for converter, _ in ARGUMENT.findall(rule.rule)):
            targets += [url(rule, {}, path_value=value) for value in HOSTILE]
    failures = [f"{target[:120]}: {code}" for target in targets if (code := status(client, base_url, target)) >= 500]
    assert not failures, "\n".join(failures)


hosts = st.sampled_from([host("acme"), host()])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), base_url=hosts)
def test_random_values_in_every_parameter_and_path(site, data, base_url):
    app, client = site
    rule = data.draw(st.sampled_from(get_routes(app)), label="route")
    names = QUERY_PARAMETERS.get(rule.endpoint, []) + EVERY_PAGE
    parameters = data.draw(st.dictionaries(st.sampled_from(names), any_text, max_size=len(names)), label="query")
    target = url(rule, parameters, data.draw(any_text, label="path value"))
    assert status(client, base_url, target) < 500, target[:300]


def test_a_nul_byte_in_a_form_is_refused_before_anything_is_stored(client, db, make_tenant, sign_in_as):
    acme = make_tenant("acme", "Acme Corporation")
    sign_in_as(acme, Role.ADMIN, client=client)
    page = client.get("/portal/branding", base_url=host("acme")).get_data(as_text=True)
    answer = client.post("/portal/branding", base_url=host("acme"), data={
        "csrf_token": csrf_token(page), "primary_color": "#5b2a86", "accent_color": "#00758d",
        "enabled_languages": ["en"], "default_language": "en", "texts_en-headline": "Acme\x00 for equality"})
    assert answer.status_code == 400
    assert "Please use letters, digits and ordinary punctuation only." in answer.get_data(as_text=True)
    with tenant_context(acme):
        assert db.session.scalars(select(TenantText.headline)).all() == []
