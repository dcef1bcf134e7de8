"""The reports' roll-ups (issue 20, "Reports from read models"), as plain functions: what one
audit adds to the counts the reports read, and the reports' figures from summed counts.

A report reads a number of roll-up documents proportional to the groups it shows, never the
audits behind them. Every figure is a count, so the figures from summed counts are the figures
the reports counted from the audits themselves (``figures.completion``, ``figures.trend``,
``agreement.report``); the unit and integration tests compare both.

An audit's **facts** (``Facts``: the report fields its document keeps, ``figures.report_facts``)
*contribute* counts to a few roll-ups, each named by a ``Key``:

- ``completion`` (programme's tool, month, a bucket of teams): per team and auditor
  (``t.<team>.<auditor>.``), audits ``n``, submitted ``s``, completed ``d``, submitted and
  completed ``sd`` -- what the completion report needs to leave out an auditor's unfinished audits
  when a dispensation excuses them (decided when the report is read, as a dispensation may come
  later).
- ``month`` (tool, month): audits ``n``, completed ``d``, completed per grade of record ``g.<grade>``
  (the trend and the grades reports).
- ``theme`` (tool, month, section or question, key, title): completed audits with that sub-section
  graded requires improvement or worse, or that question answered "no", ``n``.
- ``agreement`` (tool, period, dimension, a bucket of groups): for a completed, peer-reviewed
  audit, per month, quarter and year (a report's period is one of those), for the dimensions
  ``all``, ``team`` and ``pair`` (auditor/peer reviewer): per group, for every paired item and for
  them all (``*``, in the dimension's documents; each item in the ``<dimension>/items`` ones),
  under ``i.<item>.<group>.``: audits ``a``, moderation required ``m``, escalated ``e``, the confusion matrix
  ``c<auditor><peer reviewer>``, and the moderated grade against each party's, ``ma<auditor><moderated>``
  and ``mp<peer reviewer><moderated>`` (grades by their rank in ``agreement.SCALE``). The ``all``
  dimension also counts each item's titles (``t.<item>.<title>.n``) with the first audit that
  showed it (``first``, by month then audit id: the report titles a sub-section as the first audit
  it reads does).

Teams and pairs are spread over a fixed number of buckets (a hash of the team or pair), each one
document: a report reads a few dozen documents where one per team would be hundreds, and a write
moves a document of a few dozen groups, not one of them all.

A change of an audit moves the roll-ups by ``delta(before, after)`` = contribution(after) -
contribution(before), written in the same transaction as the audit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote

from ...case_audit.domain.audit import AuditStatus
from ...common.grades import Grade
from . import agreement as agreeing
from . import figures

COMPLETION = "completion"
MONTH = "month"
THEME = "theme"
AGREEMENT = "agreement"
#: The agreement roll-ups' dimensions.
ALL, TEAM, PAIR = "all", "team", "pair"
#: Every paired item of an audit together.
EVERY_ITEM = "*"
#: A dimension's roll-ups of each item apart (``all/items``...): the counts of every item together
#: are kept in their own documents, so the reports that pool the items (the default) read a tenth.
ITEMS = "/items"
#: The buckets teams (completion) and teams or pairs (agreement) are spread over.
COMPLETION_BUCKETS = 16
AGREEMENT_BUCKETS = 64
_RANK = {g.value: i for i, g in enumerate(agreeing.SCALE)}
_N = len(agreeing.SCALE)


class Key(NamedTuple):
    """What one roll-up document counts (``""`` where a part does not apply)."""

    kind: str
    tool_id: str
    period: str
    dim: str = ""
    group: str = ""
    sub: str = ""
    title: str = ""

    @property
    def id(self) -> str:
        return hashlib.sha1("\x1f".join(self).encode()).hexdigest()


def field_name(name: str) -> str:
    """A key usable as one part of a field path (no ``.``, ``$`` or NUL; never empty)."""
    if not name:
        return "%"
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("\x00", "%00")


def name_of_field(part: str) -> str:
    return "" if part == "%" else unquote(part)


def bucket(name: str, buckets: int) -> str:
    return f"b{int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % buckets}"


def quarter_of(month: str) -> str:
    return agreeing.quarter_of(month)


def periods_of(month: str) -> tuple[str, str, str]:
    """The month, its quarter and its year: the agreement roll-ups' periods."""
    return month, quarter_of(month), month[:4]


