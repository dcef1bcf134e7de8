"""``create_service_app``'s ``workers``: each built once the service's ``on_startup`` has run,
running while the service runs, and stopped at shutdown before its ``on_shutdown``."""

from __future__ import annotations

from fastapi import FastAPI
from shared.app import Runtime, create_service_app
from shared.settings import ServiceSettings
from shared.worker import BackgroundWorker

from devstack.testing import eventually, running_service


async def test_a_worker_starts_after_on_startup_runs_with_the_service_and_stops_before_on_shutdown(service_env) -> None:
    seen: list[str] = []
    passes = 0

    async def one_pass() -> None:
        nonlocal passes
        passes += 1

    def build(runtime: Runtime) -> BackgroundWorker:
        seen.append("built" if "started" in runtime.extra else "built before on_startup")
        return BackgroundWorker("test sweeper", interval_s=0.05, run=one_pass)

    async def on_startup(runtime: Runtime) -> None:
        runtime.extra["started"] = True

    async def on_shutdown(runtime: Runtime) -> None:
        seen.append("running at on_shutdown" if any(w.running for w in runtime.workers) else "stopped at on_shutdown")

    def create_app() -> FastAPI:
        settings = ServiceSettings(service_name="workers", access_log=False)
        return create_service_app(
            settings, title="t", description="d", workers=[build], on_startup=on_startup, on_shutdown=on_shutdown
        )

    async with running_service(create_app) as svc:
        assert len(svc.runtime.workers) == 1

        async def passes_run() -> bool:
            return passes >= 3

        await eventually(passes_run, message="three passes of the worker")
        worker = svc.runtime.workers[0]
    assert not worker.running
    assert seen == ["built", "stopped at on_shutdown"]
