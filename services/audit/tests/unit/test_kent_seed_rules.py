"""Kent's rules beside the stages (seed 004): immediate safeguarding concerns raised from inside an
audit (4.7), the allocated social worker's views (2) and the safeguarding QA service manager kept
updated on every moderation (4.8)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from audit.case_audit import events as ie
from audit.case_audit import pdf
from audit.case_audit.domain import events as ev
from audit.case_audit.domain.audit import Audit, AuditStatus, CaseFacts
from audit.case_audit.domain.routing import Contacts, CopyStage, copy_recipients
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.tools.domain.definition import CaseType
from pypdf import PdfReader

from .conftest import HILLINGDON, T0, complete_work, form, in_moderation, new_audit, submitted

LATER = T0 + timedelta(hours=2)


def _kent(social_worker: str | None = "P-SW") -> Audit:
    f = form()
    audit = Audit.allocate(
        audit_id="A-1",
        form=f,
        case=CaseFacts(case_id="C-3001", case_type=f.case_type, opened_on=date(2026, 1, 5), team_id="T-CP"),
        auditor_id="P-TM",
        peer_reviewer_id="P-PR",
        coordinator_id=None,
        by="P-QA",
        at=T0,
        social_worker_id=social_worker,
    )
    audit.events.clear()
    return audit


def _raise(audit: Audit, by: str = "P-TM", text: str = "The child disclosed being hit at home last week.") -> str:
    return audit.raise_concern(
        concern_id="K-1", by=by, concern=text, team_manager_id="P-TM", service_manager_id="P-SM", at=LATER
    ).id


def _text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


# --- 4.7 Immediate safeguarding concerns --------------------------------------------------------------


@pytest.mark.parametrize("audit", [_kent(), submitted(), in_moderation()], ids=["audit", "peer_review", "moderation"])
def test_an_auditor_raises_a_concern_at_any_stage_and_it_goes_at_once_to_the_team_manager_and_service_manager(
    audit: Audit,
) -> None:
    """Seed 004, 4.7: "It is the responsibility of the Team Manager auditing the case to ensure that
    any immediate concerns are identified regarding a child's safety or wellbeing during the course
    of the audit ... Action should not wait until auditing is completed." """
    status = audit.status
    _raise(audit)
    assert audit.status is status  # the audit goes on; the concern does not wait for it
    concern = audit.concerns[0]
    assert concern.recipients == ["P-TM", "P-SM"] and concern.raised_as == "auditor" and not concern.acknowledged
    [raised] = audit.events
    assert isinstance(raised, ev.SafeguardingConcernRaised)
    assert (raised.team_manager_id, raised.service_manager_id, raised.by) == ("P-TM", "P-SM", "P-TM")


def test_a_concern_can_be_raised_after_the_audit_is_completed() -> None:
    """Seed 004, 4.7: "Action should not wait until auditing is completed. It is fundamental that
    children's safety and welfare are prioritised." """
    audit = new_audit(form(HILLINGDON))
    audit.save_audit_draft(by="P-TM", work=complete_work(audit.form), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    assert audit.status is AuditStatus.COMPLETED
    _raise(audit)
    assert len(audit.concerns) == 1


def test_the_peer_reviewer_raises_a_concern_for_the_team_manager_to_respond_to() -> None:
    """Seed 004, 4.7: "The Peer Reviewer is also expected to ensure that any immediate concerns they
    have identified during the audit are responded to by the Team Manager." """
    audit = submitted()
    _raise(audit, by="P-PR")
    assert audit.concerns[0].raised_as == "peer_reviewer" and audit.concerns[0].team_manager_id == "P-TM"


@pytest.mark.parametrize("person", ["P-SM", "P-QA", "P-SW"])
def test_only_the_auditor_or_peer_reviewer_raises_a_concern_from_the_audit(person: str) -> None:
    """Seed 004, 4.7: the Team Manager auditing the case, and "The Peer Reviewer is also expected to
    ensure that any immediate concerns they have identified during the audit are responded to"."""
    audit = _kent()
    with pytest.raises(NotAllowed):
        _raise(audit, by=person)
    assert audit.concerns == [] and audit.events == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 8001])
def test_an_empty_or_overlong_concern_is_refused_and_nothing_is_recorded(text: str) -> None:
    """Seed 004, 4.7: "any immediate concerns are identified regarding a child's safety or wellbeing"."""
    audit = _kent()
    with pytest.raises(InvalidEntries):
        _raise(audit, text=text)
    assert audit.concerns == []


@pytest.mark.parametrize("person", ["P-TM", "P-SM"])
def test_the_team_manager_or_service_manager_records_the_action_taken_and_its_outcome(person: str) -> None:
    """Seed 004, 4.7: "to ensure that the case-holding social worker is made aware of these concerns
    as a matter of urgency and takes appropriate action." """
    audit = _kent()
    _raise(audit)
    audit.events.clear()
    audit.acknowledge_concern(concern_id="K-1", by=person, by_roles=set(), outcome=" Strategy discussion held today. ", at=LATER)
    concern = audit.concerns[0]
    assert concern.acknowledged and concern.acknowledged_by == person and concern.outcome == "Strategy discussion held today."
    assert audit.events == [ev.SafeguardingConcernAcknowledged(at=LATER, concern_id="K-1", by=person)]


