"""Kent's rules beside the stages, through the audit API against real MongoDB and RabbitMQ: an
immediate safeguarding concern raised from inside an audit (4.7), the allocated social worker's
views before the audit (2), and the safeguarding QA service manager copied on every moderation (4.8)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from audit.case_audit import events as ie
from audit.common.directory import CaseChanged, PersonChanged, project_case, project_person
from pypdf import PdfReader

from devstack.testing import EventCapture, ServiceClient
from devstack.testing import problem as _problem

from .conftest import QA_OFFICER, complete, grading
from .service import seeded_service

KENT = "kent-online-peer-review"
CASE = "C-5001"
CONCERN = "The child told the auditor of bruising seen at school last week."


def _pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@dataclass
class Kent:
    svc: ServiceClient
    capture: EventCapture

    def __post_init__(self) -> None:
        self.http = self.svc.http
        self.qa = self.svc.as_person(QA_OFFICER[0], roles=QA_OFFICER[1])
        self.tm = self.svc.as_person("P-TM3", roles=["team_manager", "auditor"])
        self.pr = self.svc.as_person("P-PR", roles=["peer_reviewer"])
        self.sm = self.svc.as_person("P-SM", roles=["service_manager"])
        self.sw = self.svc.as_person("P-SW", roles=["social_worker"])
        self.other_sw = self.svc.as_person("P-SW2", roles=["social_worker"])
        self.stranger = self.svc.as_person("P-X", roles=["team_manager", "auditor"])

    async def allocate(self, case_id: str = CASE, auditor: str = "P-TM3") -> dict[str, Any]:
        body = {"tool_id": KENT, "case_id": case_id, "auditor_id": auditor, "peer_reviewer_id": "P-PR", "month": "2026-10"}
        created = await self.http.post("/v1/audits", json=body, headers=self.qa)
        assert created.status_code == 201, created.text
        return dict(created.json())

    async def read(self, audit_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.get(f"/v1/audits/{audit_id}", headers=headers)

    async def raise_concern(self, audit_id: str, headers: dict[str, str], concern: str = CONCERN, **extra: str) -> httpx.Response:
        return await self.http.post(
            f"/v1/audits/{audit_id}/safeguarding-concerns", json={"concern": concern}, headers={**headers, **extra}
        )

    async def acknowledge(
        self,
        audit_id: str,
        concern_id: str,
        headers: dict[str, str],
        version: int,
        outcome: str = "Strategy discussion held today.",
    ) -> httpx.Response:
        return await self.http.post(
            f"/v1/audits/{audit_id}/safeguarding-concerns/{concern_id}/acknowledgement",
            json={"outcome": outcome},
            headers={**headers, "If-Match": f'"{version}"'},
        )

    async def views(
        self, audit_id: str, headers: dict[str, str], version: int, views: str = "I visit weekly; the plan drifted in the summer."
    ) -> httpx.Response:
        return await self.http.put(
            f"/v1/audits/{audit_id}/practitioner-views", json={"views": views}, headers={**headers, "If-Match": f'"{version}"'}
        )

    async def submit_stage1(self, audit: dict[str, Any]) -> dict[str, Any]:
        url = f"/v1/audits/{audit['id']}/stage1"
        version = (await self.read(audit["id"], self.tm)).json()["version"]
        saved = await self.http.put(url, json=complete(audit["form"]), headers={**self.tm, "If-Match": f'"{version}"'})
        assert saved.status_code == 200, saved.text
        submitted = await self.http.post(f"{url}/submit", headers={**self.tm, "If-Match": saved.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        return dict(submitted.json())

    async def pdf(self, audit_id: str, stage: str) -> str:
        listed = (await self.http.get(f"/v1/audits/{audit_id}/pdfs", headers=self.tm)).json()["items"]
        [item] = [i for i in listed if i["stage"] == stage]
        return _pdf_text((await self.http.get(item["href"], headers=self.tm)).content)


@pytest.fixture
async def kent(service_env: dict[str, str], capture: EventCapture) -> AsyncIterator[Kent]:
    async with seeded_service() as svc:
        for person_id in ("P-SW", "P-SW2"):
            await project_person(
                svc.db,
                PersonChanged(
                    person_id=person_id,
                    version=1,
                    name=f"Name of {person_id}",
                    roles=["social_worker"],
                    team_id="T-CP",
                    line_manager_id="P-TM3",
                ),
            )
        await project_case(
            svc.db,
            CaseChanged(
                case_id=CASE,
                version=1,
                case_type="CP",
                team_id="T-CP",
                team_manager_id="P-TM3",
                allocated_worker_id="P-SW",
                opened_on=date(2026, 6, 20),
            ),
        )
        yield Kent(svc, capture)


# --- 4.7 Immediate safeguarding concerns ------------------------------------------------------------


async def test_a_concern_raised_during_stage_1_goes_to_the_team_manager_and_service_manager_with_ids_only(kent: Kent) -> None:
    """Seed 004, 4.7: "Action should not wait until auditing is completed." """
    audit = await kent.allocate()
    raised = await kent.raise_concern(audit["id"], kent.tm)  # no If-Match: adding a concern overwrites nothing
    assert raised.status_code == 201, raised.text
    body = raised.json()
    assert body["status"] == "audit" and raised.headers["ETag"] == '"2"'
    [concern] = body["safeguarding_concerns"]
    assert (concern["raised_by"], concern["raised_as"], concern["concern"]) == ("P-TM3", "auditor", CONCERN)
    assert (concern["team_manager_id"], concern["service_manager_id"], concern["acknowledged_at"]) == ("P-TM3", "P-SM", None)

    [event] = await kent.capture.wait_for(ie.SAFEGUARDING_CONCERN_RAISED.type, 1)
    assert event.data == {
        "audit_id": audit["id"],
        "concern_id": concern["id"],
        "case_ref": CASE,
        "raised_by": "P-TM3",
        "team_manager_id": "P-TM3",
        "service_manager_id": "P-SM",
        "recipient_ids": ["P-TM3", "P-SM"],
        "raised_at": "2026-10-01T09:00:00Z",
    }
    assert "bruising" not in str(event.data)
    # The service manager it went to may now read the audit and the concern.
    as_sm = await kent.read(audit["id"], kent.sm)
    assert as_sm.status_code == 200 and as_sm.json()["safeguarding_concerns"][0]["concern"] == CONCERN


async def test_the_service_manager_records_the_outcome_once_and_it_is_published(kent: Kent) -> None:
    """Seed 004, 4.7: "to ensure that the case-holding social worker is made aware of these concerns as
    a matter of urgency and takes appropriate action." """
    audit = await kent.allocate()
    concern_id = (await kent.raise_concern(audit["id"], kent.tm)).json()["safeguarding_concerns"][0]["id"]
    _problem(await kent.acknowledge(audit["id"], concern_id, kent.pr, 2), 403)  # the peer reviewer is no recipient
    _problem(await kent.acknowledge(audit["id"], concern_id, kent.stranger, 2), 404)  # not party to the audit
    _problem(await kent.acknowledge(audit["id"], concern_id, kent.sm, 2, outcome=" "), 422)
    _problem(await kent.acknowledge(audit["id"], "nope", kent.sm, 2), 422)
    _problem(await kent.acknowledge(audit["id"], concern_id, kent.sm, 1), 412)
    done = await kent.acknowledge(audit["id"], concern_id, kent.sm, 2)
    assert done.status_code == 200, done.text
    concern = done.json()["safeguarding_concerns"][0]
    assert (concern["acknowledged_by"], concern["outcome"]) == ("P-SM", "Strategy discussion held today.")
    again = await kent.acknowledge(audit["id"], concern_id, kent.tm, 3, outcome="Something else")
    _problem(again, 409)
    assert (await kent.read(audit["id"], kent.tm)).json()["safeguarding_concerns"][0][
        "outcome"
    ] == "Strategy discussion held today."
    [event] = await kent.capture.wait_for(ie.SAFEGUARDING_CONCERN_ACKNOWLEDGED.type, 1)
    assert event.data == {
        "audit_id": audit["id"],
        "concern_id": concern_id,
        "case_ref": CASE,
        "acknowledged_by": "P-SM",
        "acknowledged_at": "2026-10-01T09:00:00Z",
    }
    await kent.capture.flushed(kent.svc.db)
    assert len(kent.capture.of_type(ie.SAFEGUARDING_CONCERN_ACKNOWLEDGED.type)) == 1


