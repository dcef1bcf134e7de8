"""The integrations API (administrators only): AMQP integrators with their own read-only broker
user and queue, and webhook endpoints with signed deliveries and a delivery log.

A password or a webhook secret is shown once, in the answer that creates or rotates it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from shared.app import RuntimeDep
from shared.errors import forbidden
from shared.http import OptionalIfMatch, Page, PageParams, Pagination, etag
from shared.identity import Identity
from shared.mongo import Document
from shared.paging import before, newest_page_of
from shared.roles import Role

from ..callers import Caller
from . import catalogue
from .amqp import AmqpIntegrators, Credentials
from .store import Records
from .webhooks import Webhooks

log = logging.getLogger(__name__)

ADMINISTRATOR = Role.ADMINISTRATOR
PREFIX = "/api/v1/integrations"
#: How long a webhook change waits for the broker to rebind the webhooks queue before answering.
REBIND_TIMEOUT_S = 2.0

IntegratorId = Annotated[str, Path(pattern=r"^int-[0-9a-f]{10}$", description="The integrator's id")]
EndpointId = Annotated[str, Path(pattern=r"^wh-[0-9a-f]{10}$", description="The webhook endpoint's id")]
Out = TypeVar("Out", bound=BaseModel)

EventTypes = Annotated[list[Annotated[str, Field(min_length=3, max_length=120)]], Field(min_length=1, max_length=200)]


def _admin(caller: Identity) -> None:
    if not caller.has_role(ADMINISTRATOR):
        raise forbidden("Only an administrator manages integrators and webhooks.")


# --- models --------------------------------------------------------------------------------------


class GrantableType(BaseModel):
    type: str = Field(description="The event type (= routing key)")
    publisher: str
    summary: str


class AmqpIntegratorIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Who this is, e.g. 'Mosaic case notes'")
    event_types: EventTypes = Field(description="Event types granted (see GET /api/v1/integrations/event-types)")


class GrantIn(BaseModel):
    event_types: EventTypes


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class AmqpIntegratorOut(BaseModel):
    id: str
    name: str
    event_types: list[str]
    status: Literal["active", "revoked"]
    username: str = Field(description="The integrator's broker login")
    queue: str = Field(description="Its queue: consume from it; it is bound to exactly the granted types")
    exchange: str
    version: int
    created_at: datetime
    created_by: str
    password_rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None


class AmqpCredentialsOut(AmqpIntegratorOut):
    password: str = Field(description="Shown once: store it now. Rotate it to get a new one.")
    amqp_url: str = Field(description="Connect with this (it holds the password)")


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, description="Your HTTPS endpoint")
    event_types: EventTypes
    description: str | None = Field(default=None, max_length=500)


class WebhookChange(BaseModel):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: EventTypes | None = None
    description: str | None = Field(default=None, max_length=500)


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    status: Literal["active", "disabled", "deleted"]
    disabled_reason: str | None = None
    version: int
    created_at: datetime
    created_by: str
    secret_rotated_at: datetime | None = None


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="Shown once: the key (whsec_…) with which deliveries are signed")


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="Also the webhook-id header: the same on every attempt")
    event_type: str
    status: Literal["pending", "held", "delivered", "failed"]
    attempt_count: int
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None = None


async def _newest_first(records: Records, page: PageParams, out: Callable[[Document], Out]) -> Page[Out]:
    """One page of an integration's records (integrators, endpoints), newest first, each as ``out`` gives it."""
    docs = await records.newest_first(limit=page.limit + 1, before=before(page))
    return newest_page_of(docs, page, out)


def _tagged(response: Response, doc: Document) -> Document:
    """The record, its version sent as the answer's ETag."""
    response.headers["ETag"] = etag(doc["version"])
    return doc


def _integrator(doc: Document) -> AmqpIntegratorOut:
    return AmqpIntegratorOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in AmqpIntegratorOut.model_fields and k != "id"})


def _credentials(creds: Credentials) -> AmqpCredentialsOut:
    return AmqpCredentialsOut(**_integrator(creds.record).model_dump(), password=creds.password, amqp_url=creds.amqp_url)


def _endpoint(doc: Document) -> WebhookOut:
    return WebhookOut(id=doc["_id"], **{k: v for k, v in doc.items() if k in WebhookOut.model_fields and k != "id"})


def _delivery(doc: Document) -> DeliveryOut:
    pending = doc["status"] in ("pending", "held")
    return DeliveryOut(
        id=doc["_id"], event_id=doc["event_id"], event_type=doc["event_type"], status=doc["status"],
        attempt_count=doc.get("attempt_count", 0), attempts=[AttemptOut(**a) for a in doc.get("attempts", [])],
        next_attempt_at=doc.get("next_attempt_at") if pending else None, created_at=doc["created_at"], finished_at=doc.get("finished_at"),
    )


def _amqp(runtime: Any) -> AmqpIntegrators:
    integrators: AmqpIntegrators = runtime.extra["amqp_integrators"]
    return integrators