def test_qa_staff_may_record_the_outcome_but_nobody_else() -> None:
    """Seed 004, 4.7: "ensure that any immediate concerns they have identified during the audit are
    responded to by the Team Manager." """
    audit = _kent()
    _raise(audit)
    for person, roles in (("P-PR", {"peer_reviewer"}), ("P-SW", {"social_worker"}), ("P-HOS", {"head_of_service"})):
        with pytest.raises(NotAllowed):
            audit.acknowledge_concern(concern_id="K-1", by=person, by_roles=roles, outcome="Done.", at=LATER)
    audit.acknowledge_concern(
        concern_id="K-1", by="P-QA", by_roles={"qa_officer"}, outcome="Referred to the duty team.", at=LATER
    )
    assert audit.concerns[0].acknowledged_by == "P-QA"


def test_an_outcome_is_recorded_once_and_never_overwritten() -> None:
    """Seed 004, 4.7: the concern is responded to by the Team Manager (once: a second answer would
    overwrite the first)."""
    audit = _kent()
    _raise(audit)
    audit.acknowledge_concern(concern_id="K-1", by="P-TM", by_roles=set(), outcome="Social worker visited today.", at=LATER)
    with pytest.raises(WrongStage):
        audit.acknowledge_concern(concern_id="K-1", by="P-SM", by_roles=set(), outcome="Something else.", at=LATER)
    assert audit.concerns[0].outcome == "Social worker visited today."
    with pytest.raises(InvalidEntries):
        audit.acknowledge_concern(concern_id="K-2", by="P-TM", by_roles=set(), outcome="Done.", at=LATER)
    audit.raise_concern(
        concern_id="K-2", by="P-TM", concern="Second worry.", team_manager_id="P-TM", service_manager_id="P-SM", at=LATER
    )
    with pytest.raises(InvalidEntries):
        audit.acknowledge_concern(concern_id="K-2", by="P-TM", by_roles=set(), outcome="  ", at=LATER)
    assert not audit.concerns[1].acknowledged


def test_the_recipients_may_read_the_audit() -> None:
    """Seed 004, 4.7: the concern goes to those who act on it, who must be able to read it."""
    audit = _kent()
    assert not audit.visible_to("P-SM", frozenset())
    _raise(audit)
    assert audit.visible_to("P-SM", frozenset()) and "safeguarding_concern_recipient" in audit.party_roles("P-SM")
    assert "P-SM" in audit.viewers()


def test_the_concern_event_carries_identifiers_only() -> None:
    """Seed 004, 4.7 (and the brief: events carry identifiers only): the concern's text stays in the
    audit service."""
    audit = _kent()
    _raise(audit, text="SECRET-DETAIL about the child")
    audit.acknowledge_concern(concern_id="K-1", by="P-SM", by_roles=set(), outcome="SECRET-OUTCOME", at=LATER)
    published = list(ie.integration_events(audit, audit.events))
    assert [t for t, _ in published] == [ie.SAFEGUARDING_CONCERN_RAISED, ie.SAFEGUARDING_CONCERN_ACKNOWLEDGED]
    raised = published[0][1].model_dump(mode="json")
    assert raised == {
        "audit_id": "A-1",
        "concern_id": "K-1",
        "case_ref": "C-3001",
        "raised_by": "P-TM",
        "team_manager_id": "P-TM",
        "service_manager_id": "P-SM",
        "recipient_ids": ["P-TM", "P-SM"],
        "raised_at": LATER.isoformat().replace("+00:00", "Z"),
    }
    assert "SECRET" not in repr([d.model_dump() for _, d in published])


def test_the_concern_and_its_outcome_appear_on_the_pdf() -> None:
    """Seed 004, 4.7 (the audit's record): the concern raised during the audit and what was done."""
    audit = submitted()
    _raise(audit)
    text = _text(pdf.render(audit, CopyStage.AUDIT, names={"P-SM": "Sam Manager"}, at=LATER))
    assert "Immediate safeguarding concerns" in text and "disclosed being hit" in text and "not yet recorded" in text
    audit.acknowledge_concern(concern_id="K-1", by="P-SM", by_roles=set(), outcome="Strategy discussion held.", at=LATER)
    text = _text(pdf.render(audit, CopyStage.AUDIT, names={"P-SM": "Sam Manager"}, at=LATER))
    assert "Strategy discussion held." in text and "Sam Manager (P-SM)" in text


# --- 2 The allocated social worker's views -----------------------------------------------------------


