"""Verifying a drawn month (issue 18, "a sample anyone can verify"): re-draw from the recorded
seed, settings and inputs, and say whether that reproduces the sample stored on the cycle.

The inputs must be the ones recorded at the draw (their digest equal to the cycle's
``inputs_digest``); the re-draw is compared with the stored assignments (auditor, case, basis,
peer reviewer), the audits awaiting a peer reviewer, every idle auditor and team without a file
with its reason, and every case's reason. A peer reviewer QA staff assigned after the draw to an
audit that awaited one is part of the stored sample, not a difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .sampling import CaseReason, NoPeerReviewers, Sample, SampleInputs, draw_sample

#: How many differences a verification lists (it counts them all).
MAX_LISTED = 200


@dataclass(frozen=True)
class Difference:
    #: ``inputs``, ``assignment``, ``awaiting_peer_reviewer``, ``idle_auditor``, ``uncovered_team``, ``case`` or ``eligible_cases``.
    what: str
    #: The auditor, team or case it is about (the cycle's id for ``inputs`` and ``eligible_cases``).
    id: str
    stored: dict[str, Any] | None
    redrawn: dict[str, Any] | None


@dataclass(frozen=True)
class Verification:
    reproduced: bool
    inputs_recorded: bool
    inputs_digest_matches: bool
    #: The digest of the recorded inputs (None when none were recorded).
    recorded_inputs_digest: str | None
    differences_total: int
    differences: list[Difference] = field(default_factory=list)


def _compare(
    what: str, stored: Iterable[tuple[str, dict[str, Any]]], redrawn: Iterable[tuple[str, dict[str, Any]]]
) -> list[Difference]:
    before, after = dict(stored), dict(redrawn)
    return [
        Difference(what=what, id=key, stored=before.get(key), redrawn=after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def verify(
    cycle_id: str,
    stored: Sample,
    stored_reasons: list[CaseReason],
    inputs: SampleInputs | None,
    *,
    assigned_by_qa: dict[str, str],
) -> Verification:
    """Re-draw ``stored`` from ``inputs`` (None: the draw recorded none) with its seed and settings.
    ``assigned_by_qa``: auditor -> the peer reviewer QA staff assigned after the draw."""
    if inputs is None:
        missing = Difference(what="inputs", id=cycle_id, stored=None, redrawn=None)
        return Verification(
            reproduced=False,
            inputs_recorded=False,
            inputs_digest_matches=False,
            recorded_inputs_digest=None,
            differences_total=1,
            differences=[missing],
        )
    digest = inputs.digest()
    differences: list[Difference] = []
    if digest != stored.inputs_digest:
        differences.append(
            Difference(
                what="inputs", id=cycle_id, stored={"inputs_digest": stored.inputs_digest}, redrawn={"inputs_digest": digest}
            )
        )
    try:
        redrawn = draw_sample(
            inputs, stored.seed, peer_review=stored.peer_review, own_service_fallback=stored.own_service_fallback
        )
    except NoPeerReviewers:
        redrawn = replace(
            stored,
            assignments=[],
            awaiting_peer_reviewer=[],
            idle_auditors=[],
            uncovered_teams=[],
            case_reasons=[],
            eligible_cases=0,
        )
    # What QA staff did after the draw: an audit awaiting a peer reviewer given one.
    expected = [
        replace(a, peer_reviewer_id=assigned_by_qa[a.auditor_id])
        if a.peer_reviewer_id is None and a.auditor_id in assigned_by_qa and a.auditor_id in redrawn.awaiting_peer_reviewer
        else a
        for a in redrawn.assignments
    ]
    awaiting = [a for a in redrawn.awaiting_peer_reviewer if a not in assigned_by_qa]

    def rows(assignments: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (
                a.auditor_id,
                {k: v for k, v in asdict(a).items() if k in ("case_id", "basis", "peer_reviewer_id", "team_id", "case_type")},
            )
            for a in assignments
        ]

    differences += _compare("assignment", rows(stored.assignments), rows(expected))
    differences += _compare(
        "awaiting_peer_reviewer", [(a, {}) for a in stored.awaiting_peer_reviewer], [(a, {}) for a in awaiting]
    )
    differences += _compare(
        "idle_auditor",
        [(i.auditor_id, asdict(i)) for i in stored.idle_auditors],
        [(i.auditor_id, asdict(i)) for i in redrawn.idle_auditors],
    )
    differences += _compare(
        "uncovered_team",
        [(t.team_id, asdict(t)) for t in stored.uncovered_teams],
        [(t.team_id, asdict(t)) for t in redrawn.uncovered_teams],
    )
    differences += _compare(
        "case", [(r.case_id, asdict(r)) for r in stored_reasons], [(r.case_id, asdict(r)) for r in redrawn.case_reasons]
    )
    if stored.eligible_cases != redrawn.eligible_cases:
        differences.append(
            Difference(
                what="eligible_cases",
                id=cycle_id,
                stored={"eligible_cases": stored.eligible_cases},
                redrawn={"eligible_cases": redrawn.eligible_cases},
            )
        )
    return Verification(
        reproduced=not differences,
        inputs_recorded=True,
        inputs_digest_matches=digest == stored.inputs_digest,
        recorded_inputs_digest=digest,
        differences_total=len(differences),
        differences=differences[:MAX_LISTED],
    )
