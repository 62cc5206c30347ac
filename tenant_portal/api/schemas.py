"""The API's request and response bodies: the same marshmallow schemas validate requests and write
``/api/v1/openapi.json``. Free text is checked by the sign-up form's own rules (``tenants.forms.plain_text``)."""

from __future__ import annotations

from types import SimpleNamespace

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from marshmallow import fields, validate
from wtforms.validators import ValidationError as FormError

from core import places
from core.rollup.services import as_utc
from core.i18n import LANGUAGES, is_country_code
from core.rollup.models import Gender
from tenants.forms import plain_text
from tenants.models import UnitKind, utcnow


def _plain(value: str | None) -> None:
    try:
        plain_text(None, SimpleNamespace(data=value))
    except FormError as error:
        raise ma.ValidationError(str(error)) from None


def _email(value: str) -> None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ma.ValidationError(_("Please enter a valid email address, like name@example.org.")) from None


def _country(value: str | None) -> None:
    if value is not None and not is_country_code(value):
        raise ma.ValidationError(_("Please choose your country from the list."))


class Moment(fields.AwareDateTime):
    """A moment in UTC, with its zone (SQLite gives stored moments back without one)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _plain], **kwargs)


class Problem(ma.Schema):
    """A problem details answer (RFC 9457), for every 4xx and 5xx."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "Each refused field: a JSON pointer into the "
                                                                 "body (pointer) and why (detail)."})


class CommitmentIn(ma.Schema):
    """A commitment as the sign-up form takes it, with the consent the partner's own form collected."""

    email = fields.String(required=True, validate=[validate.Length(max=254), _email])
    name = _text(100, allow_none=True)
    name_public = fields.Boolean(load_default=False)
    gender = fields.String(required=True, validate=validate.OneOf([gender.value for gender in Gender]))
    gender_description = _text(60, allow_none=True)
    country = fields.String(required=True, validate=_country, metadata={"description": "ISO 3166-1 alpha-2"})
    city = _text(100, allow_none=True)
    place_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "A city from the site's place search"})
    unit = fields.String(allow_none=True, validate=[validate.Length(min=1, max=200), _plain], metadata={
        "description": "The key of the unit where the person works or studies (a department or faculty's key is "
                       "taken as their department)"})
    department = fields.String(allow_none=True, validate=[validate.Length(min=1, max=200), _plain],
                               metadata={"description": "The key of the person's department or faculty"})
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    consent_version = fields.String(required=True, validate=[validate.Length(min=1, max=20), _plain])
    consented_at = fields.AwareDateTime(required=True)
    external_id = _text(100, allow_none=True, metadata={
        "description": "Your own system's identifier for this commitment, given back in every answer"})

    @ma.validates("consented_at")
    def _not_in_the_future(self, value, **kwargs) -> None:
        if value > utcnow():
            raise ma.ValidationError(_("The time of consent cannot be in the future."))

    @ma.validates_schema(skip_on_field_errors=True)
    def _place_in_country(self, data, **kwargs) -> None:
        place_id = data.get("place_id")
        if place_id is not None:
            place = places.get(place_id)
            if place is None or place.country != data["country"]:
                raise ma.ValidationError(_("Please choose a city of the country you chose."), "place_id")


