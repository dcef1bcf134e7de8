"""The resolution app in-process against real MongoDB and RabbitMQ, with a small directory
(projected through the service's own store functions) and the themes added through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from resolution.directory import CaseChanged, PersonChanged, project_case, project_person
from resolution.main import create_app

from devstack.testing import ServiceClient, running_service

PEOPLE = {
    "IRO-1": ["iro"],
    "CPC-1": ["cp_chair"],
    "SW-1": ["social_worker"],
    "SW-2": ["senior_practitioner"],
    "TM-1": ["team_manager"],
    "TM-2": ["team_manager"],
    "HOS-1": ["head_of_service"],
    "SD-1": ["service_director"],
    "ED-1": ["executive_director"],
    "QA-1": ["qa_officer"],
    "ADM-1": ["administrator"],
    "SW-9": ["social_worker"],
}

CASES = [
    CaseChanged(case_id="CASE-1", version=1, case_type="CIC", status="open", team_id="T-1", allocated_worker_id="SW-1", team_manager_id="TM-1"),
    CaseChanged(case_id="CASE-2", version=1, case_type="CP", status="open", team_id="T-2"),
    CaseChanged(case_id="CASE-3", version=1, case_type="CIN", status="closed", team_id="T-1"),
]


@dataclass
class Resolution:
    """The running service and the headers each member of staff sends."""

    svc: ServiceClient

    @property
    def http(self) -> Any:
        return self.svc.http

    @property
    def db(self) -> Any:
        return self.svc.db

    def as_(self, person_id: str, **headers: str) -> dict[str, str]:
        return {**self.svc.as_person(person_id, roles=PEOPLE[person_id]), **headers}

    def edit(self, person_id: str, version: int | str) -> dict[str, str]:
        return self.as_(person_id, **{"If-Match": f'"{version}"'})

    async def form(self, form_id: str, person_id: str = "IRO-1") -> dict[str, Any]:
        response = await self.http.get(f"/v1/forms/{form_id}", headers=self.as_(person_id))
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        return dict(response.json())

    async def raise_form(self, case_id: str = "CASE-1", by: str = "IRO-1", **body: Any) -> dict[str, Any]:
        body.setdefault("concerns", [{"theme_id": "care-planning", "detail": "No permanence plan at the second review."}])
        response = await self.http.post("/v1/forms", json={"case_id": case_id, **body}, headers=self.as_(by))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def act(self, method: str, path: str, person_id: str, version: int, json: Any = None, status: int = 200) -> dict[str, Any]:
        response = await self.http.request(method, path, json=json, headers=self.edit(person_id, version))
        assert response.status_code == status, response.text
        return dict(response.json())


@pytest.fixture
async def resolution(service_env: dict[str, str]) -> AsyncIterator[Resolution]:
    async with running_service(create_app) as svc:
        for person_id, roles in PEOPLE.items():
            await project_person(svc.db, PersonChanged(person_id=person_id, version=1, roles=roles))
        for case in CASES:
            await project_case(svc.db, case)
        r = Resolution(svc)
        for name in ("Care planning", "Contact", "Placement stability"):
            response = await svc.http.post("/v1/themes", json={"name": name}, headers=r.as_("ADM-1"))
            assert response.status_code == 201, response.text
        for name in ("Moved to another authority", "Concern withdrawn"):
            response = await svc.http.post("/v1/closing-reasons", json={"name": name}, headers=r.as_("QA-1"))
            assert response.status_code == 201, response.text
        yield r
