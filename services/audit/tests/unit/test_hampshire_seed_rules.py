"""Hampshire's rules of issue 21 (seed 003): the auditor raises with the team/unit manager a
standard they judge not met that the team/unit manager said was (10.5); the workers who put no
file forward in a month (4.1); the monthly collations reported quarterly (14.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from audit.case_audit.domain.work import Evidence
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.hampshire import events as he
from audit.hampshire.domain.events import DisagreementRaised, DisagreementSettled
from audit.hampshire.domain.prepared_file import (
    AuditorWork,
    DisagreementOutcome,
    FileStatus,
    Judgement,
    Preparation,
    PreparedFile,
    StandardPreparation,
    Worker,
    collate,
    disagreed_standards,
    quarter_months,
    quarterly_report,
    standards_of,
    workers_without_file,
)
from audit.tools.catalogue import HAMPSHIRE, shipped_tool

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 10, 9, 14, 0, tzinfo=UTC)
STANDARDS = standards_of(shipped_tool(HAMPSHIRE))
SM, WORKER, SUPERVISOR, TEAM_MANAGER = "P-SM", "P-SW1", "P-SUP", "P-TM1"


def ready_file(file_id: str = "F-1", team_id: str = "T-1", worker: str = WORKER, month: str = "2026-10") -> PreparedFile:
    f = PreparedFile.start(
        file_id=file_id,
        month=month,
        case_id="C-1",
        team_id=team_id,
        worker_id=worker,
        supervisor_id=SUPERVISOR,
        service_manager_id=SM,
        tool_id=HAMPSHIRE,
        tool_version=1,
        standards=STANDARDS,
        by=worker,
        at=T0,
    )
    entries = {
        s.key: StandardPreparation(evidence=[Evidence(what="Risk assessment", when="14/06/2026", where="SWIFT")])
        for s in STANDARDS
    }
    entries["standard_08"] = StandardPreparation(missing=True, action="Outcome measures requested from the family.")
    entries["standard_14"] = StandardPreparation(not_applicable=True)
    f.save_preparation(by=worker, preparation=Preparation(standards=entries, comments="Good recording."), at=T0)
    f.mark_ready(by=SUPERVISOR, at=T0)
    f.select(by=SM, delegation=None, at=T0)
    f.events.clear()
    return f


def judgements(**overrides: Judgement) -> AuditorWork:
    values = {s.key: Judgement(value="yes") for s in STANDARDS}
    values["standard_08"] = Judgement(value="no", comment="No outcome measures agreed.")
    values["standard_14"] = Judgement(value="n/a")
    values.update(overrides)
    return AuditorWork(judgements=values, comments="A well-prepared file.")


def audited(f: PreparedFile, work: AuditorWork) -> PreparedFile:
    f.save_judgements(by=SM, work=work, at=T0)
    f.complete(by=SM, at=T0, team_manager_id=TEAM_MANAGER)
    return f


# --- 10.5 -----------------------------------------------------------------------------------------


def test_a_standard_with_evidence_listed_but_judged_not_met_is_a_disagreement() -> None:
    """Seed 003, 10.5: "If a team/unit manager decides that evidence meets the required standard but
    the auditor ... makes a judgement that the evidence does not meet the required standard, the
    auditor must raise this with the team/unit manager." A standard whose evidence was missing
    (7.1), or judged met, is not one."""
    f = ready_file()
    work = judgements(
        standard_03=Judgement(value="no", comment="The risk to the public is not assessed."),
        standard_05=Judgement(value="no", comment="x"),
    )
    assert disagreed_standards(f.standards, f.preparation, work) == ["standard_03", "standard_05"]
    assert disagreed_standards(f.standards, f.preparation, judgements()) == []


def test_completing_with_a_disagreement_needs_the_auditors_reason_for_each() -> None:
    """Seed 003, 10.5: "the auditor must raise this with the team/unit manager": the audit is not
    completed until each such judgement says why the evidence does not meet the standard."""
    f = ready_file()
    f.save_judgements(by=SM, work=judgements(standard_03=Judgement(value="no")), at=T0)
    with pytest.raises(Gaps) as gaps:
        f.complete(by=SM, at=T0, team_manager_id=TEAM_MANAGER)
    assert [e["field"] for e in gaps.value.errors] == ["judgements.standard_03.comment"]
    assert f.status is FileStatus.SELECTED and f.disagreement is None and f.events[-1].__class__.__name__ == "Saved"


def test_completing_raises_the_disagreement_with_the_team_manager() -> None:
    """Seed 003, 10.5: "the auditor must raise this with the team/unit manager": recorded on the
    file, published for the team/unit manager's tray, and the team/unit manager may read the file."""
    f = audited(ready_file(), judgements(standard_03=Judgement(value="no", comment="The risk to the public is not assessed.")))
    assert f.status is FileStatus.AUDITED
    d = f.disagreement
    assert d is not None and d.standards == ("standard_03",) and d.auditor_id == SM and d.team_manager_id == TEAM_MANAGER
    assert d.outcome is None and d.raised_at == T0
    raised = f.events[-1]
    assert (
        isinstance(raised, DisagreementRaised) and raised.team_manager_id == TEAM_MANAGER and raised.standards == ("standard_03",)
    )
    assert f.visible_to(TEAM_MANAGER, ["team_manager"])


