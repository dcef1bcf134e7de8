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
   auditor never gets two audits in a month. Every team with an open case and no file is
   reported with its reason: no eligible case (all audited in the last 12 months), or no
   available auditor left.
3a. (A programme's documented fallback, off by default.) An auditor still without a case is
   given one of their own service (the first service manager up their line of management) that
   they do not line-manage, marked ``own_service`` on the assignment and the audit's work item.
   Every auditor left idle is reported with the reason (Kent 2: each team manager is allocated
   "a case they are responsible for line managing": none names them, or all were audited in the
   last 12 months).
4. Every audit gets a peer reviewer (when the programme has a peer review) other than its auditor
   and the auditor's own line manager; each available peer reviewer takes ONE audit (Kent 2:
   "Each Team Manager and Peer Reviewer will audit one case per month"). When audits outnumber
   them, the audits left over are listed as awaiting a peer reviewer, for QA staff to assign;
   nobody is silently given a second.

"Random" is a rank: the SHA-256 of the recorded seed and the record's id. Drawing again with the
same seed and the same inputs gives the same sample, whatever order the inputs come in; one
auditor's draw does not depend on anyone else's.

Every case of the inputs gets its reason (``CaseReason``, issue 18, "a sample anyone can
verify"): a case drawn, with its rank under the seed, the auditor it serves and the basis; a case
left out, with why: audited in the last 12 months, not line-managed by an available auditor, or
lower precedence (its rank came after the case drawn from the same choice, which it names);
a case of no drawn type says so. ``verify`` compares a stored sample with a re-draw.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

#: Case types drawn from, and the precedence when a case is more than one.
PRECEDENCE = ("CP", "CIC", "CIN")


def audit_case_type(types: Iterable[str]) -> str | None:
    """The type a case is audited as: CP over CIC over CIN (None if none of them)."""
    held = {t.upper() for t in types}
    return next((t for t in PRECEDENCE if t in held), None)


@lru_cache(maxsize=256)
def _audit_type_of(types: tuple[str, ...]) -> str | None:
    # A month draws from tens of thousands of cases holding a handful of distinct type lists.
    return audit_case_type(types)


@dataclass(frozen=True, slots=True)
class OpenCase:
    case_id: str
    #: Every type the case holds (the directory's one, plus any others an integration flags).
    case_types: tuple[str, ...]
    team_id: str
    #: The case's team manager (who line-manages it).
    line_manager_id: str | None
    #: The case's service: the first service manager up the line from its line manager.
    service_id: str | None = None

    @property
    def audit_type(self) -> str | None:
        return _audit_type_of(tuple(self.case_types))


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
    #: auditor -> their service (the first service manager up their line), for the fallback.
    auditor_services: dict[str, str | None] = field(default_factory=dict)

    def digest(self) -> str:
        """A fingerprint of the inputs: the same seed on inputs with this digest draws the same sample."""
        h = hashlib.sha256()
        for case in sorted(self.cases, key=lambda c: c.case_id):
            service = f"|{case.service_id}" if case.service_id else ""
            h.update(f"c|{case.case_id}|{','.join(sorted(case.case_types))}|{case.team_id}|{case.line_manager_id}{service}\n".encode())
        for tag, people in (("a", self.auditors), ("p", self.peer_reviewers), ("d", self.dispensed), ("r", self.recently_audited)):
            for person in sorted(set(people)):
                h.update(f"{tag}|{person}\n".encode())
        for person, manager in sorted(self.line_managers.items()):
            h.update(f"m|{person}|{manager}\n".encode())
        for auditor, service_id in sorted(self.auditor_services.items()):
            if service_id:
                h.update(f"s|{auditor}|{service_id}\n".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class Assignment:
    auditor_id: str
    case_id: str
    case_type: str
    team_id: str
    peer_reviewer_id: str | None
    #: ``line_managed`` (a case the auditor line-manages), ``team_cover`` (rule 3) or
    #: ``own_service`` (the programme's fallback: a case of their service they do not manage).
    basis: str


#: Why an available auditor has no audit this month.
NO_LINE_MANAGED_CASE = "no_line_managed_case"
ALL_AUDITED_IN_LAST_12_MONTHS = "all_line_managed_cases_audited_in_last_12_months"
#: Why the fallback (when on) found them nothing either.
NO_SERVICE = "no_service_manager_above_them"
NO_CASE_LEFT_IN_SERVICE = "no_eligible_case_left_in_their_service"

#: Why a team with open cases has no file this month.
NO_ELIGIBLE_CASE = "no_eligible_case"
NO_AVAILABLE_AUDITOR = "no_available_auditor"


@dataclass(frozen=True)
class IdleAuditor:
    auditor_id: str
    #: ``no_line_managed_case`` or ``all_line_managed_cases_audited_in_last_12_months``.
    reason: str
    #: With the fallback on, why it gave them nothing (None when the fallback is off).
    fallback_reason: str | None = None


@dataclass(frozen=True)
class UncoveredTeam:
    team_id: str
    #: ``no_eligible_case`` or ``no_available_auditor``.
    reason: str
    open_cases: int
    audited_in_last_12_months: int


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
    #: Each idle auditor with the reason (same order as ``idle_auditor_ids``).
    idle_auditors: list[IdleAuditor] = field(default_factory=list)
    #: Each team in ``uncovered_team_ids`` with the reason.
    uncovered_teams: list[UncoveredTeam] = field(default_factory=list)
    #: Auditors whose audit awaits a peer reviewer for QA staff to assign (not yet allocated).
    awaiting_peer_reviewer: list[str] = field(default_factory=list)
    #: Whether the programme's own-service fallback was on for this draw.
    own_service_fallback: bool = False
    #: Whether the programme has a peer review (a setting the draw used).
    peer_review: bool = False
    #: Every case of the inputs with why it was or was not drawn, by case id (kept apart from
    #: the cycle's record: a month has thousands).
    case_reasons: list[CaseReason] = field(default_factory=list, repr=False, compare=False)


#: Why a case of the inputs was left out of the sample.
AUDITED_IN_LAST_12_MONTHS = "audited_in_last_12_months"
NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR = "not_line_managed_by_an_available_auditor"
LOWER_PRECEDENCE = "lower_precedence"
NOT_A_DRAWN_CASE_TYPE = "not_child_in_need_protection_or_care"
LEFT_OUT_REASONS = (AUDITED_IN_LAST_12_MONTHS, NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR, LOWER_PRECEDENCE, NOT_A_DRAWN_CASE_TYPE)


@dataclass(frozen=True, slots=True)
class CaseReason:
    """Why one case of the inputs was, or was not, drawn."""

    case_id: str
    picked: bool
    #: The case's rank under the seed (hex SHA-256): the lowest of a choice is drawn.
    rank: str
    #: Picked: the auditor it serves.
    auditor_id: str | None = None
    #: Picked: ``line_managed``, ``team_cover`` or ``own_service``.
    basis: str | None = None
    #: Left out: one of ``LEFT_OUT_REASONS``.
    reason: str | None = None
    #: Left out for ``lower_precedence``: the case drawn ahead of it (a lower rank).
    outranked_by: str | None = None


class NoPeerReviewers(Exception):
    """The programme has a peer review, but no peer reviewer is available this month."""


def rank(seed: str, kind: str, record_id: str) -> bytes:
    return hashlib.sha256(f"{seed}|{kind}|{record_id}".encode()).digest()


class _CaseRanks(dict[str, bytes]):
    """Each case's rank under one seed, computed once per draw (a case is ranked when its choice
    is made and again for its reason)."""

    def __init__(self, seed: str) -> None:
        super().__init__()
        self.seed = seed

    def __missing__(self, case_id: str) -> bytes:
        at = self[case_id] = rank(self.seed, "case", case_id)
        return at


def draw_sample(inputs: SampleInputs, seed: str, *, peer_review: bool, own_service_fallback: bool = False) -> Sample:
    open_drawable = [c for c in inputs.cases if c.audit_type is not None]
    eligible = [c for c in open_drawable if c.case_id not in inputs.recently_audited]
    by_manager: dict[str, list[OpenCase]] = defaultdict(list)
    by_team: dict[str, list[OpenCase]] = defaultdict(list)
    for case in eligible:
        if case.line_manager_id:
            by_manager[case.line_manager_id].append(case)
        by_team[case.team_id].append(case)
    managing = {c.line_manager_id for c in open_drawable if c.line_manager_id}

    #: case -> the case drawn ahead of it (the first choice it lost).
    lost_to: dict[str, str] = {}
    ranks = _CaseRanks(seed)

    def pick(cases: Iterable[OpenCase]) -> OpenCase:
        pool = list(cases)
        chosen_case = min(pool, key=lambda c: ranks[c.case_id])
        for other in pool:
            if other is not chosen_case:
                lost_to.setdefault(other.case_id, chosen_case.case_id)
        return chosen_case

    available = sorted(set(inputs.auditors) - inputs.dispensed)
    chosen: dict[str, tuple[OpenCase, str]] = {}
    for auditor in available:
        own = by_manager.get(auditor)
        if own:
            chosen[auditor] = (pick(own), "line_managed")

    covered = {case.team_id for case, _ in chosen.values()}
    idle = sorted((a for a in available if a not in chosen), key=lambda a: rank(seed, "cover", a))
    uncovered = []
    for team in sorted((t for t in by_team if t not in covered), key=lambda t: rank(seed, "team", t)):
        if not idle:
            uncovered.append(team)
            continue
        auditor = idle.pop(0)
        chosen[auditor] = (pick(by_team[team]), "team_cover")

    fallback_reasons: dict[str, str] = {}
    if own_service_fallback:
        drawn = {case.case_id for case, _ in chosen.values()}
        by_service: dict[str, list[OpenCase]] = defaultdict(list)
        for case in eligible:
            if case.service_id and case.case_id not in drawn:
                by_service[case.service_id].append(case)
        still_idle = []
        for auditor in idle:
            service = inputs.auditor_services.get(auditor)
            left = [c for c in by_service.get(service or "", []) if c.line_manager_id != auditor]
            if not service or not left:
                fallback_reasons[auditor] = NO_SERVICE if not service else NO_CASE_LEFT_IN_SERVICE
                still_idle.append(auditor)
                continue
            case = pick(left)
            by_service[service].remove(case)
            chosen[auditor] = (case, "own_service")
        idle = still_idle

    reviewers = _peer_reviewers(inputs, seed, chosen, peer_review)
    assignments = [
        Assignment(
            auditor_id=auditor, case_id=case.case_id, case_type=case.audit_type or "", team_id=case.team_id,
            peer_reviewer_id=reviewers.get(auditor), basis=basis,
        )
        for auditor, (case, basis) in sorted(chosen.items())
    ]
    dispensed = sorted((set(inputs.auditors) | set(inputs.peer_reviewers)) & inputs.dispensed)
    idle_auditors = [
        IdleAuditor(
            auditor_id=a, reason=ALL_AUDITED_IN_LAST_12_MONTHS if a in managing else NO_LINE_MANAGED_CASE,
            fallback_reason=fallback_reasons.get(a) if own_service_fallback else None,
        )
        for a in sorted(idle)
    ]
    files = {a.team_id for a in assignments}
    open_by_team: dict[str, int] = defaultdict(int)
    for case in open_drawable:
        open_by_team[case.team_id] += 1
    uncovered_teams = [
        UncoveredTeam(
            team_id=team, reason=NO_AVAILABLE_AUDITOR if by_team.get(team) else NO_ELIGIBLE_CASE, open_cases=count,
            audited_in_last_12_months=count - len(by_team.get(team, [])),
        )
        for team, count in sorted(open_by_team.items())
        if team and team not in files
    ]
    return Sample(
        seed=seed, inputs_digest=inputs.digest(), assignments=assignments, uncovered_team_ids=[t.team_id for t in uncovered_teams],
        dispensed_ids=dispensed, idle_auditor_ids=sorted(idle), eligible_cases=len(eligible), idle_auditors=idle_auditors,
        uncovered_teams=uncovered_teams,
        awaiting_peer_reviewer=sorted(a for a in chosen if peer_review and a not in reviewers),
        own_service_fallback=own_service_fallback, peer_review=peer_review,
        case_reasons=case_reasons(inputs, seed, assignments, lost_to, ranks),
    )


def case_reasons(
    inputs: SampleInputs, seed: str, assignments: list[Assignment], lost_to: dict[str, str], ranks: dict[str, bytes] | None = None,
) -> list[CaseReason]:
    """Every case of the inputs, by case id, with why it was or was not drawn (``ranks``: the
    cases' ranks under ``seed`` the draw already computed)."""
    ranks = ranks if ranks is not None else _CaseRanks(seed)
    drawn = {a.case_id: a for a in assignments}
    reasons = []
    for case in sorted({c.case_id: c for c in inputs.cases}.values(), key=lambda c: c.case_id):
        at = ranks[case.case_id].hex()
        a = drawn.get(case.case_id)
        if a is not None:
            reasons.append(CaseReason(case_id=case.case_id, picked=True, rank=at, auditor_id=a.auditor_id, basis=a.basis))
            continue
        if case.audit_type is None:
            reason = NOT_A_DRAWN_CASE_TYPE
        elif case.case_id in inputs.recently_audited:
            reason = AUDITED_IN_LAST_12_MONTHS
        elif case.case_id in lost_to:
            reason = LOWER_PRECEDENCE
        else:
            reason = NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR
        reasons.append(CaseReason(
            case_id=case.case_id, picked=False, rank=at, reason=reason, outranked_by=lost_to.get(case.case_id) if reason == LOWER_PRECEDENCE else None,
        ))
    return reasons


def _peer_reviewers(inputs: SampleInputs, seed: str, chosen: dict[str, tuple[OpenCase, str]], peer_review: bool) -> dict[str, str]:
    """Auditor -> peer reviewer: each available reviewer takes one audit, independent of its
    auditor (never the auditor; the auditor's own line manager only when no one else is left).
    Audits left over have none (listed for QA staff to assign)."""
    if not peer_review or not chosen:
        return {}
    pool = sorted(set(inputs.peer_reviewers) - inputs.dispensed)
    if not pool:
        raise NoPeerReviewers("No peer reviewer is available this month (all on dispensation, or none in the directory).")
    free = sorted(pool, key=lambda p: rank(seed, "reviewer", p))
    assigned: dict[str, str] = {}
    for auditor in sorted(chosen, key=lambda a: rank(seed, "audit", a)):
        if not free:
            break
        manager = inputs.line_managers.get(auditor)
        independent = [p for p in free if p not in (auditor, manager)]
        fallback = [p for p in free if p != auditor]
        candidates = independent or fallback
        if not candidates:
            continue
        reviewer = candidates[0]
        assigned[auditor] = reviewer
        free.remove(reviewer)
    return assigned
