"""The reports' roll-ups (issue 20, "Reports from read models"): what an audit contributes, the
delta of a change, weighted kappa from summed confusion matrices, and every report's figures from
summed roll-ups IDENTICAL to the figures counted from the audits themselves."""

from __future__ import annotations

import random
from typing import Any

import pytest
from audit.common.grades import Grade
from audit.reporting import api
from audit.reporting import rollups as stored
from audit.reporting.domain import agreement as ag
from audit.reporting.domain import figures
from audit.reporting.domain import rollups as counting

SCALE = list(Grade)
SECTIONS = [("assessment", "Assessment"), ("planning", "Planning"), ("review.1", "Review, progress and impact"), ("lived", "The child's $ lived experience")]
QUESTIONS = [("q1", "Is the plan clear?"), ("q2", "Was the child seen?"), ("q.3", "Is there a chronology?")]


def _facts(rng: random.Random, n: int, months: list[str]) -> list[counting.Facts]:
    found = []
    for i in range(n):
        month = rng.choice(months)
        team = rng.choice(["T1", "T2", "T.3", "", "T$4"])
        auditor = rng.choice(["A1", "A2", "A3", "A4"])
        status = rng.choice(["audit", "peer_review", "moderation", "completed", "completed", "completed"])
        done = status == "completed"
        submitted = done or (status != "audit" and rng.random() < 0.9)
        pairing = None
        if done and rng.random() < 0.8:
            items = []
            for key, title in [*SECTIONS, (ag.OVERALL, ag.OVERALL_TITLE)]:
                if rng.random() < 0.85:
                    a = rng.choice(SCALE[:4])
                    p = a if rng.random() < 0.6 else rng.choice(SCALE)
                    moderated = rng.choice([None, a, p, rng.choice(SCALE)])
                    items.append(ag.Item(key, title if rng.random() < 0.95 else title + " (v2)", a, p, moderated))
            pairing = ag.Pairing(
                audit_id=f"AU{i:04d}", month=month, team_id=team, auditor_id=auditor, peer_reviewer_id=rng.choice(["PR1", "PR2"]),
                items=tuple(items), moderation_required=rng.random() < 0.4, escalated=rng.random() < 0.1,
            )
        found.append(counting.Facts(
            audit_id=f"AU{i:04d}", month=month, tool_id=rng.choice(["kent", "hampshire"]), team_id=team, auditor_id=auditor, status=status,
            submitted=submitted, grade=rng.choice([g.value for g in Grade]) if done else None,
            weak_sections=tuple(rng.sample(SECTIONS, rng.randint(0, 2))) if done else (),
            no_answers=tuple(rng.sample(QUESTIONS, rng.randint(0, 2))) if done else (), pairing=pairing,
        ))
    return found


def _row(f: counting.Facts) -> figures.Row:
    return figures.Row(f.audit_id, f.month, f.team_id, f.auditor_id, f.status, f.submitted, f.grade, f.weak_sections, f.no_answers)


def _documents(facts: list[counting.Facts]) -> list[dict[str, Any]]:
    total = counting.Contribution()
    for f in facts:
        total.merge(counting.contribution(f))
    return stored.documents(total.without_zeros())


def _select(docs: list[dict[str, Any]], kind: str, periods: list[str], tool_id: str | None, dim: str = "") -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and d["dim"] == dim and d["period"] in periods and (tool_id is None or d["tool_id"] == tool_id)]


MONTHS = ["2025-11", "2025-12", *[f"2026-{m:02d}" for m in range(1, 13)], "2027-01"]


def test_kappa_from_a_summed_matrix_is_kappa_from_the_pairs() -> None:
    rng = random.Random(7)
    for _ in range(40):
        pairs = [(rng.choice(SCALE), rng.choice(SCALE)) for _ in range(rng.randint(0, 40))]
        table = ag.confusion_matrix(pairs)
        for weights in ag.Weights:
            assert ag.agreement_of_matrix(table, weights) == ag.agreement(pairs, weights)
    halves = [[[1, 2, 0, 0, 0], [0, 5, 1, 0, 0], [0, 1, 4, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]], [[0, 1, 0, 0, 0], [1, 3, 0, 0, 0], [0, 0, 2, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 0, 1]]]
    summed = [[a + b for a, b in zip(r1, r2, strict=True)] for r1, r2 in zip(*halves, strict=True)]
    pairs = [(SCALE[i], SCALE[j]) for t in halves for i, row in enumerate(t) for j, n in enumerate(row) for _ in range(n)]
    assert ag.agreement_of_matrix(summed, ag.Weights.QUADRATIC) == ag.agreement(pairs, ag.Weights.QUADRATIC)