def cover(months: list[str]) -> list[str]:
    """The fewest whole years, quarters and months that make up ``months`` (sorted, distinct)."""
    wanted = sorted(set(months))
    present = set(wanted)
    out: list[str] = []
    i = 0
    while i < len(wanted):
        month = wanted[i]
        year, number = month[:4], int(month[5:])
        if number == 1 and all(f"{year}-{m:02d}" in present for m in range(1, 13)):
            out.append(year)
            i += 12
        elif number % 3 == 1 and all(f"{year}-{m:02d}" in present for m in range(number, number + 3)):
            out.append(quarter_of(month))
            i += 3
        else:
            out.append(month)
            i += 1
    return out


@dataclass(frozen=True)
class Facts:
    """One audit as the roll-ups see it."""

    audit_id: str
    month: str
    tool_id: str
    team_id: str
    auditor_id: str
    status: str
    submitted: bool
    grade: str | None = None
    weak_sections: tuple[tuple[str, str], ...] = ()
    no_answers: tuple[tuple[str, str], ...] = ()
    pairing: agreeing.Pairing | None = None

    @property
    def completed(self) -> bool:
        return self.status == AuditStatus.COMPLETED.value

    @classmethod
    def of_document(cls, doc: Mapping[str, Any], legacy_pairing: Callable[[Mapping[str, Any]], agreeing.Pairing | None]) -> Facts:
        """From an audit's document (its report fields); ``legacy_pairing`` gives the paired grades
        of a completed audit stored before its document kept them (read from its body)."""
        row = figures.Row.from_document(dict(doc))
        pairing: agreeing.Pairing | None = None
        if "agreement" in doc:
            if doc["agreement"] is not None and row.completed:
                pairing = agreeing.Pairing.from_facts(audit_id=row.audit_id, month=row.month, team_id=row.team_id, auditor_id=row.auditor_id, facts=doc["agreement"])
        elif row.completed:
            pairing = legacy_pairing(doc)
        return cls(
            audit_id=row.audit_id, month=row.month, tool_id=doc.get("tool_id") or "", team_id=row.team_id, auditor_id=row.auditor_id, status=row.status,
            submitted=row.submitted, grade=row.grade, weak_sections=row.weak_sections, no_answers=row.no_answers, pairing=pairing,
        )


Counts = dict[str, int]


@dataclass
class Contribution:
    """Counts per roll-up, and the least values (``$min``) some of their fields keep."""

    counts: dict[Key, Counts] = field(default_factory=dict)
    least: dict[Key, dict[str, str]] = field(default_factory=dict)

    def add(self, key: Key, name: str, n: int | bool = 1) -> None:
        if n:
            found = self.counts.setdefault(key, {})
            found[name] = found.get(name, 0) + int(n)

    def keep_least(self, key: Key, name: str, value: str) -> None:
        found = self.least.setdefault(key, {})
        if name not in found or value < found[name]:
            found[name] = value

    def merge(self, other: Contribution, sign: int = 1) -> None:
        for key, counts in other.counts.items():
            for name, n in counts.items():
                self.add(key, name, sign * n)
        if sign > 0:
            for key, values in other.least.items():
                for name, value in values.items():
                    self.keep_least(key, name, value)

    def without_zeros(self) -> Contribution:
        counts = {k: kept for k, c in self.counts.items() if (kept := {n: v for n, v in c.items() if v})}
        return Contribution(counts, {k: v for k, v in self.least.items() if v})

    def __bool__(self) -> bool:
        return bool(self.counts) or bool(self.least)


