"""The six escalation stages, in order, and who answers at each."""

from __future__ import annotations

from enum import StrEnum

from shared.roles import Role


class Stage(StrEnum):
    INFORMAL = "informal"
    STAGE_1 = "stage-1"
    STAGE_2 = "stage-2"
    STAGE_3 = "stage-3"
    STAGE_4 = "stage-4"
    STAGE_5 = "stage-5"

    @property
    def rank(self) -> int:
        """0 for informal up to 5 for CAFCASS: escalation only ever goes up."""
        return _ORDER.index(self)

    @property
    def responder(self) -> str:
        return _RESPONDERS[self][0]

    @property
    def title(self) -> str:  # type: ignore[override]  # the stage's heading; str.title() is not wanted on a Stage
        name = "Informal" if self is Stage.INFORMAL else f"Stage {self.rank}"
        return f"{name} ({self.responder})"

    @property
    def responder_roles(self) -> frozenset[str]:
        """Directory roles a delegate of this stage's section must hold (none: not delegated)."""
        return _RESPONDERS[self][1]

    @property
    def recorded_by_owner(self) -> bool:
        """Stage 5's response comes from CAFCASS, outside the authority: the owner records it."""
        return not self.responder_roles

    def next(self) -> Stage | None:
        return _ORDER[self.rank + 1] if self.rank + 1 < len(_ORDER) else None


_ORDER = list(Stage)

_RESPONDERS: dict[Stage, tuple[str, frozenset[str]]] = {
    # The allocated worker answers informally; qualified practitioners of any grade can hold a case.
    Stage.INFORMAL: ("social worker", frozenset({Role.SOCIAL_WORKER, Role.SENIOR_PRACTITIONER, Role.PRACTICE_SUPERVISOR, Role.TEAM_LEADER})),
    Stage.STAGE_1: ("team manager", frozenset({Role.TEAM_MANAGER})),
    Stage.STAGE_2: ("head of service", frozenset({Role.HEAD_OF_SERVICE})),
    Stage.STAGE_3: ("service director", frozenset({Role.SERVICE_DIRECTOR})),
    Stage.STAGE_4: ("executive director", frozenset({Role.EXECUTIVE_DIRECTOR})),
    Stage.STAGE_5: ("CAFCASS", frozenset()),
}
