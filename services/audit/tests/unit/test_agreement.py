"""Moderation agreement (issue 18): the weighted kappa of the auditor's and the peer reviewer's
grades checked against published worked examples, small samples shown as such, the paired grades
an audit keeps, and what moderation did to them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from audit.case_audit.domain.moderation import Grading
from audit.common.grades import Grade
from audit.reporting.domain import agreement as ag
from audit.reporting.domain.figures import report_facts

from .conftest import T0, complete_work, in_moderation, submitted

O, G, RI, I, IC = Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE, Grade.INADEQUATE_CRITICAL  # noqa: E741 - the scale's initials, as the published tables write them
SCALE = [O, G, RI, I, IC]


def _pairs_of_table(table: list[list[int]]) -> list[tuple[Grade, Grade]]:
    """The paired ratings a confusion matrix counts (rows: first rater; grades best first)."""
    return [(SCALE[i], SCALE[j]) for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)]


def test_linear_weighted_kappa_and_its_interval_match_the_published_sas_printout() -> None:
    """Kent 4.4, stage 2: "The Peer Reviewer is required to quality assure the Team Manager's
    analysis and grading of the case" -- how far the two agree is the weighted kappa.

    Published worked example: the SAS PROC FREQ printout reproduced in statsmodels' own tests
    (statsmodels/statsmodels, statsmodels/stats/tests/test_inter_rater.py, ``TestWeightedCohens``,
    "comparison to printout of a SAS example"): two raters, three ordered categories, the table
    [[0, 4, 1], [0, 8, 0], [0, 1, 5]], scores 0, 1, 2 (linear, Cicchetti-Allison weights):
    "Weighted Kappa Coefficient ... Kappa 0.4701, ASE 0.1457, 95% Lower Conf Limit 0.1845,
    95% Upper Conf Limit 0.7558". Here the three categories are the first three grades of our
    five-grade scale (the unused grades change neither kappa nor its error)."""
    found = ag.agreement(_pairs_of_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]]), ag.Weights.LINEAR)
    assert found.status is ag.KappaStatus.OK and not found.small_sample
    assert (found.pairs, found.agreed) == (19, 13)
    assert found.kappa == pytest.approx(0.4701, abs=5e-4)
    assert found.standard_error == pytest.approx(0.1457, abs=5e-4)
    assert (found.ci_low, found.ci_high) == (pytest.approx(0.1845, abs=5e-4), pytest.approx(0.7558, abs=5e-4))
    assert found.raw_agreement == pytest.approx(13 / 19, abs=1e-4)
    assert found.confusion[0] == [0, 4, 1, 0, 0] and found.confusion[3] == [0] * 5


# R package irr, data set ``anxiety`` (20 subjects rated on a 6-point scale by three raters),
# raters 2 and 3: the published results of ``kappa2(anxiety[, 2:3], "squared")`` = 0.2520325 and
# ``kappa2(anxiety[, 2:3], "equal")`` = 0.1459075 (as quoted in statsmodels' test_inter_rater.py,
# ``test_cohens_kappa_irr``). irr drops the unused level 5, so the five levels used (1, 2, 3, 4, 6)
# are five equally spaced categories: ours, best first.
ANXIETY_RATER2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_RATER3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]
_LEVEL = {1: O, 2: G, 3: RI, 4: I, 6: IC}


@pytest.mark.parametrize(("weights", "published"), [(ag.Weights.QUADRATIC, 0.2520325), (ag.Weights.LINEAR, 0.1459075)])
def test_weighted_kappa_matches_irr_kappa2_on_the_anxiety_ratings(weights: ag.Weights, published: float) -> None:
    """Kent 4.4, stage 3: moderation "is triggered automatically when ... There is scope for there
    to be a difference in grading of the Team Manager and Peer Reviewer in any of the sub-sections"
    -- quadratic (Fleiss-Cohen, "squared") and linear ("equal") weights, to three decimals."""
    pairs = [(_LEVEL[a], _LEVEL[b]) for a, b in zip(ANXIETY_RATER2, ANXIETY_RATER3, strict=True)]
    found = ag.agreement(pairs, weights)
    assert found.kappa is not None and round(found.kappa, 3) == round(published, 3)
    assert found.ci_low is not None and found.ci_high is not None and found.ci_low < found.kappa < found.ci_high


def test_fewer_than_ten_paired_ratings_are_a_small_sample_with_counts_only() -> None:
    """Kent 5: "The MIU team will provide monthly reports giving analysis on the findings" -- a
    month of three audits gives counts, never a kappa that three audits cannot support."""
    nine = [(G, G)] * 5 + [(G, RI)] * 2 + [(RI, RI)] * 2
    small = ag.agreement(nine)
    assert small.status is ag.KappaStatus.SMALL_SAMPLE and small.small_sample
    assert (small.pairs, small.agreed) == (9, 7)
    assert small.kappa is None and small.raw_agreement is None and small.ci_low is None and small.standard_error is None
    assert small.confusion[1][1] == 5 and small.confusion[1][2] == 2 and small.confusion[2][2] == 2
    ten = ag.agreement([*nine, (O, G)])
    assert ten.status is ag.KappaStatus.OK and ten.kappa is not None and ten.raw_agreement == 0.7


def test_one_grade_throughout_gives_no_kappa_and_perfect_varied_agreement_gives_one() -> None:
    """Kent 4.4: "there cannot be a different overall Grading" -- full agreement is kappa 1; a
    kappa is undefined when both parties gave one and the same grade to everything."""
    same = ag.agreement([(G, G)] * 12)
    assert same.status is ag.KappaStatus.UNDEFINED and same.kappa is None and same.raw_agreement == 1.0
    perfect = ag.agreement([(G, G)] * 6 + [(RI, RI)] * 4 + [(I, I)] * 2)
    assert perfect.kappa == 1.0 and perfect.standard_error is None and perfect.ci_low is None and perfect.ci_high is None  # no variance to estimate
    one_sided = ag.agreement([(G, G)] * 9 + [(G, RI)] * 3)  # the auditor graded everything good
    assert one_sided.kappa is not None and one_sided.standard_error is None and one_sided.ci_low is None and one_sided.ci_high is None
    worse = ag.agreement([(G, I)] * 6 + [(I, G)] * 6)
    assert worse.kappa == -1.0 and worse.ci_low is None  # complete disagreement: certain, no interval to estimate


def _grading(form, grade: Grade, overall: Grade) -> Grading:
    return Grading(section_grades={k: grade for k in form.graded_sections(by_peer_reviewer=True)}, overall_grade=overall)


def test_an_audit_keeps_its_paired_grades_without_supervision_and_with_the_moderated_grade() -> None:
    """Kent 4.4: "With respect to the section on 'Supervision / Management Oversight', the Team
    Manager is not required to give a grading" -- supervision has no pair; every sub-section both
    graded and the overall grade do, with the moderated grade once moderation agreed one."""
    audit = in_moderation()  # the peer reviewer graded the assessment requires improvement
    assert ag.pairing(audit) is None and report_facts(audit)["agreement"] is None  # not completed yet
    audit.propose_moderated_grading(by="P-TM", grading=_grading(audit.form, G, RI), at=T0)
    audit.accept_moderated_grading(by="P-PR", at=T0)
    found = ag.pairing(audit)
    assert found is not None and found.moderation_required and not found.escalated
    keys = [i.key for i in found.items]
    assert "supervision_and_oversight" not in keys and keys[-1] == ag.OVERALL
    assert keys[:-1] == [k for k in audit.form.graded_sections(by_peer_reviewer=False)]
    assessment = next(i for i in found.items if i.key == "assessment")
    assert (assessment.auditor, assessment.peer_reviewer, assessment.moderated, assessment.agreed) == (G, RI, G, False)
    overall = found.items[-1]
    assert (overall.auditor, overall.peer_reviewer, overall.moderated) == (G, G, RI)
    facts = report_facts(audit)["agreement"]
    assert facts == found.facts()
    assert "C-3001" not in str(facts)  # identifiers of staff and grades only, never the child's case
    again = ag.Pairing.from_facts(audit_id=audit.id, month="", team_id="T-CP", auditor_id="P-TM", facts=facts)
    assert again == found


def test_an_audit_without_a_peer_review_has_no_pair() -> None:
    """Kent 4.4: "The Peer Reviewer completes the same sections of the audit form as the Team
    Manager" -- without a submitted peer review there is nothing to compare."""
    assert ag.pairing(submitted()) is None