class IdempotencyHeader(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(required=True, data_key="Idempotency-Key",
                                    validate=validate.Length(min=1, max=255))


class Commitment(ma.Schema):
    """A commitment as the API shows it (never the person's address or name)."""

    id = fields.UUID(required=True)
    gender = fields.String(required=True)
    country = fields.String(required=True, attribute="country_code")
    city = fields.String(allow_none=True)
    unit = fields.Function(lambda commitment: commitment.unit.external_key if commitment.unit else None,
                           allow_none=True, metadata={"type": "string"})
    department = fields.Function(
        lambda commitment: commitment.department.external_key if commitment.department else None,
        allow_none=True, metadata={"type": "string"})
    language = fields.String(required=True)
    external_id = fields.String(allow_none=True)
    consented_at = Moment(allow_none=True, metadata={"description": "When the person consented, as sent"})
    source = fields.Function(lambda commitment: commitment.source.value, metadata={"type": "string"})
    counts = fields.Boolean(required=True, attribute="counted", metadata={"description": "Counted in the tallies now"})
    verified = fields.Boolean(required=True)
    created_at = Moment(required=True)
    confirmed_at = Moment(allow_none=True)
    withdrawn_at = Moment(allow_none=True)


class Created(Commitment):
    counted = fields.Boolean(required=True, attribute="counted_now", metadata={
        "description": "Whether this request counted a new commitment (false: the same person committed before)"})


class CommitmentQuery(ma.Schema):
    updated_since = fields.AwareDateTime(metadata={"description": "Only commitments made, confirmed, withdrawn or "
                                                                  "invalidated since then"})
    cursor = fields.String(validate=validate.Length(max=64), metadata={"description": "next_cursor of the "
                                                                                      "previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CommitmentPage(ma.Schema):
    items = fields.List(fields.Nested(Commitment), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class UnitIn(ma.Schema):
    """A unit: its name, its parent (by key), its place and its eligible headcounts."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), _plain])
    kind = fields.String(load_default=UnitKind.OTHER.value, validate=validate.OneOf([kind.value for kind in UnitKind]))
    parent = fields.String(allow_none=True, validate=[validate.Length(min=1, max=200), _plain])
    country = fields.String(allow_none=True, validate=_country)
    city = _text(100, allow_none=True)
    eligible_men = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    eligible_total = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10_000_000))


class Unit(ma.Schema):
    key = fields.String(required=True, attribute="external_key")
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent = fields.String(allow_none=True, metadata={"description": "The parent unit's key"})
    country = fields.String(allow_none=True, attribute="country_code")
    city = fields.String(allow_none=True)
    eligible_men = fields.Integer(allow_none=True)
    eligible_total = fields.Integer(allow_none=True)


class Acted(ma.Schema):
    people = fields.Integer(allow_none=True, required=True, metadata={"description": "None under k"})
    by_pillar = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
    by_unit = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)


class Stats(ma.Schema):
    """The released counts (``stats.json``): no figure under the site's privacy threshold k. docs/counting.md
    defines each one."""

    schema_version = fields.Integer(required=True)
    definitions = fields.String(required=True)
    total = fields.Integer(required=True)
    men = fields.Integer(required=True)
    people = fields.Integer(required=True)
    commitments = fields.Integer(required=True)
    verified = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    unverified = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    k = fields.Integer(required=True)
    by_country = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
    by_gender = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_unit = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={"description": "A partner's only"})
    by_pillar = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "A partner's only: commitments by the pillar people chose"})
    acted = fields.Nested(Acted, metadata={"description": "A partner's only: the people who did an action they "
                                                          "planned, in all, by pillar and by unit"})
    fewer_than_k = fields.Dict(required=True)
    updated_at = fields.String(allow_none=True, required=True)
    released_at = fields.String(allow_none=True, required=True)
    verified_released_at = fields.String(allow_none=True, required=True)


class RegistrationBatchIn(ma.Schema):
    """Students' answers from one registration run. Each record is checked on its own (a bad record is refused in
    the answer and never blocks the others): ``{student_id, email, opted_in, gender?, country?, unit_key, term}``."""

    records = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "Up to 1,000 records. Only those with opted_in true become commitments (source "
                       "registration, verified); for the others nothing is kept. The same (term, student_id) "
                       "again changes nothing."})


class RegistrationResult(ma.Schema):
    index = fields.Integer(required=True, attribute="position", metadata={"description": "The record's position"})
    student_id = fields.String(allow_none=True, required=True)
    outcome = fields.Function(lambda result: result.outcome.value, required=True, metadata={
        "type": "string", "enum": ["counted", "repeat", "not_opted_in", "refused"]})
    reason = fields.String(allow_none=True, required=True)
    commitment_id = fields.UUID(allow_none=True, required=True)


class RegistrationBatchOut(ma.Schema):
    results = fields.List(fields.Nested(RegistrationResult), required=True)
    counted = fields.Integer(required=True)
    repeats = fields.Integer(required=True)
    not_opted_in = fields.Integer(required=True)
    refused = fields.Integer(required=True)