def _item_counts(out: Contribution, key: Key, group: str, item: str, pairing: agreeing.Pairing, items: list[agreeing.Item]) -> None:
    at = f"i.{field_name(item)}.{field_name(group)}."
    out.add(key, at + "a")
    out.add(key, at + "m", pairing.moderation_required)
    out.add(key, at + "e", pairing.escalated)
    for i in items:
        a, p = _RANK[i.auditor.value], _RANK[i.peer_reviewer.value]
        out.add(key, f"{at}c{a}{p}")
        if i.moderated is not None:
            m = _RANK[i.moderated.value]
            out.add(key, f"{at}ma{a}{m}")
            out.add(key, f"{at}mp{p}{m}")


def contribution(facts: Facts, into: Contribution | None = None) -> Contribution:
    """What one audit adds to the roll-ups (nothing for an audit of no month: no report reads it),
    added to ``into`` when given (the rebuild's running total)."""
    out = Contribution() if into is None else into
    month, tool = facts.month, facts.tool_id
    if not month:
        return out
    done = facts.completed
    counted = Key(COMPLETION, tool, month, group=bucket(facts.team_id, COMPLETION_BUCKETS))
    at = f"t.{field_name(facts.team_id)}.{field_name(facts.auditor_id)}."
    out.add(counted, at + "n")
    out.add(counted, at + "s", facts.submitted)
    out.add(counted, at + "d", done)
    out.add(counted, at + "sd", facts.submitted and done)
    of_month = Key(MONTH, tool, month)
    out.add(of_month, "n")
    out.add(of_month, "d", done)
    if done and facts.grade:
        out.add(of_month, f"g.{field_name(facts.grade)}")
    if done:
        for kind, found in (("section", facts.weak_sections), ("question", facts.no_answers)):
            for theme, title in set(found):
                out.add(Key(THEME, tool, month, group=kind, sub=theme, title=title), "n")
    pairing = facts.pairing
    if pairing is not None and done:
        by_item: dict[str, list[agreeing.Item]] = {}
        for entry in pairing.items:
            by_item.setdefault(entry.key, []).append(entry)
        first = f"{month}\x1f{facts.audit_id}"
        for period in periods_of(month):
            for dim, group in ((ALL, ""), (TEAM, pairing.team_id), (PAIR, f"{pairing.auditor_id}/{pairing.peer_reviewer_id}")):
                place = "" if dim == ALL else bucket(group, AGREEMENT_BUCKETS)
                _item_counts(out, Key(AGREEMENT, tool, period, dim, place), group, EVERY_ITEM, pairing, list(pairing.items))
                rollup = Key(AGREEMENT, tool, period, dim + ITEMS, place)
                for item, items in by_item.items():
                    _item_counts(out, rollup, group, item, pairing, items)
                if dim == ALL:
                    for entry in pairing.items:
                        named = f"t.{field_name(entry.key)}.{field_name(entry.title)}."
                        out.add(rollup, named + "n")
                        out.keep_least(rollup, named + "first", first)
    return out


def delta(before: Iterable[Facts], after: Iterable[Facts]) -> Contribution:
    """contribution(after) - contribution(before), zeros left out."""
    out = Contribution()
    for facts in before:
        out.merge(contribution(facts), -1)
    for facts in after:
        contribution(facts, into=out)
    return out.without_zeros()


# --- the figures from summed counts -------------------------------------------------------------


@dataclass
class CompletionCounts:
    n: int = 0
    s: int = 0
    d: int = 0
    sd: int = 0


def completion_counts(docs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, CompletionCounts]]:
    """(team, auditor, counts) of a month's completion roll-ups."""
    out = []
    for doc in docs:
        for team_part, auditors in (doc.get("t") or {}).items():
            for auditor_part, c in auditors.items():
                counts = CompletionCounts(int(c.get("n", 0)), int(c.get("s", 0)), int(c.get("d", 0)), int(c.get("sd", 0)))
                out.append((name_of_field(team_part), name_of_field(auditor_part), counts))
    return out


