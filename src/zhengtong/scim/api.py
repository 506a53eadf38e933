"""The SCIM endpoints under /scim/v2 for provisioning clients, and the admin console's token
endpoints under /api/v1.

/scim/v2 takes only a SCIM bearer token (no browser session reaches it), answers in
application/scim+json, and shows errors in SCIM's shape. It stays out of the OpenAPI document,
which describes the web client's API; RFC 7643/7644 and /scim/v2/Schemas describe this one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from zhengtong.core.errors import AppError
from zhengtong.org.access import admin_scope
from zhengtong.org.models import AdminDuty
from zhengtong.scim import discovery, groups, schemas, service, users
from zhengtong.scim.errors import ScimError, from_app_error, invalid_syntax, not_found
from zhengtong.scim.service import ScimClient
from zhengtong.web.auth import CurrentCaller
from zhengtong.web.deps import ClientIp, Context, DbSession

# Tokens (admin console) ---------------------------------------------------------------------
token_router = APIRouter(tags=["scim"])


@token_router.post("/org/scim-tokens", response_model=schemas.ScimTokenCreated, status_code=201)
async def create_scim_token(
    body: schemas.ScimTokenCreate, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> schemas.ScimTokenCreated:
    scope = await admin_scope(session, caller, AdminDuty.SECURITY, "scim")
    token, secret = await service.create_token(
        session, context, scope, name=body.name, actor_id=caller.account_id, ip=ip
    )
    return schemas.ScimTokenCreated(id=token.id, name=token.name, token=secret, created_at=token.created_at)


@token_router.get("/org/scim-tokens", response_model=list[schemas.ScimTokenRead])
async def list_scim_tokens(caller: CurrentCaller, session: DbSession) -> list[schemas.ScimTokenRead]:
    scope = await admin_scope(session, caller, AdminDuty.SECURITY, "scim")
    return [
        schemas.ScimTokenRead.model_validate(token) for token in await service.list_tokens(session, scope)
    ]


@token_router.delete("/org/scim-tokens/{token_id}", status_code=204)
async def revoke_scim_token(
    token_id: str, caller: CurrentCaller, session: DbSession, context: Context, ip: ClientIp
) -> Response:
    scope = await admin_scope(session, caller, AdminDuty.SECURITY, "scim")
    await service.revoke_token(session, context, scope, token_id=token_id, actor_id=caller.account_id, ip=ip)
    return Response(status_code=204)


# SCIM protocol ------------------------------------------------------------------------------
class ScimResponse(JSONResponse):
    media_type = "application/scim+json"


async def _scim_errors() -> AsyncIterator[None]:
    """Platform errors raised under /scim/v2 leave as SCIM errors. This is a dependency entered
    before the request's transaction, so the transaction still sees the error and rolls back."""
    try:
        yield
    except AppError as error:
        raise from_app_error(error) from error


async def _client(request: Request, session: DbSession, context: Context, ip: ClientIp) -> ScimClient:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    base_url = (context.settings.public_url or str(request.base_url)).rstrip("/") + "/scim/v2"
    return await service.authenticate(session, context, token, ip=ip, base_url=base_url)


Client = Annotated[ScimClient, Depends(_client)]
Filter = Annotated[str | None, Query(alias="filter")]
StartIndex = Annotated[str | None, Query(alias="startIndex")]
Count = Annotated[str | None, Query(alias="count")]
Excluded = Annotated[str | None, Query(alias="excludedAttributes")]

router = APIRouter(prefix="/scim/v2", dependencies=[Depends(_scim_errors, scope="function")])


