"""Moderation agreement (issue 18, "Insight"): how far the auditor (stage 1) and the peer reviewer
(stage 2) agree on the grades of the audits they both graded, and what moderation (stage 3) did.

Kent 4.4, stage 2: "The Peer Reviewer is required to quality assure the Team Manager's analysis and
grading of the case"; stage 3 "is triggered automatically when ... There is scope for there to be
a difference in grading of the Team Manager and Peer Reviewer in any of the sub-sections but there
cannot be a different overall Grading". Kent 5: "monthly reports giving analysis on the findings
from the QA online auditing ... the Quarterly Audit Report". This module measures those
differences, month by month or quarter by quarter.

- **A paired rating** is one item both parties graded on one audit: a sub-section graded by the
  auditor and by the peer reviewer, or the overall grade. Supervision / management oversight is
  graded by the peer reviewer alone (Kent 4.4: "the grading of this sub-section is completed by
  the Peer Reviewer during stage 2"), so it has no pair and is left out.
- **The scale** is the platform's grading scale as the Kent tool records it, an ordinal scale of
  five grades, best first: outstanding, good, requires improvement, inadequate, inadequate
  (critical) (Kent 4.4: "all cases graded outstanding, inadequate and inadequate critical"). The
  grades are scored 0..4, equally spaced.
- **Weighted Cohen's kappa** (Cohen 1968) with its asymptotic standard error and 95% confidence
  interval (Fleiss, Cohen and Everitt 1969, as SAS PROC FREQ prints them), computed as
  ``statsmodels.stats.inter_rater.cohens_kappa`` computes them, from the confusion matrix: *quadratic*
  (Fleiss-Cohen) weights by default, *linear* (Cicchetti-Allison) on request. The auditor's grade
  is the row, the peer reviewer's the column.
- **Small samples are shown as such**: with fewer than ``MIN_PAIRS`` paired ratings a group says
  ``small_sample`` and gives only counts (pairs, agreed, the confusion matrix): no rate, no kappa.
  A kappa whose chance agreement is total (every rating the same grade) is ``undefined``.
- **Moderation**: of the audits, how many needed moderation, how many were escalated to a practice
  development officer, and for every moderated item which way the moderated grade moved from the
  auditor's grade and from the peer reviewer's (raised = a better grade).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ...case_audit.domain.audit import Audit, AuditStatus
from ...common.grades import Grade

#: The ordinal scale, best first (rows and columns of the confusion matrix, in this order).
SCALE: tuple[Grade, ...] = tuple(Grade)
_RANK = {g: i for i, g in enumerate(SCALE)}
#: Below this many paired ratings a group gives counts only (see the module's docstring).
MIN_PAIRS = 10
#: The item key of the overall grade.
OVERALL = "overall"
OVERALL_TITLE = "Overall grade"


class Weights(StrEnum):
    #: Fleiss-Cohen: disagreement weighted by the squared distance between the grades.
    QUADRATIC = "quadratic"
    #: Cicchetti-Allison: disagreement weighted by the distance between the grades.
    LINEAR = "linear"


class KappaStatus(StrEnum):
    OK = "ok"
    SMALL_SAMPLE = "small_sample"
    #: Chance agreement is total (both parties gave one and the same grade throughout).
    UNDEFINED = "undefined"


@dataclass(frozen=True)
class Item:
    """One item of one audit both parties graded, and its moderated grade (if moderated)."""

    key: str
    title: str
    auditor: Grade
    peer_reviewer: Grade
    moderated: Grade | None = None

    @property
    def agreed(self) -> bool:
        return self.auditor == self.peer_reviewer


@dataclass(frozen=True)
class Pairing:
    """One completed, peer-reviewed audit as the agreement report sees it."""

    audit_id: str
    month: str
    team_id: str
    auditor_id: str
    peer_reviewer_id: str
    items: tuple[Item, ...]
    moderation_required: bool = False
    escalated: bool = False

    def facts(self) -> dict[str, Any]:
        """What the audit's document keeps for the report (identifiers and grades only)."""
        return {
            "peer_reviewer_id": self.peer_reviewer_id,
            "moderation_required": self.moderation_required,
            "escalated": self.escalated,
            "items": [
                {"key": i.key, "title": i.title, "auditor": i.auditor.value, "peer_reviewer": i.peer_reviewer.value,
                 "moderated": i.moderated.value if i.moderated else None}
                for i in self.items
            ],
        }

    @classmethod
    def from_facts(cls, *, audit_id: str, month: str, team_id: str, auditor_id: str, facts: dict[str, Any]) -> Pairing:
        return cls(
            audit_id=audit_id, month=month, team_id=team_id, auditor_id=auditor_id, peer_reviewer_id=facts.get("peer_reviewer_id") or "",
            moderation_required=bool(facts.get("moderation_required")), escalated=bool(facts.get("escalated")),
            items=tuple(
                Item(i["key"], i.get("title") or i["key"], Grade(i["auditor"]), Grade(i["peer_reviewer"]), Grade(i["moderated"]) if i.get("moderated") else None)
                for i in facts.get("items") or []
            ),
        )


