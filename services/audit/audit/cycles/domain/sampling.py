"""Drawing a month's sample (Kent 2 and 3, Hampshire 4 and 10.2, Hillingdon 5.2).

The rules, in order:

1. The cases drawn from are the open Child in Need, Child Protection and Child in Care / care
   leaver cases; a case counts as Child Protection when it is both CP and CIC (Kent 3: "the Child
   Protection categorisation will take precedence"). A case audited in the last 12 months is not
   drawn again (Hampshire 12.1).
2. Every available auditor (not on dispensation) gets one case they line-manage: the case's team
   manager is its line manager.
3. Every team with a case to draw has at least one file (Hampshire 10.2): a team none of whose
   cases was drawn in step 2 (its manager is away, or is no auditor) is given to an available
   auditor who has no case of their own (a QA auditor, a team manager with nothing to audit).
   A team still without a file is reported as uncovered, for QA staff to allocate by hand: an
   auditor never gets two audits in a month.
4. Every audit gets a peer reviewer (when the programme has a peer review) other than its auditor
   and the auditor's own line manager; the available peer reviewers take one audit each, and only
   when audits outnumber them does anyone take a second (never k + 1 before everyone has k, as far
   as independence allows).

"Random" is a rank: the SHA-256 of the recorded seed and the record's id. Drawing again with the
same seed and the same inputs gives the same sample, whatever order the inputs come in; one
auditor's draw does not depend on anyone else's.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Case types drawn from, and the precedence when a case is more than one.
PRECEDENCE = ("CP", "CIC", "CIN")


def audit_case_type(types: Iterable[str]) -> str | None:
    """The type a case is audited as: CP over CIC over CIN (None if none of them)."""
    held = {t.upper() for t in types}
    return next((t for t in PRECEDENCE if t in held), None)


@dataclass(frozen=True)
class OpenCase:
    case_id: str
    #: Every type the case holds (the directory's one, plus any others an integration flags).
    case_types: tuple[str, ...]
    team_id: str
    #: The case's team manager (who line-manages it).
    line_manager_id: str | None

    @property
    def audit_type(self) -> str | None:
        return audit_case_type(self.case_types)


@dataclass(frozen=True)
class SampleInputs:
    cases: list[OpenCase]
    auditors: list[str]
    peer_reviewers: list[str]
    #: Everyone on dispensation this month (auditors and peer reviewers alike).
    dispensed: frozenset[str] = frozenset()
    #: Cases audited in the 12 months before the month drawn.
    recently_audited: frozenset[str] = frozenset()
    #: person -> line manager, for the peer reviewer's independence.
    line_managers: dict[str, str | None] = field(default_factory=dict)

    def digest(self) -> str:
        """A fingerprint of the inputs: the same seed on inputs with this digest draws the same sample."""
        h = hashlib.sha256()
        for case in sorted(self.cases, key=lambda c: c.case_id):
            h.update(f"c|{case.case_id}|{','.join(sorted(case.case_types))}|{case.team_id}|{case.line_manager_id}\n".encode())
        for tag, people in (("a", self.auditors), ("p", self.peer_reviewers), ("d", self.dispensed), ("r", self.recently_audited)):
            for person in sorted(set(people)):
                h.update(f"{tag}|{person}\n".encode())
        for person, manager in sorted(self.line_managers.items()):
            h.update(f"m|{person}|{manager}\n".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class Assignment:
    auditor_id: str
    case_id: str
    case_type: str
    team_id: str
    peer_reviewer_id: str | None
    #: ``line_managed`` (a case the auditor line-manages) or ``team_cover`` (rule 3).
    basis: str


@dataclass(frozen=True)
class Sample:
    seed: str
    inputs_digest: str
    assignments: list[Assignment]
    #: Teams with cases to draw that no available auditor could take.
    uncovered_team_ids: list[str]
    #: Auditors and peer reviewers left out for a dispensation.
    dispensed_ids: list[str]
    #: Available auditors with no case to audit (none they line-manage, no team left to cover).
    idle_auditor_ids: list[str]
    eligible_cases: int


class NoPeerReviewers(Exception):
    """The programme has a peer review, but no peer reviewer is available this month."""


def rank(seed: str, kind: str, record_id: str) -> bytes:
    return hashlib.sha256(f"{seed}|{kind}|{record_id}".encode()).digest()


def draw_sample(inputs: SampleInputs, seed: str, *, peer_review: bool) -> Sample:
    eligible = [c for c in inputs.cases if c.audit_type is not None and c.case_id not in inputs.recently_audited]
    by_manager: dict[str, list[OpenCase]] = defaultdict(list)
    by_team: dict[str, list[OpenCase]] = defaultdict(list)
    for case in eligible:
        if case.line_manager_id:
            by_manager[case.line_manager_id].append(case)
        by_team[case.team_id].append(case)

    available = sorted(set(inputs.auditors) - inputs.dispensed)
    chosen: dict[str, tuple[OpenCase, str]] = {}
    for auditor in available:
        own = by_manager.get(auditor)
        if own:
            chosen[auditor] = (min(own, key=lambda c: rank(seed, "case", c.case_id)), "line_managed")

    covered = {case.team_id for case, _ in chosen.values()}
    idle = sorted((a for a in available if a not in chosen), key=lambda a: rank(seed, "cover", a))
    uncovered = []
    for team in sorted((t for t in by_team if t not in covered), key=lambda t: rank(seed, "team", t)):
        if not idle:
            uncovered.append(team)
            continue
        auditor = idle.pop(0)
        chosen[auditor] = (min(by_team[team], key=lambda c: rank(seed, "case", c.case_id)), "team_cover")

    reviewers = _peer_reviewers(inputs, seed, chosen, peer_review)
    assignments = [
        Assignment(
            auditor_id=auditor, case_id=case.case_id, case_type=case.audit_type or "", team_id=case.team_id,
            peer_reviewer_id=reviewers.get(auditor), basis=basis,
        )
        for auditor, (case, basis) in sorted(chosen.items())
    ]
    dispensed = sorted((set(inputs.auditors) | set(inputs.peer_reviewers)) & inputs.dispensed)
    return Sample(
        seed=seed, inputs_digest=inputs.digest(), assignments=assignments, uncovered_team_ids=sorted(uncovered),
        dispensed_ids=dispensed, idle_auditor_ids=sorted(idle), eligible_cases=len(eligible),
    )


def _peer_reviewers(inputs: SampleInputs, seed: str, chosen: dict[str, tuple[OpenCase, str]], peer_review: bool) -> dict[str, str]:
    """Auditor -> peer reviewer: the least-loaded available reviewer who is independent of the auditor."""
    if not peer_review or not chosen:
        return {}
    pool = sorted(set(inputs.peer_reviewers) - inputs.dispensed)
    if not pool:
        raise NoPeerReviewers("No peer reviewer is available this month (all on dispensation, or none in the directory).")
    heap = [(0, rank(seed, "reviewer", p), p) for p in pool]
    heapq.heapify(heap)
    assigned: dict[str, str] = {}
    for auditor in sorted(chosen, key=lambda a: rank(seed, "audit", a)):
        not_for = {auditor, inputs.line_managers.get(auditor)}
        skipped = []
        while heap and heap[0][2] in not_for:
            skipped.append(heapq.heappop(heap))
        if heap:
            load, order, reviewer = heapq.heappop(heap)
        else:
            # Only the auditor's own line manager is left to review: better than no review.
            others = sorted(e for e in skipped if e[2] != auditor)
            if not others:
                raise NoPeerReviewers(f"No peer reviewer other than the auditor {auditor} is available.")
            skipped.remove(others[0])
            load, order, reviewer = others[0]
        assigned[auditor] = reviewer
        heapq.heappush(heap, (load + 1, order, reviewer))
        for entry in skipped:
            heapq.heappush(heap, entry)
    return assigned