async def _json(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise invalid_syntax("The body is not valid JSON") from error


def _created(resource: dict[str, Any]) -> ScimResponse:
    return ScimResponse(resource, status_code=201, headers={"Location": resource["meta"]["location"]})


def _list(resources: list[dict[str, Any]]) -> ScimResponse:
    return ScimResponse(service.list_response(resources, len(resources), service.Page(1, len(resources))))


@router.get("/ServiceProviderConfig")
async def service_provider_config(client: Client) -> ScimResponse:
    return ScimResponse(discovery.service_provider_config(client.base_url))


@router.get("/ResourceTypes")
async def resource_types(client: Client) -> ScimResponse:
    return _list(discovery.resource_types(client.base_url))


@router.get("/ResourceTypes/{name}")
async def resource_type(name: str, client: Client) -> ScimResponse:
    found = [item for item in discovery.resource_types(client.base_url) if item["id"] == name]
    if not found:
        raise not_found()
    return ScimResponse(found[0])


@router.get("/Schemas")
async def schema_list(client: Client) -> ScimResponse:
    return _list(discovery.schemas(client.base_url))


@router.get("/Schemas/{urn}")
async def schema(urn: str, client: Client) -> ScimResponse:
    found = [item for item in discovery.schemas(client.base_url) if item["id"] == urn]
    if not found:
        raise not_found()
    return ScimResponse(found[0])


@router.get("/Users")
async def list_users(
    client: Client,
    session: DbSession,
    context: Context,
    filter_text: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    excluded: Excluded = None,
) -> ScimResponse:
    page = service.page_of(start_index, count)
    answer = await users.list_users(session, context, client, filter_text=filter_text, page=page)
    hidden = service.excluded_attributes(excluded)
    answer["Resources"] = [service.without(resource, hidden) for resource in answer["Resources"]]
    return ScimResponse(answer)


@router.post("/Users")
async def create_user(request: Request, client: Client, session: DbSession, context: Context) -> ScimResponse:
    return _created(await users.create_user(session, context, client, await _json(request)))


@router.get("/Users/{user_id}")
async def get_user(
    user_id: str, client: Client, session: DbSession, context: Context, excluded: Excluded = None
) -> ScimResponse:
    resource = await users.get_user(session, context, client, user_id)
    return ScimResponse(service.without(resource, service.excluded_attributes(excluded)))


@router.put("/Users/{user_id}")
async def replace_user(
    user_id: str, request: Request, client: Client, session: DbSession, context: Context
) -> ScimResponse:
    return ScimResponse(await users.replace_user(session, context, client, user_id, await _json(request)))


@router.patch("/Users/{user_id}")
async def patch_user(
    user_id: str, request: Request, client: Client, session: DbSession, context: Context
) -> ScimResponse:
    return ScimResponse(await users.patch_user(session, context, client, user_id, await _json(request)))


@router.delete("/Users/{user_id}", status_code=204)
async def delete_user(user_id: str, client: Client, session: DbSession, context: Context) -> Response:
    await users.delete_user(session, context, client, user_id)
    return Response(status_code=204)


@router.get("/Groups")
async def list_groups(
    client: Client,
    session: DbSession,
    filter_text: Filter = None,
    start_index: StartIndex = None,
    count: Count = None,
    excluded: Excluded = None,
) -> ScimResponse:
    page = service.page_of(start_index, count)
    hidden = service.excluded_attributes(excluded)
    answer = await groups.list_groups(
        session, client, filter_text=filter_text, page=page, with_members="members" not in hidden
    )
    answer["Resources"] = [service.without(resource, hidden) for resource in answer["Resources"]]
    return ScimResponse(answer)


@router.post("/Groups")
async def create_group(
    request: Request, client: Client, session: DbSession, context: Context
) -> ScimResponse:
    return _created(await groups.create_group(session, context, client, await _json(request)))


@router.get("/Groups/{group_id}")
async def get_group(
    group_id: str, client: Client, session: DbSession, excluded: Excluded = None
) -> ScimResponse:
    hidden = service.excluded_attributes(excluded)
    resource = await groups.get_group(session, client, group_id, with_members="members" not in hidden)
    return ScimResponse(service.without(resource, hidden))


@router.put("/Groups/{group_id}")
async def replace_group(
    group_id: str, request: Request, client: Client, session: DbSession, context: Context
) -> ScimResponse:
    return ScimResponse(await groups.replace_group(session, context, client, group_id, await _json(request)))


@router.patch("/Groups/{group_id}")
async def patch_group(
    group_id: str, request: Request, client: Client, session: DbSession, context: Context
) -> ScimResponse:
    return ScimResponse(await groups.patch_group(session, context, client, group_id, await _json(request)))


@router.delete("/Groups/{group_id}", status_code=204)
async def delete_group(group_id: str, client: Client, session: DbSession, context: Context) -> Response:
    await groups.delete_group(session, context, client, group_id)
    return Response(status_code=204)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_endpoint(path: str) -> ScimResponse:
    # Without this, the web client's catch-all would answer unknown SCIM paths with index.html.
    raise ScimError(404, f"There is no SCIM endpoint /{path}")


def install_error_shape(app: FastAPI) -> None:
    """Renders /scim/v2's errors in SCIM's shape."""

    @app.exception_handler(ScimError)
    async def _scim_error(request: Request, exc: ScimError) -> JSONResponse:
        return ScimResponse(exc.to_json(), status_code=exc.status, headers=exc.headers)