def pairing(audit: Audit) -> Pairing | None:
    """The paired grades of a completed audit the peer reviewer submitted (None for any other)."""
    if audit.status is not AuditStatus.COMPLETED or audit.stage2 is None or not audit.stage2.submitted or not audit.peer_reviewer_id:
        return None
    first, second = audit.stage1.work, audit.stage2.work
    moderated = audit.moderated_grading
    items: list[Item] = []
    for key in audit.form.graded_sections(by_peer_reviewer=False):
        a, p = first.section_grades.get(key), second.section_grades.get(key)
        if a is None or p is None:
            continue
        section = audit.form.section(key)
        items.append(Item(key, section.title if section else key, a, p, moderated.section_grades.get(key) if moderated else None))
    if first.overall_grade is not None and second.overall_grade is not None:
        items.append(Item(OVERALL, OVERALL_TITLE, first.overall_grade, second.overall_grade, moderated.overall_grade if moderated else None))
    moderation = audit.moderation
    return Pairing(
        audit_id=audit.id, month=audit.month or "", team_id=audit.case.team_id or "", auditor_id=audit.auditor_id,
        peer_reviewer_id=audit.peer_reviewer_id, items=tuple(items),
        moderation_required=moderation is not None, escalated=bool(moderation and moderation.escalated),
    )


def pairing_facts(audit: Audit) -> dict[str, Any] | None:
    found = pairing(audit)
    return found.facts() if found else None


# --- the statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Agreement of the paired ratings of a group."""

    weights: Weights
    pairs: int
    agreed: int
    #: Rows: the auditor's grade; columns: the peer reviewer's grade; both in ``SCALE`` order.
    confusion: list[list[int]]
    status: KappaStatus
    #: Exact agreement (agreed / pairs); None for a small sample.
    raw_agreement: float | None = None
    kappa: float | None = None
    #: The asymptotic standard error of kappa, and its 95% confidence interval (clipped to [-1, 1]).
    standard_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def small_sample(self) -> bool:
        return self.status is KappaStatus.SMALL_SAMPLE


def confusion_matrix(pairs: Iterable[tuple[Grade, Grade]]) -> list[list[int]]:
    table = [[0] * len(SCALE) for _ in SCALE]
    for auditor, peer in pairs:
        table[_RANK[auditor]][_RANK[peer]] += 1
    return table


def _r(value: float) -> float:
    return round(float(value), 4)


def agreement(pairs: Iterable[tuple[Grade, Grade]], weights: Weights = Weights.QUADRATIC, *, min_pairs: int = MIN_PAIRS) -> Agreement:
    """Weighted kappa of (auditor's grade, peer reviewer's grade) pairs, with its 95% interval."""
    return agreement_of_matrix(confusion_matrix(pairs), weights, min_pairs=min_pairs)


def agreement_of_matrix(table: list[list[int]], weights: Weights = Weights.QUADRATIC, *, min_pairs: int = MIN_PAIRS) -> Agreement:
    """The same from the confusion matrix itself (``SCALE`` x ``SCALE``, the auditor's grade the
    row): what the report's roll-ups keep, summed over the audits of a group."""
    return agreements_of_matrices([table], weights, min_pairs=min_pairs)[0]


def agreements_of_matrices(tables: list[list[list[int]]], weights: Weights = Weights.QUADRATIC, *, min_pairs: int = MIN_PAIRS) -> list[Agreement]:
    """``agreement_of_matrix`` of many groups at once (one numpy computation for them all)."""
    copies = [[list(row) for row in table] for table in tables]
    counted = [t for t in copies if sum(map(sum, t)) >= min_pairs]
    kappas = iter(weighted_kappas(counted, weights) if counted else [])
    out = []
    for table in copies:
        pairs = sum(sum(row) for row in table)
        agreed = sum(table[i][i] for i in range(len(SCALE)))
        out.append(Agreement(weights, pairs, agreed, table, *kappa_figures(pairs, agreed, next(kappas) if pairs >= min_pairs else None)))
    return out