async def test_only_the_auditor_or_peer_reviewer_raise_a_concern_and_a_bad_one_changes_nothing(kent: Kent) -> None:
    """Seed 004, 4.7: "The Peer Reviewer is also expected to ensure that any immediate concerns they have
    identified during the audit are responded to by the Team Manager." """
    audit = await kent.allocate()
    _problem(await kent.raise_concern(audit["id"], kent.stranger), 404)
    _problem(await kent.raise_concern(audit["id"], kent.qa), 403)
    _problem(await kent.raise_concern(audit["id"], kent.sw), 403)  # the social worker reads the audit, raises nothing here
    _problem(await kent.raise_concern(audit["id"], kent.tm, concern=""), 422)
    _problem(await kent.raise_concern(audit["id"], kent.tm, concern="x" * 8001), 422)
    _problem(await kent.raise_concern(audit["id"], kent.tm, **{"If-Match": '"7"'}), 412)
    after = (await kent.read(audit["id"], kent.tm)).json()
    assert after["version"] == 1 and after["safeguarding_concerns"] == []
    # The peer reviewer, at stage 2.
    await kent.submit_stage1(audit)
    raised = await kent.raise_concern(audit["id"], kent.pr)
    assert raised.status_code == 201, raised.text
    assert raised.json()["safeguarding_concerns"][0]["raised_as"] == "peer_reviewer"