def completion(
    counts: Iterable[tuple[str, str, CompletionCounts]], group_of: Callable[[str], str], dispensed: frozenset[str] = frozenset(),
) -> list[figures.Completion]:
    """``figures.completion`` from (team, auditor, counts) of the month."""
    groups: dict[str, list[int]] = {}
    for team_id, auditor_id, c in counts:
        if c.n <= 0:
            continue
        found = groups.setdefault(group_of(team_id), [0, 0, 0, 0])  # allocated, excused, completed, submitted
        found[0] += c.n
        found[2] += c.d
        if auditor_id in dispensed:
            # The auditor's unfinished audits are excused; the completed ones still count.
            found[1] += c.n - c.d
            found[3] += c.sd
        else:
            found[3] += c.s
    out = []
    for group, (allocated, excused, done, submitted) in sorted(groups.items()):
        counted = allocated - excused
        out.append(figures.Completion(
            group=group, allocated=allocated, submitted=submitted, completed=done, dispensed=excused,
            completion_rate=_rate(done, counted), submission_rate=_rate(submitted, counted),
        ))
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def grade_counts(fields: Mapping[str, Any]) -> dict[str, int]:
    """Every grade listed (zeros included) from a month roll-up's ``g`` field."""
    found = fields or {}
    return {g.value: int(found.get(field_name(g.value), 0)) for g in Grade}


def trend_point(month: str, n: int, d: int, grades: Mapping[str, Any]) -> figures.TrendPoint:
    return figures.TrendPoint(month=month, allocated=n, completed=d, completion_rate=_rate(d, n), grades=grade_counts(grades))


def themes(counts: Mapping[tuple[str, str, str], int], completed: int, *, top: int = 10) -> list[figures.Theme]:
    """``figures.themes`` from (section or question, key, title) -> completed audits."""
    found = [figures.Theme(kind, key, title, n, round(n / completed, 4)) for (kind, key, title), n in counts.items() if n > 0]
    return sorted(found, key=lambda th: (-th.audits, th.kind, th.key, th.title))[:top]


#: A group's counts, one column each: audits ``a``, moderation required ``m``, escalated ``e``, then
#: the cells, row by row, of the confusion matrix ``c<i><j>`` and of the moderated grade against the
#: auditor's ``ma<i><j>`` and against the peer reviewer's ``mp<i><j>``.
_COLUMNS = {"a": 0, "m": 1, "e": 2} | {
    f"{prefix}{i}{j}": 3 + (m * _N + i) * _N + j for m, prefix in enumerate(("c", "ma", "mp")) for i in range(_N) for j in range(_N)
}
_WIDTH = 3 + 3 * _N * _N
_MATRIX = _N * _N


class AgreementCounts:
    """Groups' (or items') agreement counts, summed over roll-ups: each field read is noted as
    (group's row and column, count) and all are summed at once (``summed``), as a report by pair
    sums the counts of thousands of groups."""

    def __init__(self) -> None:
        #: Group -> its row in ``summed``, in the order first added.
        self.groups: dict[str, int] = {}
        self._cells: list[int] = []
        self._counts: list[int] = []

    def add(self, group: str, fields: Mapping[str, Any]) -> None:
        """Add a roll-up's ``i.<item>.<group>`` fields to ``group``'s counts."""
        row = self.groups.setdefault(group, len(self.groups)) * _WIDTH
        for name, n in fields.items():
            column = _COLUMNS.get(name)
            if column is not None:
                self._cells.append(row + column)
                self._counts.append(n)

    def summed(self) -> Any:
        """The counts, one row per group (``groups``), one column each (``_COLUMNS``): a numpy array."""
        import numpy as np  # with the report, not with every audit saved (see ``agreement.weighted_kappas``)

        out = np.zeros(len(self.groups) * _WIDTH, dtype=np.int64)
        np.add.at(out, np.asarray(self._cells, dtype=np.intp), np.asarray(self._counts, dtype=np.int64))
        return out.reshape(len(self.groups), _WIDTH)