def _pairing(audit_id: str, *, team: str = "T-1", month: str = "2026-07", auditor: str = "P-TM1", peer: str = "P-PR1",
             items: tuple[ag.Item, ...] = (), moderated: bool = False, escalated: bool = False) -> ag.Pairing:
    return ag.Pairing(audit_id=audit_id, month=month, team_id=team, auditor_id=auditor, peer_reviewer_id=peer, items=items,
                      moderation_required=moderated, escalated=escalated)


def test_moderation_figures_say_how_often_and_which_way_the_grade_moved() -> None:
    """Kent 4.4: "If the Team Manager and Peer Reviewer cannot reach agreement on a moderated
    grading for the case ... A Practice Development Officer will be appointed" -- how often
    moderation was needed, escalated, and whether it raised or lowered each party's grade."""
    audits = [
        _pairing("A-1", items=(ag.Item("assessment", "Assessment", G, RI, RI), ag.Item(ag.OVERALL, "Overall grade", G, RI, G)), moderated=True),
        _pairing("A-2", items=(ag.Item("assessment", "Assessment", RI, G, O),), moderated=True, escalated=True),
        _pairing("A-3", items=(ag.Item("assessment", "Assessment", G, G),)),
        _pairing("A-4", items=(ag.Item("assessment", "Assessment", I, I),)),
    ]
    figures = ag.report(audits, ag.By.TEAM).total.moderation
    assert (figures.audits, figures.moderated, figures.escalated, figures.moderation_rate) == (4, 2, 1, 0.5)
    assert figures.moderated_items == 3
    assert figures.from_auditor == ag.Movement(raised=1, lowered=1, unchanged=1)
    assert figures.from_peer_reviewer == ag.Movement(raised=2, lowered=0, unchanged=1)


