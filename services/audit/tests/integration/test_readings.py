"""The audit service's gauges against real MongoDB and RabbitMQ: a programme's draw reads overdue
from its draw day until next month is drawn, and the audits it allocates are counted by
programme, month and stage, as the operators' alerts and dashboard read them."""

from __future__ import annotations

from audit.main import create_app
from audit.reporting.readings import readings
from prometheus_client import REGISTRY
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

from .conftest import DRAW_DAY, load_authority

KENT = "kent-online-peer-review"


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_the_draw_reads_overdue_until_drawn_and_its_audits_are_counted_by_stage(service_env) -> None:
    async with running_service(lambda: create_app(clock=FixedClock(DRAW_DAY))) as svc:
        runtime = svc.runtime
        passes = readings(runtime.extra["cycle_settings"])

        async def read() -> None:
            for reading in passes:
                await reading(runtime)

        await load_authority(svc.db, teams=2)
        await read()
        assert _value("qa_audit_draw_overdue", tool_id=KENT) == 1  # 24 November: December's draw day

        qa = svc.as_person("P-QA", roles=["qa_officer"])
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "readings"}, headers=qa)).status_code == 201

        async def allocated() -> bool:
            return bool((await svc.http.get("/v1/cycles/2026-12", headers=qa)).json()["allocated"] == 2)

        await eventually(allocated)
        await read()
        assert _value("qa_audit_draw_overdue", tool_id=KENT) == 0
        assert _value("qa_audit_audits", programme="peer_review", month="next", status="audit") == 2
        assert _value("qa_audit_audits", programme="peer_review", month="next", status="completed") == 0
        assert _value("qa_audit_audits", programme="peer_review", month="current", status="audit") == 0