def test_with_no_team_manager_known_it_is_raised_with_the_supervisor() -> None:
    """Seed 003, 10.5 ("raise this with the team/unit manager"): the worker's supervisor, who
    prepared the file with them, when the directory names no other manager for the team."""
    f = ready_file()
    f.save_judgements(by=SM, work=judgements(standard_03=Judgement(value="no", comment="Not assessed.")), at=T0)
    f.complete(by=SM, at=T0, team_manager_id=None)
    assert f.disagreement is not None and f.disagreement.team_manager_id == SUPERVISOR


def test_no_disagreement_no_event_and_no_outcome_to_record() -> None:
    """Seed 003, 10.5: only a standard the team/unit manager said was met and the auditor did not."""
    f = audited(ready_file(), judgements())
    assert f.disagreement is None and not any(isinstance(e, DisagreementRaised) for e in f.events)
    with pytest.raises(WrongStage):
        f.settle_disagreement(by=TEAM_MANAGER, outcome="agreed", notes="Discussed.", at=T1)


def test_the_team_manager_records_the_outcome_once() -> None:
    """Seed 003, 10.5: the auditor, "who has ultimate responsibility for the quality of the file",
    raises it; the team/unit manager records what came of it (their judgement stands either way)."""
    f = audited(ready_file(), judgements(standard_03=Judgement(value="no", comment="Not assessed.")))
    for who in (SM, WORKER, SUPERVISOR):
        with pytest.raises(NotAllowed):
            f.settle_disagreement(by=who, outcome="agreed", notes="Discussed.", at=T1)
    with pytest.raises(InvalidEntries) as bad:
        f.settle_disagreement(by=TEAM_MANAGER, outcome="maybe", notes="  ", at=T1)
    assert [e["field"] for e in bad.value.errors] == ["outcome", "notes"]
    assert f.disagreement is not None and f.disagreement.outcome is None
    f.settle_disagreement(by=TEAM_MANAGER, outcome="not_agreed", notes="The risk assessment of 14/06 covers the public.", at=T1)
    d = f.disagreement
    assert d is not None and d.outcome is DisagreementOutcome.NOT_AGREED and d.settled_by == TEAM_MANAGER and d.settled_at == T1
    assert f.work.judgements["standard_03"].value == "no", "the auditor's judgement stands"
    settled = f.events[-1]
    assert isinstance(settled, DisagreementSettled) and settled.outcome == "not_agreed"
    with pytest.raises(WrongStage):
        f.settle_disagreement(by=TEAM_MANAGER, outcome="agreed", notes="Changed my mind.", at=T1)
    assert f.disagreement.outcome is DisagreementOutcome.NOT_AGREED


def test_the_disagreement_events_carry_identifiers_only() -> None:
    """Seed 003, 10.5: the raised and settled events name the file, people and standards, never the
    auditor's reasons nor the team manager's notes."""
    f = audited(ready_file(), judgements(standard_03=Judgement(value="no", comment="SECRET REASON")))
    f.settle_disagreement(by=TEAM_MANAGER, outcome="agreed", notes="SECRET NOTES", at=T1)
    staged: list[tuple[str, dict]] = []

    class Tx:
        def record(self, event_type, data, *, subject):
            staged.append((event_type.name, data.model_dump(mode="json")))

    he.record(Tx(), f.events)
    names = [n for n, _ in staged]
    assert names[-2:] == ["audit.hampshire.disagreement.raised", "audit.hampshire.disagreement.settled"]
    raised, settled = staged[-2][1], staged[-1][1]
    assert raised["team_manager_id"] == TEAM_MANAGER and raised["standards"] == ["standard_03"] and raised["auditor_id"] == SM
    assert settled["outcome"] == "agreed" and settled["file_id"] == "F-1"
    assert "SECRET" not in str(staged)


