"""Who may do what, enforced by sign-off from the caller's roles and teams and its directory copy."""

from __future__ import annotations

from signoff import directory, events, store
from signoff.directory import PersonChanged
from signoff.main import create_app

from devstack.testing import EventCapture, running_service
from services.signoff.tests.integration.harness import STAFF, act, create, load_directory, signed_off, who


async def test_counter_signature_by_a_social_worker_is_forbidden(service_env, capture: EventCapture) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        first = await act(svc, "P-SW1", await create(svc), "first-signature")
        refused = await act(svc, "P-SW2", first, "counter-signature", expect=403)
        assert "counter-signature" in refused.json()["detail"]
        doc = await svc.db[store.EXEMPLARS].find_one({"_id": first.json()["id"]})
        assert doc["status"] == "first_signed" and doc["revision"] == 2
        await capture.flushed(svc.db)  # every event written has arrived
        assert not capture.of_type(events.EXEMPLAR_COUNTER_SIGNED.type)


async def test_a_manager_of_another_team_does_not_even_see_the_exemplar(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        first = await act(svc, "P-SW1", await create(svc), "first-signature")
        await act(svc, "P-SP", first, "counter-signature", expect=404)  # senior practitioner of T-CIN
        assert (await svc.http.get(f"/v1/exemplars/{first.json()['id']}", headers=who(svc, "P-SP"))).status_code == 404
        assert (await svc.http.get("/v1/cases/C-1001/chronology", headers=who(svc, "P-SP"))).status_code == 404


async def test_the_district_manager_of_the_teams_district_may_counter_sign(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        first = await act(svc, "P-SW1", await create(svc), "first-signature")
        done = await act(svc, "P-DM", first, "counter-signature")  # P-DM sits in T-CIN, same district, and above P-TM1
        assert done.json()["current"]["counter_signature"]["by"] == "P-DM"


async def test_the_first_signer_may_not_counter_sign_a_core_assessment(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        answers = {"date_commenced": "2026-03-02", "child_seen": True, "developmental_needs": "a", "parenting_capacity": "b",
                   "family_environment": "c", "analysis": "d", "outcome": "Child in need plan"}
        created = await create(svc, type_code="COREAS", answers=answers)
        # someone who is both a social worker and a senior practitioner signs first...
        both = svc.as_person("P-SW1", roles=["social_worker", "senior_practitioner"], teams=["T-DA"])
        first = await svc.http.post(f"/v1/exemplars/{created.json()['id']}/first-signature", json={}, headers={**both, "If-Match": '"1"'})
        assert first.status_code == 200
        refused = await svc.http.post(f"/v1/exemplars/{created.json()['id']}/counter-signature", json={}, headers={**both, "If-Match": '"2"'})
        assert refused.status_code == 403 and "someone else" in refused.json()["detail"]


async def test_first_signature_by_a_role_the_type_does_not_name_is_forbidden(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        created = await create(svc)
        await act(svc, "P-PS", created, "first-signature", expect=403)  # a practice supervisor does not first-sign


async def test_unlock_by_administrator_and_refusal_for_someone_outside_the_team(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        done = await signed_off(svc)
        await act(svc, "P-SWCP", done, "unlock", {"reason": "x"}, expect=404)  # a social worker of another team
        assert (await act(svc, "P-ADMIN", done, "unlock", {"reason": "data quality fix"})).json()["version"] == 2


async def test_only_an_administrator_changes_exemplar_types(service_env) -> None:
    async with running_service(create_app) as svc:
        current = await svc.http.get("/v1/exemplar-types/INIASS", headers=who(svc, "P-TM1"))
        body = {k: v for k, v in current.json().items() if k not in ("code", "version")}
        refused = await svc.http.put("/v1/exemplar-types/INIASS", json=body, headers={**who(svc, "P-TM1"), "If-Match": '"1"'})
        assert refused.status_code == 403
        assert (await svc.http.get("/v1/exemplar-types/INIASS", headers=who(svc, "P-TM1"))).json()["version"] == 1


async def test_the_timeliness_report_is_for_managers_and_performance_staff(service_env) -> None:
    async with running_service(create_app) as svc:
        url = "/v1/reports/timeliness?from=2026-01-01&to=2026-12-31"
        assert (await svc.http.get(url, headers=who(svc, "P-SW1"))).status_code == 403
        assert (await svc.http.get(url, headers=who(svc, "P-PERF"))).status_code == 200


async def test_managers_up_the_line_management_chain_read_the_exemplar_up_to_eight_levels_above_the_team_manager(service_env) -> None:
    """Everyone above the team's manager in the line-management chain may read (and so oversee) the
    team's exemplars, up to ``MAX_CHAIN`` levels: the chain is read in one command, not level by level."""
    async with running_service(create_app) as svc:
        await load_directory(svc)
        # P-TM1 -> P-DM (level 1) -> P-L2 -> ... -> P-L9 (level 9)
        above = "P-DM"
        for level in range(2, 10):
            person_id = f"P-L{level}"
            await directory.put(svc.db, PersonChanged(person_id=person_id, version=1, roles=["team_manager"], team_id=None, line_manager_id=None))
            await directory.put(svc.db, PersonChanged(person_id=above, version=level, roles=STAFF[above][0] if above in STAFF else ["team_manager"],
                                                      team_id=STAFF[above][1] if above in STAFF else None, line_manager_id=person_id))
            above = person_id
        exemplar_id = (await create(svc)).json()["id"]

        def reader(person_id: str) -> dict[str, str]:
            return svc.as_person(person_id, roles=["team_manager"], teams=[])  # no role that reads every case

        for level in (2, 5, 8):
            resp = await svc.http.get(f"/v1/exemplars/{exemplar_id}", headers=reader(f"P-L{level}"))
            assert resp.status_code == 200, (level, resp.text)
        assert (await svc.http.get(f"/v1/exemplars/{exemplar_id}", headers=reader("P-L9"))).status_code == 404, "nine levels up: beyond the chain"
