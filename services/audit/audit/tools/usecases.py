"""Adding audit tools and tool versions: the shipped tools seeded at start-up, and the versions
QA staff add (each a new version; a version is never changed)."""

from __future__ import annotations

from shared.idempotency import IdempotencyKey, remember
from shared.identity import Identity
from shared.mongo import Transaction, UnitOfWork

from ..common.context import SERVICE_ACTOR, AuditContext, each_in_own_transaction
from ..common.errors import NotAllowed
from ..common.roles import PROGRAMME_ROLES
from . import store as tool_store
from .catalogue import ShippedTool, shipped_tools
from .domain.definition import ToolDefinition


async def seed_shipped_tools(uow: UnitOfWork) -> list[str]:
    """Version 1 of every shipped tool, where the tool does not exist yet (safe on every replica)."""

    async def seed(tx: Transaction, shipped: ShippedTool) -> str:
        await tool_store.add_version(tx, uow.db, shipped.tool_id, shipped.definition, expected=None, by=SERVICE_ACTOR, at=uow.clock.now())
        return shipped.tool_id

    # A tool another replica seeded first is left as that replica wrote it.
    missing = [shipped for shipped in shipped_tools() if await tool_store.latest_version(uow.db, shipped.tool_id) is None]
    return await each_in_own_transaction(uow, missing, seed)


async def add_tool_version(
    ctx: AuditContext, *, tool_id: str, definition: ToolDefinition, expected: int | None, caller: Identity, key: IdempotencyKey | None
) -> int:
    if PROGRAMME_ROLES.isdisjoint(caller.roles):
        raise NotAllowed("Only administrators and QA staff add audit tools and tool versions.")

    async def work(tx: Transaction) -> int:
        version = await tool_store.add_version(tx, ctx.db, tool_id, definition, expected=expected, by=caller.person_id, at=ctx.uow.clock.now())
        await remember(tx, ctx.db, key, f"{tool_id}@{version}", now=ctx.uow.clock.now())
        return version

    return await ctx.uow.run(work)