def test_kappa_is_computed_as_statsmodels_computes_it() -> None:
    """The same floats as ``statsmodels``' ``cohens_kappa`` (kappa, standard error, 95% limits),
    the degenerate tables included."""
    import math

    import numpy as np
    from statsmodels.stats.inter_rater import cohens_kappa

    rng = random.Random(11)
    tables = [[[rng.choice([0, 0, 1, 2, 5, 9, 40, 113]) for _ in SCALE] for _ in SCALE] for _ in range(300)]
    tables += [[[7 if (i, j) == (1, 1) else 0 for j in range(5)] for i in range(5)], [[3 if j == 1 else 0 for j in range(5)] for i in range(5)]]
    for weights in ag.Weights:
        with np.errstate(divide="ignore", invalid="ignore"):
            found = ag.weighted_kappas(tables, weights)
            for table, mine in zip(tables, found, strict=True):
                expected = cohens_kappa(np.asarray(table, dtype=float), wt=weights.value)
                for value, theirs in zip(mine, (expected.kappa, expected.std_kappa, expected.kappa_low, expected.kappa_upp), strict=True):
                    assert value == float(theirs) or (math.isnan(value) and math.isnan(float(theirs))), (table, weights)


def test_what_one_audit_contributes() -> None:
    pairing = ag.Pairing("AU1", "2026-08", "T.1", "A1", "PR1", (ag.Item("planning", "Planning", Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.GOOD),), True, False)
    facts = counting.Facts("AU1", "2026-08", "kent", "T.1", "A1", "completed", True, "good", (("planning", "Planning"),), (), pairing)
    found = counting.contribution(facts)
    bucket = counting.bucket("T.1", counting.COMPLETION_BUCKETS)
    assert found.counts[counting.Key("completion", "kent", "2026-08", group=bucket)] == {"t.T%2E1.A1.n": 1, "t.T%2E1.A1.s": 1, "t.T%2E1.A1.d": 1, "t.T%2E1.A1.sd": 1}
    assert found.counts[counting.Key("month", "kent", "2026-08")] == {"n": 1, "d": 1, "g.good": 1}
    assert found.counts[counting.Key("theme", "kent", "2026-08", group="section", sub="planning", title="Planning")] == {"n": 1}
    for period in ("2026-08", "2026-Q3", "2026"):
        place = counting.bucket("T.1", counting.AGREEMENT_BUCKETS)
        team, items = (found.counts[counting.Key("agreement", "kent", period, dim, place)] for dim in ("team", "team/items"))
        # good (rank 1) against requires improvement (2), moderated to good: from the auditor unchanged, from the peer reviewer raised.
        assert team == {f"i.*.T%2E1.{n}": 1 for n in ("a", "m", "c12", "ma11", "mp21")}
        assert items == {f"i.planning.T%2E1.{n}": 1 for n in ("a", "m", "c12", "ma11", "mp21")}
        assert counting.Key("agreement", "kent", period, "pair", counting.bucket("A1/PR1", counting.AGREEMENT_BUCKETS)) in found.counts
        assert found.counts[counting.Key("agreement", "kent", period, "all", "")]["i.*.%.a"] == 1
        assert found.least[counting.Key("agreement", "kent", period, "all/items", "")] == {"t.planning.Planning.first": "2026-08\x1fAU1"}
    assert counting.contribution(counting.Facts("AU2", "", "kent", "T1", "A1", "audit", False)).counts == {}, "no month: no report reads it"


