"""The Commitments API, version 1 (``/api/v1`` on a partner's host), and its OpenAPI document and reference page.

Keys come in ``Authorization: Bearer`` only. Every answer under ``/api/`` that is an error is a problem
details document (``problems.py``). flask-smorest validates requests with the marshmallow schemas of
``schemas.py`` and writes the OpenAPI 3.1 document from the same schemas.
"""

from __future__ import annotations

import http
import threading
from collections.abc import Callable
from functools import wraps

from apispec import APISpec
from flask import Blueprint as FlaskBlueprint
from flask import abort, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_smorest import Api, Blueprint
from flask_smorest import abort as refuse
from flask_smorest.spec import openapi_cli
from flask_smorest.utils import prepare_response
from werkzeug.routing import Rule

from core import errors, ratelimits, stats
from core.rollup.models import Gender, Source
from core.rollup.services import as_utc
from tenant_portal.api import problems, schemas, services
from tenant_portal.registrations import services as registrations
from tenant_portal.units import services as units
from tenants import plans
from tenants.models import UnitKind
from tenants.services import places, signups
from tenants.services.signups import SignUp

#: The longest unit key (``Unit.external_key``).
MAX_UNIT_KEY = 200
#: Query parameters that would put a key in an address (logs, browser history, Referer headers).
KEY_PARAMETERS = frozenset({"access_token", "api_key", "apikey", "key", "token"})


class _Api(Api):
    """flask-smorest, with errors left to this package (problem details, under ``/api/`` only) rather than
    answered as its JSON for the whole site, and its OpenAPI document built when first asked for: building it was
    half of what making the app cost, paid by every worker, command and test that never shows it."""

    def __init__(self, app, *, spec_kwargs: dict, document: Callable[[APISpec], None]):
        self._ready: APISpec | None = None  # the whole document, once built
        self._built: APISpec | None = None  # the document being built (flask-smorest assigns ``spec`` itself)
        self._building = threading.RLock()  # building reads `spec` itself
        self._documented: list[tuple[Blueprint, str, list | None]] = []  # blueprints to describe, when it is built
        self._document = document  # what init_app adds to the document beside the views
        super().__init__(app, spec_kwargs=spec_kwargs)

    @property
    def spec(self) -> APISpec:
        with self._building:
            if self._ready is not None:
                return self._ready
            if self._built is not None:  # being built, and read by flask-smorest's own steps of that
                return self._built
            try:
                super()._init_spec(**self._spec_arguments)  # assigns the document to ``spec`` (the setter below)
                for blueprint, name, parameters in self._documented:
                    self._describe(blueprint, name, parameters)
                self._document(self._built)
            except BaseException:
                self._built = None  # built again, whole, when next asked for: never served half made
                raise
            self._ready = self._built
            return self._ready

    @spec.setter
    def spec(self, value: APISpec | None) -> None:  # flask-smorest's own assignments
        self._built = value

    def _init_spec(self, **arguments):
        self._spec_arguments = arguments
        self._app.cli.add_command(openapi_cli)  # `flask openapi` (builds the document when it runs)

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        with self._building:
            if self._ready is None:
                self._documented.append((blp, name, parameters))
            else:  # registered after the document was built: described at once
                self._describe(blp, name, parameters)

    def _describe(self, blueprint: Blueprint, name: str, parameters: list | None) -> None:
        blueprint.register_views_in_doc(self, self._app, self._built, name=name, parameters=parameters)
        self._built.tag({"name": name, "description": blueprint.description})

    def _register_error_handlers(self):
        errors.answer_under("/api/", problems.from_exception)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = schemas.Problem
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem details document (RFC 9457)", "schema": schemas.Problem}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


blp = Blueprint("api_v1", __name__, url_prefix="/api/v1", description="Commitments, counts and units")
docs = FlaskBlueprint("api_docs", __name__)


