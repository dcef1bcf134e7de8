"""Who may see an audit, and who may know which child a multi-agency audit is about."""

from __future__ import annotations

from audit.case_audit.domain.audit import Audit
from audit.case_audit.domain.routing import CopyStage, Recipient
from audit.common.errors import InvalidEntries
from audit.tools.catalogue import MULTI_AGENCY
from audit.tools.domain.definition import CaseType

from .conftest import T0, form, new_audit


def test_parties_and_qa_staff_see_an_audit_and_nobody_else_does() -> None:
    audit = new_audit()
    assert audit.visible_to("P-TM", frozenset()) and audit.visible_to("P-PR", frozenset())
    assert audit.visible_to("P-ANY", frozenset({"qa_officer"}))
    assert not audit.visible_to("P-ANY", frozenset({"team_manager", "service_manager"}))


def test_a_manager_a_copy_was_routed_to_sees_the_audit() -> None:
    audit = new_audit()
    assert not audit.visible_to("P-SM", frozenset())
    audit.route_copy(stage=CopyStage.AUDIT, pdf_id="pdf-1", recipients=[Recipient("P-SM", ("accountable_service_manager",))], at=T0)
    assert audit.visible_to("P-SM", frozenset()) and "P-SM" in audit.viewers()


def test_a_multi_agency_case_is_known_by_its_code_except_to_the_auditors_and_the_coordinator() -> None:
    audit = new_audit(form(MULTI_AGENCY, CaseType.CP), coordinator="P-BDM", code="MA-7F3A")
    assert audit.case_ref == "MA-7F3A"
    assert audit.child_identity_visible_to("P-TM") and audit.child_identity_visible_to("P-BDM")
    assert not audit.child_identity_visible_to("P-QA")
    assert audit.visible_to("P-BDM", frozenset())


def test_a_single_agency_case_is_known_by_its_id() -> None:
    audit = new_audit()
    assert audit.case_ref == "C-3001" and audit.child_identity_visible_to("P-SM")


def test_allocation_refuses_a_missing_or_identical_peer_reviewer_and_a_coordinator_less_multi_agency_audit() -> None:
    def errors(**kwargs: object) -> list[str]:
        try:
            new_audit(**kwargs)
        except InvalidEntries as exc:
            return [e["field"] for e in exc.errors]
        return []

    assert errors(peer_reviewer=None) == ["peer_reviewer_id"]
    assert errors(peer_reviewer="P-TM") == ["peer_reviewer_id"]
    assert errors(f=form(MULTI_AGENCY, CaseType.CIN)) == ["coordinator_id", "case_code"]
    assert isinstance(new_audit(form(MULTI_AGENCY, CaseType.CIN), coordinator="P-BDM", code="MA-1"), Audit)