def _webhooks(runtime: Any) -> Webhooks:
    webhooks: Webhooks = runtime.extra["webhooks"]
    return webhooks


async def _rebind(runtime: Any) -> None:
    """The webhooks queue follows the endpoints now (every replica also checks every 30 s).

    The endpoint's change is already committed when this runs, so a broker that cannot be
    reached does not fail the request (a 503 would say nothing changed): the change stands and
    the dispatcher's periodic check brings the bindings in line once the broker answers.
    """
    try:
        await asyncio.wait_for(runtime.extra["webhook_bindings"].sync(), timeout=REBIND_TIMEOUT_S)
    except Exception:
        log.warning("webhook endpoint saved; the webhooks queue's bindings follow once the broker answers", exc_info=True)


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["integrations"])

    @router.get("/event-types", response_model=list[GrantableType], summary="Event types an integrator may be granted")
    async def list_event_types(caller: Caller) -> list[GrantableType]:
        _admin(caller)
        return [GrantableType(type=t.type, publisher=t.publisher, summary=t.summary) for t in catalogue.grantable()]

    # --- AMQP ---------------------------------------------------------------------------------

    @router.post("/amqp-integrators", status_code=201, response_model=AmqpCredentialsOut,
                 summary="Create an AMQP integrator: its own read-only broker user and queue (password shown once)")
    async def create_amqp_integrator(body: AmqpIntegratorIn, caller: Caller, runtime: RuntimeDep, response: Response) -> AmqpCredentialsOut:
        _admin(caller)
        creds = await _amqp(runtime).create(name=body.name, event_types=body.event_types, by=caller.person_id)
        response.headers["Location"] = f"{PREFIX}/amqp-integrators/{creds.record['_id']}"
        _tagged(response, creds.record)
        return _credentials(creds)

    @router.get("/amqp-integrators", response_model=Page[AmqpIntegratorOut], summary="AMQP integrators, newest first")
    async def list_amqp_integrators(caller: Caller, runtime: RuntimeDep, page: Pagination) -> Page[AmqpIntegratorOut]:
        _admin(caller)
        return await _newest_first(_amqp(runtime), page, _integrator)

    @router.get("/amqp-integrators/{integrator_id}", response_model=AmqpIntegratorOut, summary="An AMQP integrator")
    async def get_amqp_integrator(integrator_id: IntegratorId, caller: Caller, runtime: RuntimeDep, response: Response) -> AmqpIntegratorOut:
        _admin(caller)
        doc = await _amqp(runtime).get(integrator_id)
        return _integrator(_tagged(response, doc))

    @router.put("/amqp-integrators/{integrator_id}/event-types", response_model=AmqpIntegratorOut,
                summary="Grant exactly these event types from now on")
    async def grant_amqp_event_types(integrator_id: IntegratorId, body: GrantIn, caller: Caller, runtime: RuntimeDep, response: Response,
                         if_match: OptionalIfMatch) -> AmqpIntegratorOut:
        _admin(caller)
        doc = await _amqp(runtime).change_grant(integrator_id, event_types=body.event_types, by=caller.person_id, expected=if_match)
        return _integrator(_tagged(response, doc))

    @router.post("/amqp-integrators/{integrator_id}/password", response_model=AmqpCredentialsOut,
                 summary="Rotate the password: the old one stops working at once (new password shown once)")
    async def rotate_amqp_password(integrator_id: IntegratorId, caller: Caller, runtime: RuntimeDep, response: Response,
                          if_match: OptionalIfMatch) -> AmqpCredentialsOut:
        _admin(caller)
        creds = await _amqp(runtime).rotate_password(integrator_id, by=caller.person_id, expected=if_match)
        _tagged(response, creds.record)
        return _credentials(creds)

    @router.post("/amqp-integrators/{integrator_id}/revocation", response_model=AmqpIntegratorOut,
                 summary="Revoke: the login is deleted and its connections closed; the record is kept")
    async def revoke_amqp_integrator(integrator_id: IntegratorId, body: ReasonIn, caller: Caller, runtime: RuntimeDep, response: Response,
                          if_match: OptionalIfMatch) -> AmqpIntegratorOut:
        _admin(caller)
        doc = await _amqp(runtime).revoke(integrator_id, reason=body.reason, by=caller.person_id, expected=if_match)
        return _integrator(_tagged(response, doc))

    # --- webhooks -------------------------------------------------------------------------------

    @router.post("/webhooks", status_code=201, response_model=WebhookSecretOut,
                 summary="Register a webhook endpoint for these event types (signing secret shown once)")
    async def create_webhook(body: WebhookIn, caller: Caller, runtime: RuntimeDep, response: Response) -> WebhookSecretOut:
        _admin(caller)
        doc, secret = await _webhooks(runtime).create(url=body.url, event_types=body.event_types, description=body.description, by=caller.person_id)
        await _rebind(runtime)
        response.headers["Location"] = f"{PREFIX}/webhooks/{doc['_id']}"
        return WebhookSecretOut(**_endpoint(_tagged(response, doc)).model_dump(), secret=secret)

    @router.get("/webhooks", response_model=Page[WebhookOut], summary="Webhook endpoints, newest first")
    async def list_webhooks(caller: Caller, runtime: RuntimeDep, page: Pagination) -> Page[WebhookOut]:
        _admin(caller)
        return await _newest_first(_webhooks(runtime), page, _endpoint)

    @router.get("/webhooks/{endpoint_id}", response_model=WebhookOut, summary="A webhook endpoint")
    async def get_webhook(endpoint_id: EndpointId, caller: Caller, runtime: RuntimeDep, response: Response) -> WebhookOut:
        _admin(caller)
        doc = await _webhooks(runtime).get(endpoint_id)
        return _endpoint(_tagged(response, doc))

    @router.patch("/webhooks/{endpoint_id}", response_model=WebhookOut, summary="Change an endpoint's URL, event types or description")
    async def change_webhook(endpoint_id: EndpointId, body: WebhookChange, caller: Caller, runtime: RuntimeDep, response: Response,
                             if_match: OptionalIfMatch) -> WebhookOut:
        _admin(caller)
        doc = await _webhooks(runtime).update(endpoint_id, url=body.url, event_types=body.event_types, description=body.description,
                                              by=caller.person_id, expected=if_match)
        await _rebind(runtime)
        return _endpoint(_tagged(response, doc))

    @router.post("/webhooks/{endpoint_id}/secret", response_model=WebhookSecretOut,
                 summary="Rotate the signing secret (the previous one keeps signing beside it for WEBHOOK_SECRET_OVERLAP_S)")
    async def rotate_webhook_secret(endpoint_id: EndpointId, caller: Caller, runtime: RuntimeDep, response: Response,
                            if_match: OptionalIfMatch) -> WebhookSecretOut:
        _admin(caller)
        doc, secret = await _webhooks(runtime).rotate_secret(endpoint_id, by=caller.person_id, expected=if_match)
        return WebhookSecretOut(**_endpoint(_tagged(response, doc)).model_dump(), secret=secret)

    @router.post("/webhooks/{endpoint_id}/enable", response_model=WebhookOut, summary="Enable again: held deliveries go out")
    async def enable_webhook(endpoint_id: EndpointId, caller: Caller, runtime: RuntimeDep, response: Response, if_match: OptionalIfMatch) -> WebhookOut:
        _admin(caller)
        doc = await _webhooks(runtime).enable(endpoint_id, by=caller.person_id, expected=if_match)
        runtime.extra["dispatcher"].wake()
        return _endpoint(_tagged(response, doc))

    @router.post("/webhooks/{endpoint_id}/disable", response_model=WebhookOut, summary="Disable: deliveries are held until enabled")
    async def disable_webhook(endpoint_id: EndpointId, body: ReasonIn, caller: Caller, runtime: RuntimeDep, response: Response,
                      if_match: OptionalIfMatch) -> WebhookOut:
        _admin(caller)
        doc = await _webhooks(runtime).disable(endpoint_id, reason=body.reason, by=caller.person_id, expected=if_match)
        return _endpoint(_tagged(response, doc))

    @router.delete("/webhooks/{endpoint_id}", response_model=WebhookOut, summary="Delete: no more deliveries; record and log kept")
    async def delete_webhook(endpoint_id: EndpointId, caller: Caller, runtime: RuntimeDep, if_match: OptionalIfMatch) -> WebhookOut:
        _admin(caller)
        doc = await _webhooks(runtime).delete(endpoint_id, by=caller.person_id, expected=if_match)
        await _rebind(runtime)
        return _endpoint(doc)

    @router.get("/webhooks/{endpoint_id}/deliveries", response_model=Page[DeliveryOut], summary="The endpoint's delivery log, newest first")
    async def list_webhook_deliveries(
        endpoint_id: EndpointId, caller: Caller, runtime: RuntimeDep, page: Pagination,
        status: Annotated[Literal["pending", "held", "delivered", "failed"] | None, Query()] = None,
    ) -> Page[DeliveryOut]:
        _admin(caller)
        docs = await _webhooks(runtime).deliveries(endpoint_id, status=status, limit=page.limit + 1, before=before(page))
        return newest_page_of(docs, page, _delivery)

    @router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryOut,
                 summary="Send a delivered or failed delivery again")
    async def redeliver_webhook_delivery(endpoint_id: EndpointId, delivery_id: Annotated[str, Path(max_length=200)], caller: Caller,
                        runtime: RuntimeDep) -> DeliveryOut:
        _admin(caller)
        doc = await _webhooks(runtime).redeliver(endpoint_id, delivery_id, by=caller.person_id)
        runtime.extra["dispatcher"].wake()
        return _delivery(doc)

    return router