def test_the_delta_of_a_change_is_after_minus_before() -> None:
    allocated = counting.Facts("AU1", "2026-08", "kent", "T1", "A1", "audit", False)
    submitted = counting.Facts("AU1", "2026-08", "kent", "T1", "A1", "peer_review", True)
    change = counting.delta([allocated], [submitted])
    assert change.counts == {counting.Key("completion", "kent", "2026-08", group=counting.bucket("T1", counting.COMPLETION_BUCKETS)): {"t.T1.A1.s": 1}}
    assert not counting.delta([submitted], [submitted]), "a save that moves no figure writes nothing"
    gone = counting.delta([submitted], [])
    assert gone.counts[counting.Key("month", "kent", "2026-08")] == {"n": -1}
    # Any path of changes sums to the contribution of where it ends.
    rng = random.Random(3)
    states = _facts(rng, 30, ["2026-08"])
    total = counting.Contribution()
    previous: list[counting.Facts] = []
    for state in states:
        state = counting.Facts(**{**state.__dict__, "audit_id": "AU1"})
        total.merge(counting.delta(previous, [state]))
        previous = [state]
    assert total.without_zeros().counts == counting.contribution(previous[0]).without_zeros().counts


def test_field_names_keep_any_key() -> None:
    for name in ["", "a.b", "$x", "100%", "%", "*", "plain", "a\x00b"]:
        encoded = counting.field_name(name)
        assert encoded and "." not in encoded and "$" not in encoded and "\x00" not in encoded
        assert counting.name_of_field(encoded) == name