# --- 4.1 ------------------------------------------------------------------------------------------


def test_the_workers_who_put_no_file_forward_are_listed() -> None:
    """Seed 003, 4.1: "Each month one file per worker must be selected and put forward for audit."
    A worker with no file, or a file started but not yet ready, is listed; one put forward is not."""
    put_forward = ready_file(file_id="F-1", worker="P-SW1")
    started = PreparedFile.start(
        file_id="F-2",
        month="2026-10",
        case_id="C-2",
        team_id="T-1",
        worker_id="P-SW2",
        supervisor_id=SUPERVISOR,
        service_manager_id=SM,
        tool_id=HAMPSHIRE,
        tool_version=1,
        standards=STANDARDS,
        by="P-SW2",
        at=T0,
    )
    workers = [Worker("P-SW3", "T-2", "P-TM2"), Worker("P-SW2", "T-1", SUPERVISOR), Worker("P-SW1", "T-1", SUPERVISOR)]
    assert workers_without_file(workers, [put_forward, started]) == [
        {"worker_id": "P-SW2", "team_id": "T-1", "supervisor_id": SUPERVISOR, "file_id": "F-2", "status": "in_preparation"},
        {"worker_id": "P-SW3", "team_id": "T-2", "supervisor_id": "P-TM2", "file_id": None, "status": "no_file"},
    ]
    assert workers_without_file([], [put_forward]) == []


# --- 14.3 -----------------------------------------------------------------------------------------


def test_a_quarter_is_three_calendar_months() -> None:
    """Seed 003, 14.3: "report on the results quarterly"."""
    assert quarter_months("2026-Q4") == ["2026-10", "2026-11", "2026-12"]
    assert quarter_months("2027-Q1") == ["2027-01", "2027-02", "2027-03"]
    for bad in ("2026-Q5", "2026-10", "Q1"):
        with pytest.raises(InvalidEntries):
            quarter_months(bad)


def test_the_monthly_collations_are_reported_quarterly() -> None:
    """Seed 003, 14.3: "The Performance Management Unit will collate the results received on a
    monthly basis and report on the results quarterly." """
    october = audited(ready_file(file_id="F-1", month="2026-10"), judgements())
    november = audited(
        ready_file(file_id="F-2", team_id="T-2", worker="P-SW2", month="2026-11"),
        judgements(standard_01=Judgement(value="no", comment="Not enough information.")),
    )
    outside = audited(ready_file(file_id="F-3", month="2027-01"), judgements())
    report = quarterly_report(
        "2026-Q4", [collate("2026-10", [october]), collate("2026-11", [november]), collate("2027-01", [outside])]
    )
    assert report["months"] == [
        {"month": "2026-10", "prepared": 1, "selected": 1, "audited": 1},
        {"month": "2026-11", "prepared": 1, "selected": 1, "audited": 1},
        {"month": "2026-12", "prepared": 0, "selected": 0, "audited": 0},
    ]
    assert (report["prepared"], report["selected"], report["audited"]) == (2, 2, 2)
    assert report["teams"] == [
        {"team_id": "T-1", "prepared": 1, "selected": 1, "audited": 1},
        {"team_id": "T-2", "prepared": 1, "selected": 1, "audited": 1},
    ]
    by_standard = {s["standard"]: s for s in report["standards"]}
    assert (
        by_standard["standard_01"]["judgements"] == {"yes": 1, "no": 1, "n/a": 0}
        and by_standard["standard_01"]["met_percent"] == 50
    )
    assert (
        by_standard["standard_14"]["judgements"] == {"yes": 0, "no": 0, "n/a": 2}
        and by_standard["standard_14"]["met_percent"] is None
    )
    empty = quarterly_report("2026-Q3", [])
    assert (
        empty["audited"] == 0
        and empty["standards"] == []
        and [m["month"] for m in empty["months"]] == ["2026-07", "2026-08", "2026-09"]
    )