async def test_the_concern_and_its_outcome_appear_on_the_next_pdf(kent: Kent) -> None:
    """Seed 004, 4.7 (on the audit's record): the concern raised during the audit and what was done."""
    audit = await kent.allocate()
    concern_id = (await kent.raise_concern(audit["id"], kent.tm)).json()["safeguarding_concerns"][0]["id"]
    assert (await kent.acknowledge(audit["id"], concern_id, kent.sm, 2)).status_code == 200
    await kent.submit_stage1(audit)
    text = await kent.pdf(audit["id"], "audit")
    assert "Immediate safeguarding concerns" in text and "bruising seen at school" in text
    assert "Strategy discussion held today." in text and "Name of P-SM (P-SM)" in text


# --- 2 The allocated social worker's views -------------------------------------------------------------


async def test_the_allocated_social_worker_gives_views_the_auditor_and_peer_reviewer_see(kent: Kent) -> None:
    """Seed 004, 2: "The allocated Social Worker ... contributes to the auditing process, through
    providing their views and reflections on their practice in the case to the Auditor (Team Manager)
    before the Auditor quality assures practice." """
    audit = await kent.allocate()
    assert audit["social_worker_id"] == "P-SW" and audit["practitioner_views"] is None
    first = await kent.views(audit["id"], kent.sw, 1)
    assert first.status_code == 200, first.text
    second = await kent.views(audit["id"], kent.sw, 2, views="I visit weekly; the plan drifted in July and August.")
    assert second.status_code == 200 and second.json()["practitioner_views"]["saves"] == 2
    seen = (await kent.read(audit["id"], kent.tm)).json()["practitioner_views"]
    assert (seen["views"], seen["by"]) == ("I visit weekly; the plan drifted in July and August.", "P-SW")
    await kent.submit_stage1(audit)
    assert (await kent.read(audit["id"], kent.pr)).json()["practitioner_views"]["views"].endswith("July and August.")
    assert "the plan drifted in July and August." in await kent.pdf(audit["id"], "audit")
    # Before the auditor quality assures practice: not after the submission.
    _problem(await kent.views(audit["id"], kent.sw, (await kent.read(audit["id"], kent.sw)).json()["version"]), 409)
    assert kent.capture.of_type("audit.practitioner-views.given.v1") == []


async def test_only_the_allocated_social_worker_writes_the_views(kent: Kent) -> None:
    """Seed 004, 2: "The allocated Social Worker for each child / young person's case selected for
    audit also contributes to the auditing process"."""
    audit = await kent.allocate()
    _problem(await kent.views(audit["id"], kent.tm, 1), 403)
    _problem(await kent.views(audit["id"], kent.other_sw, 1), 404)  # not party to the audit
    _problem(await kent.views(audit["id"], kent.sw, 1, views=" "), 422)
    _problem(await kent.views(audit["id"], kent.sw, 9), 412)
    assert (await kent.read(audit["id"], kent.sw)).json()["version"] == 1
    # A case whose social worker the directory does not name: nobody gives views (the audit goes on).
    other = await kent.allocate(case_id="C-3001")
    assert other["social_worker_id"] is None
    _problem(await kent.views(other["id"], kent.sw, 1), 404)


# --- 4.8 The safeguarding QA service manager kept updated on every moderation ---------------------------


async def test_the_moderated_copy_of_a_case_graded_good_goes_to_the_safeguarding_qa_service_manager(kent: Kent) -> None:
    """Seed 004, 4.8: "Ensure that the Service Manager Safeguarding Quality Assurance is kept updated on
    the outcome of the moderation." """
    tm4 = kent.svc.as_person("P-TM4", roles=["team_manager", "auditor"])
    audit = await kent.allocate(case_id="C-4001", auditor="P-TM4")  # a child in care: no CP chairs' manager
    url = f"/v1/audits/{audit['id']}"
    saved = await kent.http.put(f"{url}/stage1", json=complete(audit["form"]), headers={**tm4, "If-Match": '"1"'})
    submitted = await kent.http.post(f"{url}/stage1/submit", headers={**tm4, "If-Match": saved.headers["ETag"]})
    review = complete(audit["form"], peer=True)
    review["section_grades"]["assessment"] = "requires_improvement"
    saved = await kent.http.put(f"{url}/peer-review", json=review, headers={**kent.pr, "If-Match": submitted.headers["ETag"]})
    submitted = await kent.http.post(f"{url}/peer-review/submit", headers={**kent.pr, "If-Match": saved.headers["ETag"]})
    assert submitted.json()["status"] == "moderation", submitted.text
    proposal = grading(audit["form"], "good", "good")
    proposed = await kent.http.post(
        f"{url}/moderation/proposals", json=proposal, headers={**tm4, "If-Match": submitted.headers["ETag"]}
    )
    accepted = await kent.http.post(f"{url}/moderation/accept", headers={**kent.pr, "If-Match": proposed.headers["ETag"]})
    assert accepted.status_code == 200 and accepted.json()["grade_of_record"] == "good", accepted.text
    copies = {c.data["stage"]: c.data for c in await kent.capture.wait_for(ie.COPY_ROUTED.type, 3)}
    assert "P-QASM" not in copies["peer_review"]["recipient_ids"]  # graded good: not before the moderation
    moderated = {r["person_id"]: r["reasons"] for r in copies["moderated"]["recipients"]}
    assert moderated["P-QASM"] == ["safeguarding_qa_service_manager"]