def test_cover_takes_whole_years_and_quarters() -> None:
    year = [f"2026-{m:02d}" for m in range(1, 13)]
    assert counting.cover(year) == ["2026"]
    assert counting.cover(["2026-07", "2026-08", "2026-09"]) == ["2026-Q3"]
    assert counting.cover(["2026-08"]) == ["2026-08"]
    assert counting.cover(["2025-12", *year, "2027-01"]) == ["2025-12", "2026", "2027-01"]
    assert counting.cover(["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]) == ["2026-02", "2026-03", "2026-Q2", "2026-07"]


@pytest.mark.parametrize("seed", [1, 2])
def test_completion_trend_and_grades_from_roll_ups_are_the_figures_of_the_audits(seed: int) -> None:
    rng = random.Random(seed)
    facts = _facts(rng, 400, MONTHS)
    docs = _documents(facts)
    districts = {"T1": "D1", "T2": "D2", "T$4": "D1"}
    for tool in (None, "kent"):
        chosen = [f for f in facts if tool is None or f.tool_id == tool]
        for month in MONTHS:
            rows = [_row(f) for f in chosen if f.month == month]
            dispensed = frozenset(rng.sample(["A1", "A2", "A3", "A4"], rng.randint(0, 2)))
            counts = counting.completion_counts(_select(docs, "completion", [month], tool))
            assert counting.completion(counts, lambda t: t or "(unknown)", dispensed) == figures.completion(rows, lambda r: r.team_id or "(unknown)", dispensed)
            assert counting.completion(counts, lambda t: districts.get(t, "(unknown)"), dispensed) == figures.completion(
                rows, lambda r: districts.get(r.team_id, "(unknown)"), dispensed,
            )
        points = []
        for month in MONTHS:
            month_docs = _select(docs, "month", [month], tool)
            grades: dict[str, int] = {}
            for d in month_docs:
                for g, n in (d.get("g") or {}).items():
                    grades[g] = grades.get(g, 0) + n
            points.append(counting.trend_point(month, sum(d.get("n", 0) for d in month_docs), sum(d.get("d", 0) for d in month_docs), grades))
        assert points == figures.trend([_row(f) for f in chosen], MONTHS)
        quarter = ["2026-07", "2026-08", "2026-09"]
        rows = [_row(f) for f in chosen if f.month in quarter]
        themes: dict[tuple[str, str, str], int] = {}
        for d in _select(docs, "theme", quarter, tool):
            themes[(d["group"], d["sub"], d["title"])] = themes.get((d["group"], d["sub"], d["title"]), 0) + d["n"]
        completed = sum(r.completed for r in rows)
        assert counting.themes(themes, completed) == figures.themes(rows)


@pytest.mark.parametrize("seed", [4])
def test_the_agreement_report_from_roll_ups_is_the_report_of_the_audits(seed: int) -> None:
    rng = random.Random(seed)
    facts = _facts(rng, 500, MONTHS)
    docs = _documents(facts)
    periods = [["2026-08"], ["2026-07", "2026-08", "2026-09"], [f"2026-{m:02d}" for m in range(1, 13)], ["2025-12", "2026-01"]]
    for months in periods:
        cover = counting.cover(months)
        for tool in (None, "hampshire"):
            pairings = [f.pairing for f in facts if f.pairing is not None and f.month in months and (tool is None or f.tool_id == tool)]
            for by in ag.By:
                for item in (None, "review.1", ag.OVERALL, "absent"):
                    every_dims, dim = counting.agreement_dims(by, item)
                    every = [d for e in every_dims for d in _select(docs, "agreement", months if by in (ag.By.MONTH, ag.By.QUARTER) else cover, tool, e)]
                    of_dim = _select(docs, "agreement", cover, tool, dim) if dim else []
                    for weights in ag.Weights:
                        expected = ag.report(pairings, by, weights, item=item)
                        assert counting.agreement_from_rollups(every, of_dim, by, weights, item).report() == expected, (months, tool, by, weights, item)


def _model_row(g: ag.GroupAgreement, name: str) -> api.AgreementRow:
    """A row of the report as the API built it before it wrote the JSON itself: the response models
    from the report's objects, validated."""
    a, m = g.agreement, g.moderation
    scale = [s.value for s in ag.SCALE]
    return api.AgreementRow(
        group=g.group, name=name,
        agreement=api.AgreementOut(
            weights=a.weights, pairs=a.pairs, agreed=a.agreed, raw_agreement=a.raw_agreement, kappa=a.kappa, standard_error=a.standard_error,
            ci_low=a.ci_low, ci_high=a.ci_high, small_sample=a.small_sample, kappa_status=a.status,
            confusion={scale[i]: {scale[j]: a.confusion[i][j] for j in range(len(scale))} for i in range(len(scale))},
        ),
        moderation=api.ModerationOut(
            audits=m.audits, moderated=m.moderated, escalated=m.escalated, moderation_rate=m.moderation_rate, moderated_items=m.moderated_items,
            from_auditor=api.MovementOut(**m.from_auditor.__dict__), from_peer_reviewer=api.MovementOut(**m.from_peer_reviewer.__dict__),
        ),
    )


def test_the_agreement_json_is_what_the_response_model_writes() -> None:
    """The API writes the agreement report's rows as JSON itself (thousands of rows by pair): byte
    for byte what ``AgreementReport`` writes from the report's objects, names of every sort included."""
    from pydantic_core import to_json

    rng = random.Random(5)
    facts = _facts(rng, 600, MONTHS)
    docs = _documents(facts)
    names = {"T1": 'Team "one" \\ \n\t é 😀 \x01', "T.3": "", "A1/PR1": "</script>"}
    periods = [["2026-08"], [f"2026-{m:02d}" for m in range(1, 13)]]
    checked = 0
    for months in periods:
        cover = counting.cover(months)
        for by in ag.By:
            for item in (None, ag.OVERALL):
                every_dims, dim = counting.agreement_dims(by, item)
                every = [d for e in every_dims for d in _select(docs, "agreement", months if by in (ag.By.MONTH, ag.By.QUARTER) else cover, None, e)]
                of_dim = _select(docs, "agreement", cover, None, dim) if dim else []
                for weights in ag.Weights:
                    found = counting.agreement_from_rollups(every, of_dim, by, weights, item)
                    report = found.report()
                    rows = api._agreement_rows(found, names)
                    expected = [*(_model_row(g, names.get(g.group, g.title)) for g in report.groups), _model_row(report.total, report.total.title)]
                    assert to_json(rows) == to_json([r.model_dump(mode="json") for r in expected])
                    assert [api.AgreementRow.model_validate(r) for r in rows] == expected
                    head = {"period": "x", "months": months, "by": by.value, "weights": weights.value, "item": item, "tool_id": None, "min_pairs": 10, "scale": []}
                    document = {**head, "rows": rows[:-1], "total": rows[-1]}
                    assert api._agreement_json(document) == to_json(document) == api.AgreementReport.model_validate(document).model_dump_json().encode()
                    statuses = {r.agreement.kappa_status for r in expected}
                    checked += len(statuses)
    assert checked > 3 * len(periods), "small samples and computed kappas both written"