def test_the_allocated_social_worker_gives_their_views_before_the_audit_and_every_save_is_kept() -> None:
    """Seed 004, 2: "The allocated Social Worker for each child / young person's case selected for
    audit also contributes to the auditing process, through providing their views and reflections on
    their practice in the case to the Auditor (Team Manager) before the Auditor quality assures
    practice." """
    audit = _kent()
    audit.give_practitioner_views(by="P-SW", views="I visited weekly; the plan drifted in the summer.", at=T0)
    audit.give_practitioner_views(by="P-SW", views="I visited weekly; the plan drifted in July and August.", at=LATER)
    assert [v.number for v in audit.practitioner_views] == [1, 2]
    current = audit.current_practitioner_views
    assert current is not None and current.views.endswith("July and August.")
    assert audit.practitioner_views[0].views.endswith("summer.")  # nothing written is lost
    assert [type(e) for e in audit.events] == [ev.PractitionerViewsGiven, ev.PractitionerViewsGiven]
    assert list(ie.integration_events(audit, audit.events)) == []  # the views stay with the audit
    assert "allocated_social_worker" in audit.party_roles("P-SW")


@pytest.mark.parametrize("person", ["P-TM", "P-PR", "P-SW2"])
def test_only_the_allocated_social_worker_gives_the_views(person: str) -> None:
    """Seed 004, 2: "The allocated Social Worker ... through providing their views and reflections on
    their practice in the case to the Auditor"."""
    audit = _kent()
    with pytest.raises(NotAllowed):
        audit.give_practitioner_views(by=person, views="Views.", at=T0)
    assert audit.practitioner_views == []


def test_the_views_are_given_before_the_auditor_submits() -> None:
    """Seed 004, 2: "... to the Auditor (Team Manager) before the Auditor quality assures practice." """
    audit = _kent()
    audit.save_audit_draft(by="P-TM", work=complete_work(audit.form), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    with pytest.raises(WrongStage):
        audit.give_practitioner_views(by="P-SW", views="Too late.", at=LATER)
    with pytest.raises(InvalidEntries):
        _kent().give_practitioner_views(by="P-SW", views="  ", at=T0)


def test_an_audit_without_a_known_social_worker_or_of_another_programme_takes_no_views() -> None:
    """Seed 004, 2 (Kent's online audit programme only): "The allocated Social Worker ... also
    contributes to the auditing process"."""
    with pytest.raises(NotAllowed):
        _kent(social_worker=None).give_practitioner_views(by="P-SW", views="Views.", at=T0)
    f = form(HILLINGDON)
    other = Audit.allocate(
        audit_id="A-2",
        form=f,
        case=CaseFacts(case_id="C-1", case_type=f.case_type, opened_on=date(2026, 1, 5)),
        auditor_id="P-TM",
        peer_reviewer_id=None,
        coordinator_id=None,
        by="P-QA",
        at=T0,
        social_worker_id="P-SW",
    )
    assert other.social_worker_id is None
    with pytest.raises(WrongStage):
        other.give_practitioner_views(by="P-SW", views="Views.", at=T0)


def test_the_views_appear_on_the_pdf_for_auditor_and_peer_reviewer() -> None:
    """Seed 004, 2: the social worker's "views and reflections on their practice in the case"."""
    audit = _kent()
    audit.give_practitioner_views(by="P-SW", views="I visited weekly and saw the child alone.", at=T0)
    audit.save_audit_draft(by="P-TM", work=complete_work(audit.form), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    text = _text(pdf.render(audit, CopyStage.PEER_REVIEW, names={"P-SW": "Sol Worker"}, at=LATER))
    assert "views and reflections" in text and "saw the child alone" in text and "Sol Worker (P-SW)" in text


# --- 4.8 The safeguarding QA service manager and every moderation -----------------------------------


@pytest.mark.parametrize("grade", list(Grade))
def test_the_safeguarding_qa_service_manager_gets_every_moderated_copy_whatever_the_grade(grade: Grade) -> None:
    """Seed 004, 4.8: "Ensure that the Service Manager Safeguarding Quality Assurance is kept updated
    on the outcome of the moderation." """
    recipients = copy_recipients(
        stage=CopyStage.MODERATED,
        case_type=CaseType.CIN,
        grades=[grade],
        auditor_id="P-TM",
        peer_reviewer_id="P-PR",
        officer_id=None,
        contacts=Contacts(accountable_service_manager_id="P-SM", qa_service_manager_id="P-QASM"),
    )
    assert [(r.person_id, r.reasons) for r in recipients][-1] == ("P-QASM", ("safeguarding_qa_service_manager",))


def test_before_moderation_a_good_grade_still_goes_without_the_safeguarding_qa_service_manager() -> None:
    """Seed 004, 4.4: "The Service Manager for Safeguarding Quality Assurance for all cases graded
    outstanding, inadequate and inadequate critical" (4.8 adds only the moderation's outcome)."""
    recipients = copy_recipients(
        stage=CopyStage.PEER_REVIEW,
        case_type=CaseType.CIN,
        grades=[Grade.GOOD, Grade.GOOD],
        auditor_id="P-TM",
        peer_reviewer_id="P-PR",
        officer_id=None,
        contacts=Contacts(qa_service_manager_id="P-QASM"),
    )
    assert "P-QASM" not in [r.person_id for r in recipients]