def requires(scope: str):
    """Refuse a key without ``scope`` (403) before anything else of the request is looked at."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if scope not in g.api_key.scopes:
                abort(403)
            return view(*args, **kwargs)

        guarded._apidoc = {**getattr(view, "_apidoc", {})}
        guarded._apidoc.setdefault("manual_doc", {})["security"] = [{"bearer": [scope]}]
        return guarded

    return decorate


#: What people send in through a partner's system (commitments, withdrawals): never refused for billing.
PEOPLE_COME_IN = frozenset({"api_v1.create_commitment", "api_v1.register_batch", "api_v1.withdraw_commitment"})


@blp.before_request
def _authenticate():
    """The tenant's key in force, within its rate; the global host and the movement have no API."""
    request.max_content_length = (registrations.MAX_CSV_BYTES if request.endpoint == "api_v1.register_batch"
                                  else current_app.config["API_MAX_BODY_BYTES"])
    if g.get("tenant") is None or g.tenant.is_movement:
        abort(404)
    if KEY_PARAMETERS & request.args.keys() or any(value.startswith(services.TOKEN_PREFIX)
                                                   for value in request.args.values()):
        return problems.problem(400, _l("Send the key in the Authorization header, never in the address."))
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    key = services.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        return problems.problem(401, _l("Send a key of this site in force as “Authorization: Bearer <key>”."),
                                headers={"WWW-Authenticate": "Bearer"})
    retry_after = ratelimits.count(ratelimits.Limit(current_app.config["API_RATE_LIMIT"], "api key", str(key.id)))
    if retry_after is not None:
        return problems.problem(429, _l("This key has made too many requests: try again later."),
                                headers={"Retry-After": str(retry_after)})
    if not plans.entitled(g.tenant, "api") and request.endpoint not in PEOPLE_COME_IN:
        return problems.problem(403, _l("The API is not part of this organisation's plan now: its admins can change "
                                        "that in the portal, under Billing."))
    g.api_key = key


def _refused(pointer: str, detail: str):
    """Refuse one field as the schemas' own checks do."""
    refuse(422, messages={"json": {pointer: [detail]}})


@blp.route("/commitments", methods=["POST"])
@requires("commitments:write")
@blp.arguments(schemas.IdempotencyHeader, location="headers", as_kwargs=True)
@blp.arguments(schemas.CommitmentIn)
@blp.response(201, schemas.Created)
@blp.alt_response(200, schema=schemas.Created, description="The same person committed before: nothing counted")
def create_commitment(body: dict, idempotency_key: str):
    """Record a commitment, as the sign-up form does. A retry with the same ``Idempotency-Key`` (kept 24 hours)
    gets the first answer; the same key with another body is refused."""
    replay = services.claim_idempotency_key(idempotency_key, services.request_hash(body))
    if replay is not None:
        if not replay.matches:
            return problems.problem(422, _l("This Idempotency-Key was used for another request."))
        return current_app.json.response(replay.body), replay.status
    chosen = {}
    if body.get("unit") is not None:
        unit = services.unit_by_key(body["unit"]) or _refused("unit", str(_l("There is no unit with this key.")))
        chosen = signups.unit_fields(unit)
    if body.get("department") is not None:
        department = services.unit_by_key(body["department"])
        if department is None or not department.kind.is_department:
            _refused("department", str(_l("There is no department or faculty with this key.")))
        if "department_id" in chosen:
            _refused("department", str(_l("The unit given is a department or faculty already.")))
        chosen["department_id"] = department.id
    city, place_id = places.locate(body["country"], body.get("city") or None, body.get("place_id"),
                                   body["language"])
    gender = Gender(body["gender"])
    commitment, new = services.commit(SignUp(
        email=body["email"], name=body.get("name") or None, name_public=body["name_public"], gender=gender,
        gender_description=body.get("gender_description") or None, country_code=body["country"], city=city,
        place_id=place_id, **chosen, language=body["language"],
        consent_version=body["consent_version"], consented_at=as_utc(body["consented_at"]),
        external_id=body.get("external_id") or None, source=Source.API))
    status = 201 if new else 200
    answer = schemas.Created().dump(_Created(commitment, new))
    services.keep_answer(idempotency_key, status, answer)
    return current_app.json.response(answer), status


@blp.route("/registrations:batch", methods=["POST"])
@requires("registrations:write")
@blp.arguments(schemas.RegistrationBatchIn)
@blp.response(200, schemas.RegistrationBatchOut)
def register_batch(body: dict):
    """Students who answered the HeForShe question while registering for their courses. Each record's outcome
    comes back in order: counted, repeat, not_opted_in or refused (with the reason). Safe to send again."""
    results = registrations.register_batch(g.tenant, body["records"])
    totals = {name: sum(1 for result in results if result.outcome is outcome) for name, outcome in (
        ("counted", registrations.Outcome.COUNTED), ("repeats", registrations.Outcome.REPEAT),
        ("not_opted_in", registrations.Outcome.NOT_OPTED_IN), ("refused", registrations.Outcome.REFUSED))}
    return {"results": results, **totals}


class _Created:
    """A commitment and whether this request counted it, for ``schemas.Created``."""

    def __init__(self, commitment, counted_now: bool):
        self.commitment, self.counted_now = commitment, counted_now

    def __getattr__(self, name):
        return getattr(self.commitment, name)


