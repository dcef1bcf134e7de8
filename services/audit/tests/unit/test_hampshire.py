"""Hampshire's monthly prepare-and-select rules (seed 003): one different file a month, the
evidence list, the competent person's delegation, at least one file per team, the judgements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from audit.case_audit.domain.work import Evidence
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.hampshire import events as he
from audit.hampshire.domain.errors import SelectionRefused
from audit.hampshire.domain.events import Audited, CaseContactNote, Prepared, Saved, Selected
from audit.hampshire.domain.prepared_file import (
    AuditorWork,
    Delegation,
    FileStatus,
    Judgement,
    Preparation,
    PreparedFile,
    StandardPreparation,
    check_delegation,
    check_different_file,
    check_not_prepared_within_a_year,
    check_selection_closable,
    close_month_selection,
    collate,
    delegate_selection,
    months_before,
    previous_month,
    ready_list,
    standards_of,
    teams_without_selection,
    timetable,
)
from audit.tools.catalogue import HAMPSHIRE, shipped_tool
from shared.mongo import Transaction

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
STANDARDS = standards_of(shipped_tool(HAMPSHIRE))
SM, DELEGATE, WORKER, SUPERVISOR = "P-SM", "P-PEER", "P-SW1", "P-TM1"


def new_file(file_id: str = "F-1", team_id: str = "T-1", worker: str = WORKER, supervisor: str = SUPERVISOR, by: str | None = None) -> PreparedFile:
    return PreparedFile.start(
        file_id=file_id, month="2026-10", case_id="C-1", team_id=team_id, worker_id=worker, supervisor_id=supervisor,
        service_manager_id=SM, tool_id=HAMPSHIRE, tool_version=1, standards=STANDARDS, by=by or worker, at=T0,
    )


def evidence() -> StandardPreparation:
    return StandardPreparation(evidence=[Evidence(what="Risk assessment", when="14/06/2026", where="SWIFT")])


def full_preparation() -> Preparation:
    entries = {s.key: evidence() for s in STANDARDS}
    entries["standard_08"] = StandardPreparation(missing=True, action="Outcome measures requested from the family; chase at the next visit.")
    entries["standard_14"] = StandardPreparation(not_applicable=True)
    return Preparation(standards=entries, comments="Good recording of the child's views.")


def ready_file(**kwargs: str) -> PreparedFile:
    f = new_file(**kwargs)
    f.save_preparation(by=f.worker_id, preparation=full_preparation(), at=T0)
    f.mark_ready(by=f.supervisor_id, at=T0)
    f.events.clear()
    return f


def delegation(teams: tuple[str, ...] = ("T-2",), month: str = "2026-10", delegate: str = DELEGATE) -> Delegation:
    return Delegation(id="D-1", month=month, service_manager_id=SM, delegate_id=delegate, team_ids=teams, by=SM, at=T0)


def full_judgements(value: str = "yes") -> AuditorWork:
    judgements = {s.key: Judgement(value=value) for s in STANDARDS}
    judgements["standard_08"] = Judgement(value="no", comment="No outcome measures agreed with the family.")
    judgements["standard_14"] = Judgement(value="n/a")
    return AuditorWork(judgements=judgements, comments="A well-prepared file; outcome measures to be agreed.")


# --- the tool -----------------------------------------------------------------------------------


def test_the_fourteen_standards_come_from_the_tool_data_with_its_yes_no_na_judgements() -> None:
    assert [s.key for s in STANDARDS] == [f"standard_{n:02d}" for n in range(1, 15)]
    assert all(s.choices == ("yes", "no", "n/a") for s in STANDARDS)
    assert STANDARDS[3].text == "4. Is there evidence of the referred child being seen?"


# --- a different file each month, one per worker --------------------------------------------------


def test_the_same_worker_may_not_prepare_last_months_case_again() -> None:
    with pytest.raises(InvalidEntries) as refused:
        check_different_file(case_id="C-1", last_months_case_id="C-1", month="2026-10")
    assert refused.value.errors[0]["field"] == "case_id" and "2026-09" in refused.value.errors[0]["message"]
    check_different_file(case_id="C-2", last_months_case_id="C-1", month="2026-10")
    check_different_file(case_id="C-1", last_months_case_id=None, month="2026-10")


def test_a_case_prepared_is_not_prepared_again_for_twelve_months_by_any_worker() -> None:
    assert months_before("2027-02", 3) == ["2027-01", "2026-12", "2026-11"]
    with pytest.raises(InvalidEntries) as refused:
        check_not_prepared_within_a_year(case_id="C-1", month="2027-02", prepared_in=["2026-03", "2026-06"])
    assert "2026-06" in refused.value.errors[0]["message"] and "2027-06" in refused.value.errors[0]["message"]
    with pytest.raises(InvalidEntries):
        check_not_prepared_within_a_year(case_id="C-1", month="2027-02", prepared_in=["2026-03"])  # eleven months before
    check_not_prepared_within_a_year(case_id="C-1", month="2027-02", prepared_in=["2026-02"])  # twelve months on: again
    check_not_prepared_within_a_year(case_id="C-1", month="2027-02", prepared_in=[])


def test_the_timetable_of_appendix_5() -> None:
    october = timetable("2026-10")
    assert (october.list_due_on, october.audit_due_on, october.collated_by) == (date(2026, 11, 5), date(2026, 11, 20), date(2026, 12, 1))
    assert timetable("2026-12").collated_by == date(2027, 2, 1)


def test_previous_month_crosses_the_year() -> None:
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-10") == "2026-09"


def test_a_file_is_started_by_the_worker_or_their_supervisor_only() -> None:
    assert new_file(by=SUPERVISOR).created_by == SUPERVISOR
    with pytest.raises(NotAllowed):
        new_file(by="P-OTHER")
    with pytest.raises(InvalidEntries):
        PreparedFile.start(
            file_id="F", month="2026-10", case_id="C-1", team_id="T-1", worker_id=WORKER, supervisor_id=None, service_manager_id=SM,
            tool_id=HAMPSHIRE, tool_version=1, standards=STANDARDS, by=WORKER, at=T0,
        )


# --- preparation --------------------------------------------------------------------------------


def test_a_standard_has_its_evidence_or_a_gap_not_both() -> None:
    f = new_file()
    both = StandardPreparation(evidence=evidence().evidence, missing=True, action="Ask again")
    neither = StandardPreparation(not_applicable=True, missing=True)
    with pytest.raises(InvalidEntries) as refused:
        f.save_preparation(by=WORKER, preparation=Preparation(standards={"standard_01": both, "standard_02": neither}), at=T0)
    assert refused.value.errors == [
        {"field": "standards.standard_01", "message": "a standard has its evidence listed or is marked missing, not both"},
        {"field": "standards.standard_02", "message": "a standard that does not apply has no evidence and no gap"},
    ]
    assert f.preparation_saves == 0 and f.preparation == Preparation()


def test_a_draft_may_be_incomplete_but_never_names_a_standard_the_tool_lacks() -> None:
    f = new_file()
    with pytest.raises(InvalidEntries) as refused:
        f.save_preparation(by=WORKER, preparation=Preparation(standards={"standard_99": evidence()}), at=T0)
    assert refused.value.errors == [{"field": "standards.standard_99", "message": "there is no such standard on this file's tool"}]
    assert f.preparation_saves == 0
    f.save_preparation(by=SUPERVISOR, preparation=Preparation(standards={"standard_01": evidence()}), at=T0)
    assert isinstance(f.events[-1], Saved) and f.events[-1].number == 1 and f.events[-1].by == SUPERVISOR


def test_ready_is_refused_listing_every_standard_not_covered_and_a_gap_without_its_action() -> None:
    f = new_file()
    entries = {s.key: evidence() for s in STANDARDS[:12]}
    entries["standard_13"] = StandardPreparation(missing=True)
    f.save_preparation(by=WORKER, preparation=Preparation(standards=entries), at=T0)
    with pytest.raises(Gaps) as gaps:
        f.mark_ready(by=WORKER, at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["standards.standard_13.action", "standards.standard_14"]
    assert f.status is FileStatus.PREPARING


def test_a_ready_file_is_prepared_and_its_evidence_list_no_longer_edited() -> None:
    f = new_file()
    f.save_preparation(by=WORKER, preparation=full_preparation(), at=T0)
    f.mark_ready(by=SUPERVISOR, at=T0)
    assert f.status is FileStatus.READY and f.prepared_by == SUPERVISOR
    assert [type(e) for e in f.events[-2:]] == [Prepared, CaseContactNote]
    with pytest.raises(WrongStage):
        f.save_preparation(by=WORKER, preparation=full_preparation(), at=T0)
    with pytest.raises(NotAllowed):
        new_file().save_preparation(by=SM, preparation=full_preparation(), at=T0)


# --- the competent person -----------------------------------------------------------------------


def test_only_a_service_manager_may_delegate() -> None:
    with pytest.raises(NotAllowed):
        check_delegation(caller_id=SUPERVISOR, caller_roles=["team_manager"], delegate_id=DELEGATE, delegate_known=True, team_service_managers={"T-1": SM})


def test_a_service_manager_delegates_only_their_own_teams() -> None:
    with pytest.raises(NotAllowed) as refused:
        check_delegation(
            caller_id=SM, caller_roles=["service_manager"], delegate_id=DELEGATE, delegate_known=True,
            team_service_managers={"T-1": SM, "T-9": "P-SM-OTHER"},
        )
    assert "T-9" in str(refused.value) and "T-1" not in str(refused.value)


def test_the_delegate_is_a_known_person_other_than_the_service_manager() -> None:
    for delegate, known in ((SM, True), ("P-NOBODY", False)):
        with pytest.raises(InvalidEntries) as refused:
            check_delegation(caller_id=SM, caller_roles=["service_manager"], delegate_id=delegate, delegate_known=known, team_service_managers={"T-1": SM})
        assert refused.value.errors[0]["field"] == "delegate_id"
    with pytest.raises(InvalidEntries):
        check_delegation(caller_id=SM, caller_roles=["service_manager"], delegate_id=DELEGATE, delegate_known=True, team_service_managers={"T-X": None})
    check_delegation(caller_id=SM, caller_roles=["service_manager"], delegate_id=DELEGATE, delegate_known=True, team_service_managers={"T-1": SM})


def test_the_delegate_selects_and_is_recorded_on_the_file() -> None:
    f = ready_file(team_id="T-2")
    f.select(by=DELEGATE, delegation=delegation(("T-2",)), at=T0)
    assert f.status is FileStatus.SELECTED and f.auditor_id == DELEGATE
    assert f.delegation_id == "D-1" and f.delegated_by == SM
    assert isinstance(f.events[-1], Selected)


def test_the_service_manager_selects_without_a_delegation() -> None:
    f = ready_file()
    f.select(by=SM, delegation=None, at=T0)
    assert f.auditor_id == SM and f.delegation_id is None and f.delegated_by is None


@pytest.mark.parametrize(
    "who, given",
    [
        ("P-OTHER", None),  # nobody delegated anything to them
        (DELEGATE, delegation(("T-2",))),  # delegated another team
        (DELEGATE, delegation(("T-1",), month="2026-09")),  # delegated last month
        ("P-OTHER", delegation(("T-1",))),  # someone else's delegation
        (SUPERVISOR, None),  # the supervisor who prepared it
    ],
)
def test_a_person_not_delegated_is_refused(who: str, given: Delegation | None) -> None:
    f = ready_file()
    with pytest.raises(NotAllowed):
        f.select(by=who, delegation=given, at=T0)
    assert f.status is FileStatus.READY and f.auditor_id is None


def test_a_preparer_is_never_the_files_auditor_even_when_delegated() -> None:
    f = ready_file()
    with pytest.raises(NotAllowed):
        f.select(by=SUPERVISOR, delegation=delegation(("T-1",), delegate=SUPERVISOR), at=T0)


def test_only_a_ready_file_is_selected() -> None:
    with pytest.raises(WrongStage):
        new_file().select(by=SM, delegation=None, at=T0)


def test_a_delegate_sees_a_file_of_their_teams_once_it_is_ready() -> None:
    f = new_file(team_id="T-2")
    given = [delegation(("T-2",))]
    assert not f.visible_to(DELEGATE, [], given)
    f.save_preparation(by=WORKER, preparation=full_preparation(), at=T0)
    f.mark_ready(by=WORKER, at=T0)
    assert f.visible_to(DELEGATE, [], given)
    assert not f.visible_to(DELEGATE, [], [delegation(("T-1",))])
    assert not f.visible_to("P-OUTSIDER", ["social_worker"])
    assert f.visible_to("P-QA", ["qa_officer"]) and f.visible_to(SM, [])


# --- at least one file per team -----------------------------------------------------------------


def test_teams_without_a_selected_file_are_listed() -> None:
    assert teams_without_selection([("T-1", True), ("T-1", False), ("T-2", False), ("T-3", False)]) == ["T-2", "T-3"]
    assert teams_without_selection([("T-1", True)]) == []


def test_closing_the_selection_is_refused_listing_the_teams_without_a_file() -> None:
    with pytest.raises(SelectionRefused) as refused:
        check_selection_closable(service_manager_id=SM, files=[("T-1", True, SM), ("T-2", False, None), ("T-3", False, None)])
    assert [e.get("team_id") for e in refused.value.errors] == ["T-2", "T-3"]


def test_the_service_manager_audits_at_least_one_file_themselves() -> None:
    with pytest.raises(SelectionRefused) as refused:
        check_selection_closable(service_manager_id=SM, files=[("T-1", True, DELEGATE)])
    assert [e["field"] for e in refused.value.errors] == ["auditor_id"]


def test_a_selection_with_nothing_put_forward_cannot_be_closed_and_all_may_be_audited() -> None:
    with pytest.raises(SelectionRefused):
        check_selection_closable(service_manager_id=SM, files=[])
    check_selection_closable(service_manager_id=SM, files=[("T-1", True, SM), ("T-1", True, SM), ("T-2", True, DELEGATE)])


def test_a_file_not_selected_keeps_its_partially_completed_tool() -> None:
    f = ready_file()
    f.leave_unselected(by=SM, at=T0)
    assert f.status is FileStatus.NOT_SELECTED and f.preparation == full_preparation()
    with pytest.raises(WrongStage):
        f.select(by=SM, delegation=None, at=T0)


# --- judging the standards --------------------------------------------------------------------------


def test_only_the_auditor_judges_and_only_on_the_tools_scale() -> None:
    f = ready_file()
    f.select(by=SM, delegation=None, at=T0)
    with pytest.raises(NotAllowed):
        f.save_judgements(by=WORKER, work=full_judgements(), at=T0)
    with pytest.raises(InvalidEntries) as refused:
        f.save_judgements(by=SM, work=AuditorWork(judgements={"standard_01": Judgement(value="partly met")}), at=T0)
    assert refused.value.errors[0]["message"] == "the judgement must be one of: yes, no, n/a"


def test_completing_needs_every_standard_judged_evidence_for_met_and_the_comments() -> None:
    f = ready_file()
    f.select(by=SM, delegation=None, at=T0)
    work = full_judgements()
    judgements = dict(work.judgements)
    del judgements["standard_02"]
    judgements["standard_08"] = Judgement(value="yes")  # its evidence was missing
    f.save_judgements(by=SM, work=AuditorWork(judgements=judgements), at=T0)
    with pytest.raises(Gaps) as gaps:
        f.complete(by=SM, at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["judgements.standard_02", "judgements.standard_08", "comments"]
    f.save_judgements(by=SM, work=work, at=T0)
    f.complete(by=SM, at=T0)
    assert f.status is FileStatus.AUDITED and [type(e) for e in f.events[-2:]] == [Audited, CaseContactNote]
    assert f.judgement_counts() == {"yes": 12, "no": 1, "n/a": 1}


def test_a_file_not_selected_is_not_audited() -> None:
    with pytest.raises(WrongStage):
        ready_file().save_judgements(by=SM, work=full_judgements(), at=T0)


def test_the_collation_counts_per_team_and_per_standard() -> None:
    audited = ready_file(file_id="F-1", team_id="T-1")
    audited.select(by=SM, delegation=None, at=T0)
    audited.save_judgements(by=SM, work=full_judgements(), at=T0)
    audited.complete(by=SM, at=T0)
    left = ready_file(file_id="F-2", team_id="T-1", worker="P-SW2")
    left.leave_unselected(by=SM, at=T0)
    preparing = new_file("F-3", team_id="T-2", worker="P-SW3")
    result = collate("2026-10", [audited, left, preparing])
    assert (result["prepared"], result["selected"], result["audited"]) == (2, 1, 1)
    assert result["teams"] == [
        {"team_id": "T-1", "in_preparation": 0, "prepared": 2, "selected": 1, "audited": 1, "not_selected": 1},
        {"team_id": "T-2", "in_preparation": 1, "prepared": 0, "selected": 0, "audited": 0, "not_selected": 0},
    ]
    by_standard = {s["standard"]: s["judgements"] for s in result["standards"]}
    assert by_standard["standard_08"] == {"yes": 0, "no": 1, "n/a": 0} and by_standard["standard_01"]["yes"] == 1
    assert result["audits"][0]["file_id"] == "F-1" and result["audits"][0]["judgements"]["standard_14"] == "n/a"


# --- from domain events to integration events ---------------------------------------------------


def published(happened: list[Any]) -> list[tuple[str, dict[str, Any], str | None]]:
    """What ``hampshire.events.record`` stages in a transaction for these domain events."""
    tx = Transaction(session=cast(Any, None))
    he.record(tx, happened)
    return [(t.type, data.model_dump(mode="json"), subject) for t, data, subject in tx.staged]


def test_a_file_made_ready_publishes_it_prepared_then_its_contact_note_and_a_save_publishes_nothing() -> None:
    f = new_file()
    f.save_preparation(by=WORKER, preparation=full_preparation(), at=T0)
    assert published(f.events) == []
    f.events.clear()
    f.mark_ready(by=SUPERVISOR, at=T0)
    assert published(f.events) == [
        ("audit.hampshire.file.prepared.v1", {
            "file_id": "F-1", "month": "2026-10", "case_id": "C-1", "team_id": "T-1", "worker_id": WORKER, "supervisor_id": SUPERVISOR,
            "service_manager_id": SM, "tool_id": HAMPSHIRE, "tool_version": 1, "missing_standards": ["standard_08"],
            "prepared_by": SUPERVISOR, "prepared_at": "2026-10-05T09:00:00Z",
        }, "hampshire-file/F-1"),
        ("audit.case-note.contact.v1", {
            "file_id": "F-1", "case_id": "C-1", "stage": "prepared", "note_type": "Quality practice audit: file prepared for audit",
            "text": f"File prepared for quality practice audit (2026-10) on 2026-10-05 by worker {WORKER} and supervisor {SUPERVISOR}.",
            "by_ids": [WORKER, SUPERVISOR], "recorded_on": "2026-10-05", "recorded_at": "2026-10-05T09:00:00Z",
        }, "hampshire-file/F-1"),
    ]


def test_a_file_selected_by_a_delegate_publishes_who_audits_it_and_when_it_is_due() -> None:
    f = ready_file(team_id="T-2")
    f.select(by=DELEGATE, delegation=delegation(("T-2",)), at=T0)
    assert published(f.events) == [
        ("audit.hampshire.file.selected.v1", {
            "file_id": "F-1", "month": "2026-10", "case_id": "C-1", "team_id": "T-2", "service_manager_id": SM, "auditor_id": DELEGATE,
            "delegation_id": "D-1", "delegated_by": SM, "selected_at": "2026-10-05T09:00:00Z", "due_on": "2026-11-20",
        }, "hampshire-file/F-1"),
    ]


def test_an_audited_file_publishes_its_judgements_then_the_contact_note_naming_who_judged() -> None:
    f = ready_file(team_id="T-2")
    f.select(by=DELEGATE, delegation=delegation(("T-2",)), at=T0)
    f.save_judgements(by=DELEGATE, work=full_judgements(), at=T0)
    f.events.clear()
    f.complete(by=DELEGATE, at=T0)
    [(audited_type, audited, audited_subject), (note_type, note, note_subject)] = published(f.events)
    assert (audited_type, audited_subject) == ("audit.hampshire.file.audited.v1", "hampshire-file/F-1")
    assert audited == {
        "file_id": "F-1", "month": "2026-10", "case_id": "C-1", "team_id": "T-2", "worker_id": WORKER, "supervisor_id": SUPERVISOR,
        "service_manager_id": SM, "auditor_id": DELEGATE, "delegation_id": "D-1", "delegated_by": SM, "tool_id": HAMPSHIRE, "tool_version": 1,
        "judgements": {k: j.value for k, j in full_judgements().judgements.items()}, "audited_at": "2026-10-05T09:00:00Z",
    }
    assert list(audited["judgements"]) == list(full_judgements().judgements)
    assert (note_type, note_subject) == ("audit.case-note.contact.v1", "hampshire-file/F-1")
    assert note == {
        "file_id": "F-1", "case_id": "C-1", "stage": "audited", "note_type": "Quality practice audit: file quality audited",
        "text": f"File quality audited (2026-10) on 2026-10-05; quality practice judgement by {DELEGATE} (delegated by service manager {SM}).",
        "by_ids": [DELEGATE], "recorded_on": "2026-10-05", "recorded_at": "2026-10-05T09:00:00Z",
    }


def test_the_ready_list_publishes_the_files_per_team_and_the_delegates_of_those_teams() -> None:
    files = [ready_file(file_id="F-2", team_id="T-2", worker="P-SW2"), ready_file(file_id="F-1", team_id="T-1"), ready_file(file_id="F-3", team_id="T-2", worker="P-SW3")]
    others = Delegation(id="D-2", month="2026-10", service_manager_id=SM, delegate_id="P-OTHER", team_ids=("T-9",), by=SM, at=T0)
    sent = ready_list(files, list_id="L-1", month="2026-10", service_manager_id=SM, delegations=[delegation(("T-2",)), others], by="audit-scheduler", at=T0)
    assert all(f.ready_list_id == "L-1" for f in files)
    assert published([sent]) == [
        ("audit.hampshire.files.ready.v1", {
            "list_id": "L-1", "month": "2026-10", "service_manager_id": SM,
            "teams": [{"team_id": "T-1", "file_ids": ["F-1"]}, {"team_id": "T-2", "file_ids": ["F-2", "F-3"]}], "file_count": 3,
            "delegate_ids": [DELEGATE], "audit_due_on": "2026-11-20", "sent_by": "audit-scheduler", "sent_at": "2026-10-05T09:00:00Z",
        }, f"hampshire-month/2026-10/{SM}"),
    ]


def test_a_delegation_publishes_its_teams_in_order() -> None:
    d, delegated = delegate_selection(
        delegation_id="D-7", month="2026-10", caller_id=SM, caller_roles=["service_manager"], delegate_id=DELEGATE, delegate_known=True,
        team_service_managers={"T-2": SM, "T-1": SM}, at=T0,
    )
    assert d.team_ids == ("T-1", "T-2") and d.by == SM
    assert published([delegated]) == [
        ("audit.hampshire.selection.delegated.v1", {
            "delegation_id": "D-7", "month": "2026-10", "service_manager_id": SM, "delegate_id": DELEGATE, "team_ids": ["T-1", "T-2"],
            "delegated_at": "2026-10-05T09:00:00Z",
        }, "hampshire-delegation/D-7"),
    ]


def test_closing_the_selection_publishes_what_was_selected_and_what_was_not() -> None:
    chosen = ready_file(file_id="F-1", team_id="T-1")
    chosen.select(by=SM, delegation=None, at=T0)
    left = ready_file(file_id="F-2", team_id="T-1", worker="P-SW2")
    closed = close_month_selection(month="2026-10", service_manager_id=SM, files=[chosen, left], at=T0)
    assert left.status is FileStatus.NOT_SELECTED and chosen.status is FileStatus.SELECTED
    assert published([closed]) == [
        ("audit.hampshire.selection.closed.v1", {
            "month": "2026-10", "service_manager_id": SM, "selected_file_ids": ["F-1"], "not_selected_file_ids": ["F-2"], "closed_by": SM,
            "closed_at": "2026-10-05T09:00:00Z",
        }, f"hampshire-month/2026-10/{SM}"),
    ]