def test_the_report_groups_by_team_sub_section_pair_month_and_quarter_and_filters_an_item() -> None:
    """Kent 5: "monthly reports ... the Quarterly Audit Report" -- per team, per sub-section (and
    the overall grade), per auditor and peer reviewer, per month and per quarter."""
    items = (ag.Item("assessment", "Assessment", G, G), ag.Item("planning", "Planning", G, RI), ag.Item(ag.OVERALL, "Overall grade", G, G))
    audits = [
        _pairing("A-1", team="T-1", month="2026-07", items=items),
        _pairing("A-2", team="T-1", month="2026-08", items=items, peer="P-PR2"),
        _pairing("A-3", team="T-2", month="2026-10", items=items),
        _pairing("A-4", team="", month="2026-10", items=items),
    ]
    by_team = ag.report(audits, ag.By.TEAM)
    assert [(g.group, g.agreement.pairs, g.moderation.audits) for g in by_team.groups] == [("(unknown)", 3, 1), ("T-1", 6, 2), ("T-2", 3, 1)]
    assert by_team.total.agreement.pairs == 12 and by_team.total.agreement.agreed == 8 and by_team.total.agreement.status is ag.KappaStatus.OK
    assert all(g.agreement.small_sample for g in by_team.groups)
    by_section = ag.report(audits, ag.By.SUB_SECTION)
    assert [(g.group, g.title, g.agreement.pairs, g.agreement.agreed) for g in by_section.groups] == [
        ("assessment", "Assessment", 4, 4), ("planning", "Planning", 4, 0), (ag.OVERALL, "Overall grade", 4, 4),
    ]
    assert [g.group for g in ag.report(audits, ag.By.PAIR).groups] == ["P-TM1/P-PR1", "P-TM1/P-PR2"]
    assert [(g.group, g.moderation.audits) for g in ag.report(audits, ag.By.MONTH).groups] == [("2026-07", 1), ("2026-08", 1), ("2026-10", 2)]
    assert [(g.group, g.moderation.audits) for g in ag.report(audits, ag.By.QUARTER).groups] == [("2026-Q3", 2), ("2026-Q4", 2)]
    overall_only = ag.report(audits, ag.By.TEAM, item=ag.OVERALL)
    assert overall_only.total.agreement.pairs == 4 and overall_only.item == ag.OVERALL
    assert ag.report(audits, ag.By.TEAM, item="no-such-section").total.agreement.pairs == 0
    assert ag.report([], ag.By.TEAM).total.moderation.moderation_rate is None


def test_a_peer_review_that_agrees_everywhere_completes_without_moderation_and_pairs_every_grade() -> None:
    """Kent 4.4, stage 3 starts only on a difference: an audit whose grades all agree completes,
    and its pairs all agree."""
    audit = submitted()
    audit.save_peer_review_draft(by="P-PR", work=complete_work(audit.form, by_peer_reviewer=True), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    found = ag.pairing(audit)
    assert found is not None and not found.moderation_required and all(i.agreed and i.moderated is None for i in found.items)


def test_the_overall_grade_is_left_out_when_the_form_has_none() -> None:
    """Kent 4.4: "provide an overall grading of the case" -- a form without one pairs its
    sub-sections only."""
    audit = submitted()
    audit.form = replace(audit.form, overall_grade=False)
    audit.stage1.work = replace(audit.stage1.work, overall_grade=None)
    audit.save_peer_review_draft(by="P-PR", work=complete_work(audit.form, by_peer_reviewer=True), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    found = ag.pairing(audit)
    assert found is not None and ag.OVERALL not in [i.key for i in found.items]