#: A group's kappa figures: the status, raw agreement, kappa, its standard error and 95% limits
#: (``Agreement``'s fields from ``status`` on; None where not given).
KappaFigures = tuple[KappaStatus, float | None, float | None, float | None, float | None, float | None]


_SMALL_SAMPLE: KappaFigures = (KappaStatus.SMALL_SAMPLE, None, None, None, None, None)


def kappa_figures(pairs: int, agreed: int, found: tuple[float, float, float, float] | None) -> KappaFigures:
    """A group's kappa figures from its paired ratings, those agreed and what ``weighted_kappas``
    gave for its table (None: fewer pairs than the report's least, a small sample)."""
    if found is None:
        return _SMALL_SAMPLE
    raw = _r(agreed / pairs)
    kappa, se, low, high = found
    if not math.isfinite(kappa):
        return KappaStatus.UNDEFINED, raw, None, None, None, None
    if not math.isfinite(se) or se <= 0:
        # One party gave every item the same grade (or all agree): kappa is defined, its variance
        # is not; no interval is better than a zero-width one that would look certain.
        return KappaStatus.OK, raw, _r(kappa), None, None, None
    return KappaStatus.OK, raw, _r(kappa), _r(se), _r(max(-1.0, low)), _r(min(1.0, high))


def weighted_kappas(tables: Any, weights: Weights) -> list[tuple[float, float, float, float]]:
    """Weighted kappa, its asymptotic standard error and 95% limits of each table (a list of
    ``SCALE`` x ``SCALE`` tables, or a numpy array of them): the computation
    of ``statsmodels.stats.inter_rater.cohens_kappa(table, wt=...)`` (Fleiss, Cohen and Everitt
    1969, as SAS prints it), step for step in the same numpy operations over a stack of tables, so
    the same floats (a unit test compares them), without the results object whose test statistics
    cost ~5 ms a table."""
    # Imported here: the statistics stack (numpy, scipy) loads when a report is asked for, not with
    # every audit the service saves (this module also gives the facts each audit's document keeps).
    import numpy as np

    def total(x: Any) -> Any:
        # A table's sum as numpy sums one table (its 25 cells in a row), for every table.
        return np.ascontiguousarray(x).reshape(len(tables), -1).sum(axis=1)

    with np.errstate(divide="ignore", invalid="ignore"):
        counts = np.asarray(tables, float)
        nobs = total(counts)
        freqs = counts / nobs[:, None, None]
        freq_row = counts.sum(2) / nobs[:, None]
        freq_col = counts.sum(1) / nobs[:, None]
        prob_exp = freq_col[:, None, :] * freq_row[:, :, None]
        scores = np.asarray(np.arange(counts.shape[1]), float)
        if weights is Weights.LINEAR:
            weight = np.abs(scores[:, None] - scores) / (scores[-1] - scores[0])
        else:
            weight = (scores[:, None] - scores) ** 2 / (scores[-1] - scores[0]) ** 2
        kappa = 1 - total(weight * counts) / nobs / total(weight * prob_exp)
        w = 1.0 - weight
        w_row = (freq_col[:, None, :] * w).sum(2)
        w_col = (freq_row[:, :, None] * w).sum(1)
        agree_wexp = total(w * freq_col[:, None, :] * freq_row[:, :, None])
        term_a = freqs * (w - (w_col[:, None, :] + w_row[:, :, None]) * (1 - kappa)[:, None, None]) ** 2
        term_total = total(term_a)
        z = _z_975()
        found = []
        for i in range(len(tables)):
            # Table by table in numpy scalars, as statsmodels computes these: a scalar's ``** 2``
            # is not always an array's to the last bit.
            k, aw, n = kappa[i], agree_wexp[i], nobs[i]
            fac = 1.0 / ((1 - aw) ** 2 * n)
            var_kappa = term_total[i] - (k - aw * (1 - k)) ** 2
            var_kappa *= fac
            std_kappa = np.sqrt(var_kappa)
            delta = z * std_kappa
            found.append((float(k), float(std_kappa), float(k - delta), float(k + delta)))
    return found


_Z: list[float] = []


def _z_975() -> float:
    """The standard normal's upper 2.5% point, as statsmodels takes it (``stats.norm.isf(0.025)``)."""
    if not _Z:
        from scipy import stats

        _Z.append(stats.norm.isf(0.025))
    return _Z[0]


# --- what moderation did ----------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """Which way moderated grades moved from one party's grades (raised = a better grade)."""

    raised: int = 0
    lowered: int = 0
    unchanged: int = 0


