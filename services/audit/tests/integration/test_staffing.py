"""What the monthly draw reads of the audit service's directory projection (``directory.staffing``),
on real MongoDB: every open case and only those, in case-id order whatever order the directory
told them in, each with every type it holds and its line manager (the case's team manager, else
its team's), and the active auditors and peer reviewers."""

from __future__ import annotations

from datetime import date

from audit.common import directory
from audit.common.directory import CaseChanged, PersonChanged, TeamChanged, project_case, project_many
from audit.cycles.domain.sampling import OpenCase

from devstack.testing import Infrastructure
from shared import mongo


async def test_the_draw_reads_every_open_case_in_case_id_order_with_its_line_manager(infrastructure: Infrastructure, namespace: str) -> None:
    client = mongo.connect(infrastructure.mongodb_url)
    db = client[f"{namespace}_audit"]
    try:
        await mongo.create_indexes(db, directory.INDEXES)
        people = [
            PersonChanged(person_id="TM1", version=1, roles=["team_manager"], team_id="T1", line_manager_id="SM"),
            PersonChanged(person_id="TM2", version=1, roles=["team_manager"], team_id="T2", line_manager_id="SM"),
            PersonChanged(person_id="TM-LEFT", version=1, roles=["team_manager"], active=False),
            PersonChanged(person_id="PR1", version=1, roles=["peer_reviewer"], line_manager_id="SM"),
            PersonChanged(person_id="SW1", version=1, roles=["social_worker"], line_manager_id="TM1"),
        ]
        teams = [TeamChanged(team_id="T1", version=1, manager_id="TM1"), TeamChanged(team_id="T2", version=1, manager_id="TM2")]
        opened = date(2026, 3, 1)
        # Told in no particular order; C-05 is closed, C-03 has no team manager of its own (its
        # team's manager line-manages it), C-07 is both CP and CIC.
        cases = [
            CaseChanged(case_id="C-09", version=1, case_type="CIN", team_id="T2", team_manager_id="TM2", opened_on=opened),
            CaseChanged(case_id="C-05", version=1, case_type="CP", team_id="T1", team_manager_id="TM1", opened_on=opened, status="closed"),
            CaseChanged(case_id="C-07", version=1, case_type="CIC", case_types=["CP"], team_id="T1", team_manager_id="TM1", opened_on=opened),
            CaseChanged(case_id="C-03", version=1, case_type="CP", team_id="T2", opened_on=opened),
            CaseChanged(case_id="C-10", version=1, case_type="CIC", team_id="T1", team_manager_id="TM1", opened_on=opened),
        ]
        await project_many(db, people, teams, cases[:2])
        for case in cases[2:]:
            await project_case(db, case)

        staff = await directory.staffing(db)

        assert staff.cases == [
            OpenCase(case_id="C-03", case_types=("CP",), team_id="T2", line_manager_id="TM2"),
            OpenCase(case_id="C-07", case_types=("CIC", "CP"), team_id="T1", line_manager_id="TM1"),
            OpenCase(case_id="C-09", case_types=("CIN",), team_id="T2", line_manager_id="TM2"),
            OpenCase(case_id="C-10", case_types=("CIC",), team_id="T1", line_manager_id="TM1"),
        ]
        assert staff.cases[1].audit_type == "CP"
        assert staff.auditors == ["TM1", "TM2"] and staff.peer_reviewers == ["PR1"]
        assert staff.line_managers == {"TM1": "SM", "TM2": "SM", "PR1": "SM"}
    finally:
        await client.close()