@dataclass(frozen=True)
class AgreementFigures:
    """The agreement report, group by group in the report's order and the total last, as plain
    columns: what a report of thousands of groups is written from (the API's JSON) without an
    object per figure; ``report()`` gives the same as ``agreement.AgreementReport``."""

    by: agreeing.By
    weights: agreeing.Weights
    min_pairs: int
    item: str | None
    groups: list[str]
    titles: list[str]
    #: Per group: audits, moderated, escalated, moderated items, raised, lowered and unchanged from the
    #: auditor's grade, the same from the peer reviewer's, pairs, agreed, then the confusion
    #: matrix's cells row by row.
    counts: list[list[int]]
    moderation_rates: list[float | None]
    kappas: list[agreeing.KappaFigures]

    def report(self) -> agreeing.AgreementReport:
        rows = []
        for group, title, counts, rate, kappa in zip(self.groups, self.titles, self.counts, self.moderation_rates, self.kappas, strict=True):
            audits, moderated, escalated, items, ra, la, ua, rp, lp, up, pairs, agreed = counts[:12]
            confusion = [counts[12 + i * _N:12 + (i + 1) * _N] for i in range(_N)]
            rows.append(agreeing.GroupAgreement(
                group=group, title=title, agreement=agreeing.Agreement(self.weights, pairs, agreed, confusion, *kappa),
                moderation=agreeing.ModerationFigures(
                    audits=audits, moderated=moderated, escalated=escalated, moderation_rate=rate, moderated_items=items,
                    from_auditor=agreeing.Movement(ra, la, ua), from_peer_reviewer=agreeing.Movement(rp, lp, up),
                ),
            ))
        return agreeing.AgreementReport(by=self.by, weights=self.weights, min_pairs=self.min_pairs, groups=rows[:-1], total=rows[-1], item=self.item)


def agreement_figures(
    summed: Any, groups: list[str], titles: list[str], by: agreeing.By, weights: agreeing.Weights, *, item: str | None, min_pairs: int,
) -> AgreementFigures:
    """The figures of each row of ``summed`` (``AgreementCounts.summed``, the groups' rows in the
    report's order, the total's last), computed for all the rows at once."""
    import numpy as np

    confusion = summed[:, 3:3 + _MATRIX]
    from_auditor, from_peer_reviewer = summed[:, 3 + _MATRIX:3 + 2 * _MATRIX], summed[:, 3 + 2 * _MATRIX:]
    rank = np.arange(_MATRIX)
    row, column = rank // _N, rank % _N
    # A party's grade is the row, the moderated grade the column: a column before the row is a better grade.
    raised, lowered = column < row, column > row

    def movement(matrix: Any) -> list[Any]:
        up, down, every = matrix[:, raised].sum(axis=1), matrix[:, lowered].sum(axis=1), matrix.sum(axis=1)
        return [up, down, every - up - down]

    pairs, agreed = confusion.sum(axis=1), confusion[:, row == column].sum(axis=1)
    counts = np.column_stack([
        summed[:, 0], summed[:, 1], summed[:, 2], from_auditor.sum(axis=1), *movement(from_auditor), *movement(from_peer_reviewer), pairs, agreed, confusion,
    ]).tolist()
    counted = pairs >= min_pairs
    found = iter(agreeing.weighted_kappas(confusion[counted].reshape(-1, _N, _N).astype(float), weights) if counted.any() else [])
    kappas = [agreeing.kappa_figures(c[10], c[11], next(found) if c[10] >= min_pairs else None) for c in counts]
    rates = [round(c[1] / c[0], 4) if c[0] else None for c in counts]
    return AgreementFigures(by, weights, min_pairs, item, groups, titles, counts, rates, kappas)