def _movement(pairs: list[tuple[Grade, Grade]]) -> Movement:
    """(party's grade, moderated grade) pairs."""
    raised = sum(_RANK[m] < _RANK[g] for g, m in pairs)
    lowered = sum(_RANK[m] > _RANK[g] for g, m in pairs)
    return Movement(raised=raised, lowered=lowered, unchanged=len(pairs) - raised - lowered)


@dataclass(frozen=True)
class ModerationFigures:
    #: Audits of the group (completed and peer reviewed).
    audits: int
    #: Of them, audits that needed moderation, and those escalated to a practice development officer.
    moderated: int
    escalated: int
    moderation_rate: float | None
    #: Items with a moderated grade, and which way it moved from each party's grade.
    moderated_items: int
    from_auditor: Movement
    from_peer_reviewer: Movement


def moderation_figures(audits: list[Pairing], items: list[Item]) -> ModerationFigures:
    moderated_items = [i for i in items if i.moderated is not None]
    moderated = sum(a.moderation_required for a in audits)
    return ModerationFigures(
        audits=len(audits), moderated=moderated, escalated=sum(a.escalated for a in audits),
        moderation_rate=_r(moderated / len(audits)) if audits else None, moderated_items=len(moderated_items),
        from_auditor=_movement([(i.auditor, i.moderated) for i in moderated_items if i.moderated]),
        from_peer_reviewer=_movement([(i.peer_reviewer, i.moderated) for i in moderated_items if i.moderated]),
    )


# --- the report -------------------------------------------------------------------------------


class By(StrEnum):
    TEAM = "team"
    SUB_SECTION = "sub_section"
    PAIR = "pair"
    MONTH = "month"
    QUARTER = "quarter"


UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class GroupAgreement:
    group: str
    title: str
    agreement: Agreement
    moderation: ModerationFigures


@dataclass(frozen=True)
class AgreementReport:
    by: By
    weights: Weights
    min_pairs: int
    groups: list[GroupAgreement]
    total: GroupAgreement
    #: The item the ratings were restricted to (None: every paired item).
    item: str | None = None
    notes: list[str] = field(default_factory=list)


def quarter_of(month: str) -> str:
    """``2026-08`` -> ``2026-Q3``."""
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def _group_audits(pairings: list[Pairing], key: Callable[[Pairing], str]) -> dict[str, list[Pairing]]:
    groups: dict[str, list[Pairing]] = {}
    for p in pairings:
        groups.setdefault(key(p) or UNKNOWN, []).append(p)
    return groups


def _figures(group: str, title: str, audits: list[Pairing], items: list[Item], weights: Weights, min_pairs: int) -> GroupAgreement:
    return GroupAgreement(
        group=group, title=title, agreement=agreement([(i.auditor, i.peer_reviewer) for i in items], weights, min_pairs=min_pairs),
        moderation=moderation_figures(audits, items),
    )


def report(
    pairings: Iterable[Pairing], by: By, weights: Weights = Weights.QUADRATIC, *, item: str | None = None, min_pairs: int = MIN_PAIRS,
) -> AgreementReport:
    """The agreement report: one row per group, and the total over every paired rating.

    ``by=sub_section`` makes one group per item (each sub-section and the overall grade); the
    other groupings pool every paired item of the group's audits (or only ``item``'s)."""
    audits = sorted(pairings, key=lambda p: (p.month, p.audit_id))

    def chosen(p: Pairing) -> list[Item]:
        return [i for i in p.items if item is None or i.key == item]

    if item is not None:
        audits = [p for p in audits if chosen(p)]
    every = [i for p in audits for i in chosen(p)]
    groups: list[GroupAgreement] = []
    if by is By.SUB_SECTION:
        keys: dict[str, str] = {}
        for i in every:
            keys.setdefault(i.key, i.title)
        for key in sorted(keys, key=lambda k: (k == OVERALL, k)):
            members = [p for p in audits if any(i.key == key for i in p.items)]
            items = [i for p in members for i in p.items if i.key == key]
            groups.append(_figures(key, keys[key], members, items, weights, min_pairs))
    else:
        key_of: Callable[[Pairing], str] = {
            By.TEAM: lambda p: p.team_id,
            By.PAIR: lambda p: f"{p.auditor_id}/{p.peer_reviewer_id}",
            By.MONTH: lambda p: p.month,
            By.QUARTER: lambda p: quarter_of(p.month) if p.month else "",
        }[by]
        for group, members in sorted(_group_audits(audits, key_of).items()):
            groups.append(_figures(group, group, members, [i for p in members for i in chosen(p)], weights, min_pairs))
    total = _figures("(all)", "All", audits, every, weights, min_pairs)
    return AgreementReport(by=by, weights=weights, min_pairs=min_pairs, groups=groups, total=total, item=item)
