""""Today" is the day in England, not the UTC day. During British Summer Time 23:00-24:00 UTC is
already the next day in England: at 23:30Z on Monday 31 August 2026 it is 00:30 on Tuesday
1 September there. The scheduler has always counted days in England; the routes and use cases
below do too, so that moment answers as 1 September: August is over (no draw, no preview), the
July-August themed period is overdue, October's draw day (Thursday 24 September) has come at
23:30Z on the 23rd, a case opened on 1 June has been open three months, and something received
or held on 1 September is not in the future; and the draw's twelve months of recently audited
cases begin at midnight in England. Each test would answer as for the UTC day (a day earlier) if
"today" were ``clock.now().date()``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from audit.case_audit.store import AUDITS
from audit.common.directory import project_many
from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import eventually, running_service

from .conftest import load_authority, seed_directory, small_authority

KENT = "kent-online-peer-review"
QA = ("P-QA", ["qa_officer"])

#: 23:30 BST on Monday 31 August 2026: still 31 August in England.
LATE_ON_31_AUGUST = datetime(2026, 8, 31, 22, 30, tzinfo=UTC)
#: 00:30 BST on Tuesday 1 September 2026, while the UTC day is still 31 August.
EARLY_ON_1_SEPTEMBER = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)


def app(clock: FixedClock):
    return lambda: create_app(clock=clock)


async def test_the_month_is_over_at_midnight_in_england_not_at_midnight_utc(service_env) -> None:
    clock = FixedClock(LATE_ON_31_AUGUST)
    async with running_service(app(clock)) as svc:
        await load_authority(svc.db, teams=2)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        # 23:30 in England on 31 August: August is not over yet.
        assert (await svc.http.post("/v1/cycles/2026-08/preview", json={}, headers=qa)).status_code == 200

        clock.set(EARLY_ON_1_SEPTEMBER)  # 00:30 on 1 September in England; 31 August in UTC
        preview = await svc.http.post("/v1/cycles/2026-08/preview", json={}, headers=qa)
        assert preview.status_code == 409 and "over" in preview.json()["detail"], preview.text
        draw = await svc.http.post("/v1/cycles/2026-08/draw", json={}, headers=qa)
        assert draw.status_code == 409 and "over" in draw.json()["detail"], draw.text
        assert await svc.db["cycles"].count_documents({}) == 0


async def test_the_scheduled_draw_runs_as_of_the_day_in_england_when_its_body_names_none(service_env) -> None:
    # October 2026's draw day: 5 working days before Thursday 1 October is Thursday 24 September.
    clock = FixedClock(datetime(2026, 9, 23, 22, 30, tzinfo=UTC))  # 23:30 BST on the 23rd
    async with running_service(app(clock)) as svc:
        await load_authority(svc.db, teams=2)
        admin = svc.as_person("P-ADMIN", roles=["administrator"])
        assert (await svc.http.post("/v1/cycles/scheduled-draws", json={}, headers=admin)).json() == {"drawn": []}

        clock.set(datetime(2026, 9, 23, 23, 30, tzinfo=UTC))  # 00:30 BST on the 24th; the 23rd in UTC
        due = await svc.http.post("/v1/cycles/scheduled-draws", json={}, headers=admin)
        assert due.json() == {"drawn": [f"{KENT}:2026-10"]}, due.text


async def test_the_themed_period_is_overdue_once_its_last_day_is_over_in_england(service_env) -> None:
    clock = FixedClock(LATE_ON_31_AUGUST)
    async with running_service(app(clock)) as svc:
        qa = svc.as_person(*QA[:1], roles=QA[1])

        async def july_august() -> dict[str, str]:
            schedule = await svc.http.get("/v1/themed/schedule", params={"year": 2026}, headers=qa)
            assert schedule.status_code == 200, schedule.text
            return next(p for p in schedule.json() if p["period"] == "2026-07")

        assert await july_august() == {"period": "2026-07", "months": ["2026-07", "2026-08"], "due_on": "2026-08-31", "state": "upcoming", "theme": None}
        clock.set(EARLY_ON_1_SEPTEMBER)
        assert (await july_august())["state"] == "overdue"


async def test_an_audit_allocated_on_the_third_monthiversary_in_england_shows_the_over_three_months_form(service_env, capture) -> None:
    # Cases opened on 1 June 2026 have been open three months on 1 September (in England).
    people, teams, cases = small_authority(teams=2)
    clock = FixedClock(EARLY_ON_1_SEPTEMBER)
    async with running_service(app(clock)) as svc:
        await project_many(svc.db, people, teams, [c.model_copy(update={"opened_on": date(2026, 6, 1)}) for c in cases])
        qa = svc.as_person(*QA[:1], roles=QA[1])

        # By hand (case_audit's allocation).
        by_hand = await svc.http.post("/v1/audits", json={"tool_id": KENT, "case_id": "C-0-1", "auditor_id": "TM0", "peer_reviewer_id": "PR0"}, headers=qa)
        assert by_hand.status_code == 201, by_hand.text
        assert by_hand.json()["open_band"] == "over_3_months"

        # Drawn (the cycle's allocation batch): September's draw, made at 00:30 on 1 September.
        drawn = await svc.http.post("/v1/cycles/2026-09/draw", json={"seed": "sep-2026"}, headers=qa)
        assert drawn.status_code == 201, drawn.text

        async def all_allocated() -> bool:
            return bool((await svc.http.get("/v1/cycles/2026-09", headers=qa)).json()["allocated"] == 2)

        await eventually(all_allocated)
        # The audit allocated by hand and the draw's two.
        allocated = await capture.wait_for("audit.audit.allocated.v1", 3)
        bands = [(await svc.http.get(f"/v1/audits/{e.data['audit_id']}", headers=qa)).json()["open_band"] for e in allocated]
        assert bands == ["over_3_months"] * 3


async def test_what_was_received_or_held_on_the_first_of_september_in_england_is_not_in_the_future(service_env) -> None:
    clock = FixedClock(EARLY_ON_1_SEPTEMBER)
    async with running_service(app(clock)) as svc:
        await seed_directory(svc.db)
        http = svc.http
        chair, iro = svc.as_person("P-CPC", roles=["cp_chair"]), svc.as_person("P-IRO", roles=["iro"])

        form = {"kind": "initial_cp_conference", "case_id": "C-3001", "meeting_on": "2026-09-01", "report_received_on": "2026-08-31",
                "ratings": {"report": "good"}, "comments": "Held at 00:15"}
        tomorrow = await http.post("/v1/monitoring-forms", json={**form, "meeting_on": "2026-09-02"}, headers=chair)
        assert tomorrow.status_code == 422 and tomorrow.json()["errors"][0]["field"] == "meeting_on"
        submitted = await http.post("/v1/monitoring-forms", json=form, headers=chair)
        assert submitted.status_code == 201, submitted.text

        feedback = {"kind": "consultation", "respondent": "parent", "team_id": "T-CP", "received_on": "2026-09-01", "view": "mixed", "comments": "By email"}
        assert (await http.post("/v1/feedback", json={**feedback, "received_on": "2026-09-02"}, headers=iro)).status_code == 422
        received = await http.post("/v1/feedback", json=feedback, headers=iro)
        assert received.status_code == 201, received.text

        compliment = {"team_id": "T-CP", "received_on": "2026-09-01", "respondent": "parent", "summary": "Thank you"}
        assert (await http.post("/v1/compliments", json={**compliment, "received_on": "2026-09-02"}, headers=iro)).status_code == 422
        thanked = await http.post("/v1/compliments", json=compliment, headers=iro)
        assert thanked.status_code == 201, thanked.text


async def test_a_case_audited_after_midnight_in_england_on_the_first_day_of_the_window_is_not_drawn_again(service_env) -> None:
    # August 2027's draw leaves out the cases audited in the 12 months from 1 August 2026, a day
    # that began at 23:00Z on 31 July in England.
    clock = FixedClock(datetime(2027, 7, 20, 9, 0, tzinfo=UTC))
    async with running_service(app(clock)) as svc:
        await load_authority(svc.db, teams=2)
        qa = svc.as_person(*QA[:1], roles=QA[1])
        everyone = (await svc.http.post("/v1/cycles/2027-08/preview", json={"seed": "s"}, headers=qa)).json()["eligible_cases"]
        await svc.db[AUDITS].insert_many([
            # 00:30 BST on 1 August 2026: in the window.
            {"_id": "in-window", "case_id": "C-1-1", "created_at": datetime(2026, 7, 31, 23, 30, tzinfo=UTC)},
            # 23:30 BST on 31 July 2026: the day before it.
            {"_id": "before-window", "case_id": "C-2-1", "created_at": datetime(2026, 7, 31, 22, 30, tzinfo=UTC)},
        ])
        preview = (await svc.http.post("/v1/cycles/2027-08/preview", json={"seed": "s"}, headers=qa)).json()
        assert preview["eligible_cases"] == everyone - 1
        drawn = {a["case_id"] for a in preview["assignments"]}
        assert "C-1-1" not in drawn