def agreement_report(
    groups: AgreementCounts, total: AgreementCounts, by: agreeing.By, weights: agreeing.Weights, *,
    item: str | None, titles: Mapping[str, str], min_pairs: int = agreeing.MIN_PAIRS,
) -> AgreementFigures:
    """``agreement.report`` (as ``AgreementFigures``) from each group's summed counts and the
    total's (groups with no audits left out); ``titles``: an item's title (``by=sub_section``)."""
    import numpy as np

    summed = groups.summed()
    audited = (summed[:, 0] > 0).tolist()
    kept = [g for g, row in groups.groups.items() if audited[row]]
    if by is agreeing.By.SUB_SECTION:
        ordered = sorted(kept, key=lambda k: (k == agreeing.OVERALL, k))
    else:
        ordered = sorted(kept)
    rows = np.vstack([summed[[groups.groups[g] for g in ordered]], total.summed().sum(axis=0, keepdims=True)])
    shown = [titles.get(g, g) for g in ordered] if by is agreeing.By.SUB_SECTION else ordered
    return agreement_figures(rows, [*ordered, "(all)"], [*shown, "All"], by, weights, item=item, min_pairs=min_pairs)


def agreement_dims(by: agreeing.By, item: str | None) -> tuple[list[str], str | None]:
    """The dimensions of the agreement roll-ups a report reads: those of its total (and of its
    sub-section, month or quarter groups), and those of its team or pair groups (None)."""
    pooled = item is None
    every = [ALL, ALL + ITEMS] if by is agreeing.By.SUB_SECTION and pooled else [ALL if pooled else ALL + ITEMS]
    dim = {agreeing.By.TEAM: TEAM, agreeing.By.PAIR: PAIR}.get(by)
    return every, (dim if pooled else dim + ITEMS) if dim else None


def agreement_from_rollups(
    every: Iterable[Mapping[str, Any]], of_dim: Iterable[Mapping[str, Any]], by: agreeing.By, weights: agreeing.Weights, item: str | None,
) -> AgreementFigures:
    """``agreement.report`` (as ``AgreementFigures``) from the agreement roll-ups of a period:
    ``every``, those of the ``all`` dimension (of its months for ``by=month`` or ``quarter``, else of
    its ``cover``); ``of_dim``, those of the ``team`` or ``pair`` dimension for ``by=team`` or ``pair``."""
    wanted = field_name(EVERY_ITEM if item is None else item)
    total = AgreementCounts()
    groups = AgreementCounts()
    titles: dict[str, tuple[str, str]] = {}
    for doc in every:
        for item_part, by_group in (doc.get("i") or {}).items():
            for found in by_group.values():
                if item_part == wanted:
                    total.add("", found)
                    if by is agreeing.By.MONTH:
                        groups.add(doc["period"] or agreeing.UNKNOWN, found)
                    elif by is agreeing.By.QUARTER:
                        groups.add(agreeing.quarter_of(doc["period"]), found)
                if by is agreeing.By.SUB_SECTION:
                    key = name_of_field(item_part)
                    if key != EVERY_ITEM and (item is None or key == item):
                        groups.add(key, found)
        if by is agreeing.By.SUB_SECTION:
            for part, shown in (doc.get("t") or {}).items():
                key = name_of_field(part)
                if item is not None and key != item:
                    continue
                for title_part, seen in shown.items():
                    if seen.get("n", 0) > 0 and (key not in titles or seen["first"] < titles[key][0]):
                        titles[key] = (seen["first"], name_of_field(title_part))
    for doc in of_dim:
        for group_part, found in ((doc.get("i") or {}).get(wanted) or {}).items():
            groups.add(name_of_field(group_part) or agreeing.UNKNOWN, found)
    return agreement_report(groups, total, by, weights, item=item, titles={k: t for k, (_, t) in titles.items()})
