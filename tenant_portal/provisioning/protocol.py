"""SCIM 2.0 as this site speaks it (``scim.endpoint`` hands each request here): scim2-server answers, with the
tenant's roster as its storage (``RosterStorage``: the tenant's rows, loaded for the request, and written back as each
operation ends); errors are SCIM error bodies."""

from __future__ import annotations

import json
import secrets
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from flask import Response, g, request
from flask_babel import gettext as _
from scim2_models import (AuthenticationScheme, Context, EnterpriseUser, External, ForbiddenException, Group,
                          InvalidValueException, NotFoundException, PayloadTooLargeException, Reference, Resource,
                          ResourceType, SCIMException, ScimProvider, ServiceProviderConfig, UnauthorizedException,
                          User)
from scim2_server.applications.base import BaseApplication
from scim2_server.handler import ScimHandler
from scim2_server.memory import InMemoryStorage
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from sqlalchemy import delete, select
from uuid6 import uuid7
from werkzeug.exceptions import RequestEntityTooLarge

from core.extensions import db
from tenant_portal.provisioning import services
from tenant_portal.provisioning.models import ScimGroup, ScimGroupMember, ScimUser
from tenants import plans
from tenants.forms import has_control_characters
from tenants.models import Member, utcnow
from tenants.services.members import canonical_email

#: The largest request body: a group of some thousands of members fits.
MAX_BODY_BYTES = 1024 * 1024


class _RosterService(ScimService):
    """Takes every attribute a provider sends, but publishes (``/Schemas``) only those it keeps: the rest is
    dropped on arrival (``services.KEPT_USER``), so a provider's default attribute mappings still work."""

    def published(self) -> list:
        kept = {str(User.__schema__): services.KEPT_USER, str(Group.__schema__): (*services.KEPT_GROUP, "members"),
                services.ENTERPRISE: services.KEPT_ENTERPRISE}
        return [schema.model_copy(update={"attributes": [self._trimmed(attribute) for attribute in schema.attributes
                                                         if attribute.name in kept[schema.id]]})
                for schema in self.provider.schemas]

    @staticmethod
    def _trimmed(attribute):
        if attribute.name != "members":
            return attribute
        return attribute.model_copy(update={"sub_attributes": [sub for sub in attribute.sub_attributes
                                                               if sub.name in services.KEPT_MEMBER]})

    def patch_response(self, base_url, resource, response_parameters) -> ScimResponse:
        """The patched resource, always (200): Okta reads it, where RFC 7644 would allow a bare 204."""
        return self.resource_response(self.publish(base_url, resource), Context.RESOURCE_REPLACEMENT_RESPONSE,
                                      response_parameters)

    def schemas(self, location, query) -> ScimResponse:
        answer = super().schemas(location, query)
        published = {schema.id: schema for schema in self.published()}
        answer.body["Resources"] = [self.locate(published[item["id"]], f"{location}/{item['id']}").model_dump()
                                    for item in answer.body["Resources"]]
        return answer

    def schema(self, location, schema_id, query) -> ScimResponse:
        self.forbid_filter(query)
        for schema in self.published():
            if schema.id == schema_id:
                return self.discovery_response(self.locate(schema, location))
        raise NotFoundException(detail=f"Schema {schema_id!r} not found")