@blp.route("/commitments", methods=["GET"])
@requires("commitments:read")
@blp.arguments(schemas.CommitmentQuery, location="query")
@blp.response(200, schemas.CommitmentPage)
def list_commitments(query: dict):
    """Commitments in the order they were made, a page at a time (follow ``next_cursor``)."""
    after = None
    if "cursor" in query:
        after = services.decode_cursor(query["cursor"]) or _refused("cursor", str(_l("This cursor is not valid.")))
    items = services.commitment_page(query.get("updated_since"), after, query["limit"] + 1)
    more = len(items) > query["limit"]
    items = items[:query["limit"]]
    return {"items": items, "next_cursor": services.encode_cursor(items[-1].id) if more else None}


@blp.route("/commitments/<uuid:commitment_id>", methods=["DELETE"])
@requires("commitments:write")
@blp.response(204)
def withdraw_commitment(commitment_id):
    """Withdraw a commitment (the counts drop if it counted); withdrawing it again changes nothing."""
    commitment = services.find_commitment(commitment_id) or abort(404)
    services.withdraw(commitment)
    return ""


@blp.route("/stats", methods=["GET"])
@requires("stats:read")
@blp.response(200, schemas.Stats)
def site_stats():
    """The site's released counts, as its ``stats.json``: nothing under its privacy threshold k."""
    return {"schema_version": stats.SCHEMA_VERSION, "definitions": url_for("core.counting", _external=True),
            **stats.site_stats(g.tenant.id)}


@blp.route("/units/<unit_key>", methods=["GET"])
@requires("units:write")
@blp.response(200, schemas.Unit)
def get_unit(unit_key: str):
    """A unit by its key."""
    unit = services.unit_by_key(unit_key) if len(unit_key) <= MAX_UNIT_KEY else None
    return _unit_out(unit or abort(404))


@blp.route("/units/<unit_key>", methods=["PUT"])
@requires("units:write")
@blp.arguments(schemas.UnitIn)
@blp.response(200, schemas.Unit)
@blp.alt_response(201, schema=schemas.Unit, description="A new unit")
def put_unit(body: dict, unit_key: str):
    """Make or change the unit with this key: name, kind, parent (by key), place and eligible headcounts."""
    if len(unit_key) > MAX_UNIT_KEY:
        _refused("key", str(_l("A unit's key is at most 200 characters.")))
    parent = None
    if body.get("parent") is not None:
        parent = services.unit_by_key(body["parent"]) or _refused("parent", str(_l("There is no unit with this key.")))
    fields = units.UnitFields(
        name=body["name"], kind=UnitKind(body["kind"]), parent_id=parent.id if parent else None,
        external_key=unit_key, country_code=body.get("country"), city=body.get("city") or None,
        eligible_men=body.get("eligible_men"), eligible_total=body.get("eligible_total"))
    unit = services.unit_by_key(unit_key)
    try:
        if unit is None:
            return _unit_out(units.add_unit(fields)), 201
        units.update_unit(unit, fields)
    except units.UnitChangeRefused as refusal:
        return problems.problem(422, str(refusal))
    return _unit_out(unit)


def _unit_out(unit) -> dict:
    parent = units.find_unit(unit.parent_id) if unit.parent_id else None
    return {"external_key": unit.external_key, "name": unit.name, "kind": unit.kind.value,
            "parent": parent.external_key if parent else None, "country_code": unit.country_code, "city": unit.city,
            "eligible_men": unit.eligible_men, "eligible_total": unit.eligible_total}


@docs.get("/api/v1/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of the API (and of the public ``stats.json``)."""
    response = current_app.json.response(_spec())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@docs.get("/api/docs")
def reference():
    """The API's reference, drawn on the server from the OpenAPI document (no script, nothing from elsewhere)."""
    return render_template("tenant_portal/api/reference.html", spec=_spec(), language=str(get_locale()),
                           phrase=lambda status: http.HTTPStatus(int(status)).phrase if status.isdigit() else status)


def _document_beside_the_views(spec: APISpec) -> None:
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    # core's page, documented here with the API's schema of the same counts (the plugin needs its rule).
    spec.path(rule=Rule("/stats.json", endpoint="core.stats_json"), operations={"get": {
        "summary": "A site's public counts (no key needed)", "security": [],
        "responses": {"200": {"description": "The released counts",
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}}}}})


def build_document(app) -> None:
    """Build the OpenAPI document now, rather than for its first reader."""
    _ = app.extensions[_EXTENSION].spec


def _spec() -> dict:
    return current_app.extensions[_EXTENSION].spec.to_dict()


_EXTENSION = "tenant_portal.api"


def init_app(app) -> None:
    app.config.update(API_TITLE="HeForShe Commitments API", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    description = "Write commitments and read counts from a partner's own systems. Keys are made in the portal " \
                  "(/portal/api)."
    api = app.extensions[_EXTENSION] = _Api(app, spec_kwargs={"info": {"description": description}},
                                            document=_document_beside_the_views)
    api.register_blueprint(blp)
    app.register_blueprint(docs)