@cache
def _application() -> BaseApplication:
    """The service's description, built once: users with the enterprise extension, groups, PATCH, ETags, filters."""
    config = ServiceProviderConfig.model_validate({
        "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 200}, "changePassword": {"supported": False},
        "sort": {"supported": True}, "etag": {"supported": True},
        "authenticationSchemes": [AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="OAuth Bearer Token", primary=True,
            description="The SCIM token made on the portal's provisioning page",
            spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750")).model_dump()]})
    provider = ScimProvider(models=[User, EnterpriseUser, Group], config=config, resource_types=[
        ResourceType.from_resource(User[EnterpriseUser]), ResourceType.from_resource(Group)])
    return BaseApplication(provider, _RosterService(provider))


def _answer(response: ScimResponse) -> Response:
    body = b"" if response.body is None else json.dumps(response.body).encode()
    headers = dict(response.headers)
    if "Location" in headers:  # scim2-server repeats the request's address, which may hold a CR or LF (%0D, %0A)
        headers["Location"] = quote(headers["Location"], safe=_URL_CHARACTERS)
    return Response(body, status=response.status.value, headers=headers)


#: What RFC 3986 lets an address hold as it is (``%`` too: what is escaped already stays so).
_URL_CHARACTERS = ":/?#[]@!$&'()*+,;=%~-._"


def _entra_removals(body: bytes) -> bytes:
    """Entra ID removes group members as ``{"op": "Remove", "path": "members", "value": [{"value": id}]}``, a value
    RFC 7644 does not allow on a removal: the same removals, one filter each, as the RFC words them."""
    try:
        patch = json.loads(body)
        operations = patch["Operations"]
    except (ValueError, TypeError, KeyError):
        return body
    if not isinstance(operations, list):
        return body
    rewritten = []
    for operation in operations:
        if (isinstance(operation, dict) and str(operation.get("op", "")).lower() == "remove"
                and operation.get("path") == "members" and isinstance(operation.get("value"), list)
                and all(isinstance(member, dict) and isinstance(member.get("value"), str)
                        for member in operation["value"])):
            rewritten += [{"op": "remove", "path": f"members[value eq {json.dumps(member['value'])}]"}
                          for member in operation["value"]]
        else:
            rewritten.append(operation)
    return json.dumps({**patch, "Operations": rewritten}).encode()


def _json(body: bytes):
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None  # scim2-server answers what is not JSON


def _unstorable(value) -> bool:
    """Whether a body holds text no roster should keep: control characters (PostgreSQL refuses NUL) or half a
    surrogate pair, which JSON can spell (\\ud800) but no database stores."""
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, dict):
        return any(_unstorable(key) or _unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def _needs_auth(application: BaseApplication, scim_request: ScimRequest) -> bool:
    """Every request but the service provider's configuration: a request that is wrong besides is refused for its
    token first, so that another tenant's host tells nothing of its routes."""
    try:
        return application.needs_auth(scim_request)
    except SCIMException:
        return True


def respond(prefix: str, path: str) -> Response:
    """A SCIM request to the current tenant (``path`` under ``prefix``): its token in force, or a 401 with a SCIM
    error body."""
    application = _application()
    request.max_content_length = MAX_BODY_BYTES
    try:
        body = request.get_data()
    except RequestEntityTooLarge:
        return _answer(application.service.error_response(PayloadTooLargeException()))
    scim_request = ScimRequest(method=request.method, base_url=request.url_root.rstrip("/") + prefix,
                               path=application.split_path("/" + path), query=request.args.to_dict(),
                               headers=list(request.headers.items()),
                               body=_entra_removals(body) if request.method == "PATCH" else body)
    try:
        if _needs_auth(application, scim_request):
            scheme, _space, secret = (request.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or services.authenticate(secret.strip()) is None:
                raise UnauthorizedException(detail=_("Send a SCIM token of this site in force as “Authorization: "
                                                     "Bearer <token>”."))
            if not plans.entitled(g.tenant, "course_registration"):  # the roster waits, as it is, for a plan
                raise ForbiddenException(detail=_("SCIM provisioning is not part of this organisation's plan now."))
        if request.method != "GET":
            if _unstorable(_json(body)):
                raise InvalidValueException(detail=_("Please use letters, digits and ordinary punctuation only."))
            services.lock_roster()
        answer = ScimHandler(application.service, RosterStorage()).handle(scim_request)
    except Exception as exception:  # noqa: BLE001 - every failure is answered as SCIM says, and logged
        answer = application.handle_exception(scim_request, exception)
    if answer.status == HTTPStatus.UNAUTHORIZED:
        answer.headers.setdefault("WWW-Authenticate", 'Bearer realm="scim"')
    return _answer(application.finalize_response(scim_request, answer))


def _kept(data: dict, names: tuple[str, ...]) -> dict:
    kept = {name: value for name, value in data.items() if name in names}
    if isinstance(kept.get(services.ENTERPRISE), dict):
        kept[services.ENTERPRISE] = {name: value for name, value in kept[services.ENTERPRISE].items()
                                     if name in services.KEPT_ENTERPRISE}
    return kept


class RosterStorage(InMemoryStorage):
    """The tenant's roster for one request: read from its rows, each write written back to them."""

    def __init__(self) -> None:
        super().__init__(clock=utcnow)
        users = {user.id: user for user in db.session.scalars(select(ScimUser))}
        members: dict[str, list[dict]] = {}
        for link in db.session.scalars(select(ScimGroupMember)):
            members.setdefault(link.group_id, []).append(
                {"value": link.user_id, "$ref": f"Users/{link.user_id}", "type": "User"})
        resources: list[Resource[Any]] = [User[EnterpriseUser].model_validate(user.resource)
                                          for user in users.values()]
        for group in db.session.scalars(select(ScimGroup)):
            resources.append(Group.model_validate({**group.resource, "members": members.get(group.id) or None}))
        self.resources = resources

    def generate_id(self, resource_type: ResourceType, resource: Resource[Any]) -> str:
        return uuid7().hex

    def next_version(self) -> str:
        return f'W/"{secrets.token_hex(8)}"'

    def create(self, resource_type, resource):
        stored = super().create(resource_type, self._trimmed(resource))
        self._write(stored)
        return stored

    def update(self, resource_type, resource, *, expected_version=None):
        stored = super().update(resource_type, self._trimmed(resource), expected_version=expected_version)
        self._write(stored)
        return stored

    def delete(self, resource_type, resource_id, *, expected_version=None):
        super().delete(resource_type, resource_id, expected_version=expected_version)
        if resource_type.name == "User":
            user = db.session.scalars(select(ScimUser).where(ScimUser.id == resource_id)).one()
            if user.active:
                services.deprovision(user)
            unit_id = user.unit_id
            db.session.delete(user)
            db.session.flush()
            services.recount_units({unit_id})
        else:
            db.session.execute(delete(ScimGroup).where(ScimGroup.id == resource_id))

    @staticmethod
    def _trimmed(resource: Resource[Any]) -> Resource[Any]:
        """The resource with only the kept attributes (and a group's members)."""
        data = resource.model_dump(mode="json")
        if isinstance(resource, Group):
            members = [{name: value for name, value in member.items() if name in services.KEPT_MEMBER}
                       for member in data.get("members") or [] if member.get("value")]
            return Group.model_validate({**_kept(data, services.KEPT_GROUP), "members": members or None})
        return type(resource).model_validate(_kept(data, services.KEPT_USER))

    def _write(self, resource: Resource[Any]) -> None:
        data = resource.model_dump(mode="json")
        data.get("meta", {}).pop("location", None)
        if isinstance(resource, Group):
            self._write_group(resource, data)
        else:
            self._write_user(resource, data)
        db.session.flush()

    def _write_user(self, resource: Resource[Any], data: dict) -> None:
        user = db.session.scalars(select(ScimUser).where(ScimUser.id == resource.id)).one_or_none()
        was_active = user is not None and user.active
        before_unit = user.unit_id if user is not None else None
        unit = services.unit_named((data.get(services.ENTERPRISE) or {}).get("department"))
        member = db.session.scalars(select(Member).where(
            Member.email_canonical == canonical_email(resource.user_name))).one_or_none()
        if user is None:
            user = ScimUser(id=resource.id)
            db.session.add(user)
        user.user_name, user.external_id = resource.user_name, resource.external_id
        user.active = resource.active is not False
        user.eligible = (resource.user_type or "").strip().lower() not in services.NOT_ELIGIBLE_TYPES
        user.unit_id, user.member_id = unit.id if unit else None, member.id if member else None
        user.version, user.resource = resource.meta.version, data
        db.session.flush()
        if was_active and not user.active:
            services.deprovision(user)
        services.recount_units({before_unit, user.unit_id})

    def _write_group(self, resource: Group, data: dict) -> None:
        group = db.session.scalars(select(ScimGroup).where(ScimGroup.id == resource.id)).one_or_none()
        group = group or ScimGroup(id=resource.id)
        group.display_name, group.external_id = resource.display_name, resource.external_id
        group.version, group.resource = resource.meta.version, {k: v for k, v in data.items() if k != "members"}
        db.session.add(group)
        db.session.flush()
        db.session.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
        wanted = {member["value"] for member in data.get("members") or []}
        known = set(db.session.scalars(select(ScimUser.id).where(ScimUser.id.in_(wanted)))) if wanted else set()
        db.session.add_all(ScimGroupMember(group_id=group.id, user_id=user_id) for user_id in sorted(known))
