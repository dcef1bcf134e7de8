"""Request and response shapes of sign-off's HTTP API (kept apart from the domain objects and
the stored documents, so each can change without the others)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field
from shared.ids import IdField

from ..domain.messages import Action
from ..domain.timeliness import Status
from ..domain.types import QuestionKind

Ident: TypeAlias = IdField
TypeCode = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[A-Z][A-Z0-9_]{1,19}$", examples=["INIASS"])]
Answers = Annotated[
    dict[Annotated[str, Field(max_length=64)], Any],
    Field(
        description="Question id -> answer: text for text questions, true/false for yes_no, 'YYYY-MM-DD' for date, "
        "one of the options for choice; null clears an answer.",
        max_length=500,
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- exemplar types ------------------------------------------------------------------------


class QuestionModel(_In):
    id: str = Field(min_length=1, max_length=64, examples=["child_seen"])
    text: str = Field(min_length=1, max_length=500)
    kind: QuestionKind
    mandatory: bool
    options: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=50)


class ExemplarTypeIn(_In):
    name: str = Field(min_length=1, max_length=200)
    questions: list[QuestionModel] = Field(min_length=1, max_length=300)
    first_signers: list[str] = Field(min_length=1, max_length=30, description="Roles (the directory's) who may give the first signature")
    counter_signers: list[str] = Field(min_length=1, max_length=30, description="Roles who may counter-sign")
    same_person_may_sign_both: bool
    timescale_working_days: int | None = Field(default=None, ge=0, le=400, description="From the start date; null for none")
    start_question_id: str | None = Field(default=None, description="The date question whose answer is the start date")
    role_notes: str = Field(default="", max_length=4000)
    active: bool = True


class ExemplarTypeOut(BaseModel):
    code: str
    version: int
    name: str
    questions: list[QuestionModel]
    first_signers: list[str]
    counter_signers: list[str]
    same_person_may_sign_both: bool
    timescale_working_days: int | None
    start_question_id: str | None
    role_notes: str
    active: bool


# --- exemplars -----------------------------------------------------------------------------


class ExemplarCreate(_In):
    case_id: Ident
    type_code: TypeCode
    answers: Answers = Field(default_factory=dict)


class AnswersIn(_In):
    answers: Answers


class FirstSignIn(_In):
    counter_signer_id: Ident | None = Field(
        default=None, description="Who should counter-sign: the system sends them 'ready for counter-sign'. "
        "Without it, the signer's line manager when they may counter-sign this type."
    )
    due_on: date | None = Field(default=None, description="Due date of that message; by default the work's own due date")


class CounterSignIn(_In):
    comments: str | None = Field(default=None, max_length=20000)
    supervision_notes: str | None = Field(default=None, max_length=20000, description="Manager's Supervision Notes")


class UnlockIn(_In):
    reason: str = Field(min_length=1, max_length=20000)


class CloneIn(_In):
    case_ids: list[Ident] = Field(min_length=1, max_length=30, description="Siblings' cases, as the directory links them")


class MessageIn(_In):
    to_person_id: Ident
    subject: str = Field(min_length=1, max_length=200, description="Refer to the child by case, not by name")
    action: Action
    text: str | None = Field(default=None, max_length=4000)
    due_on: date
    send_email: bool = Field(default=False, description="Email the recipient as well as putting the message in their work tray")


class SignatureOut(BaseModel):
    by: str
    at: datetime


class CounterSignatureOut(SignatureOut):
    comments: str | None
    supervision_notes: str | None


class UnlockOut(SignatureOut):
    reason: str
    new_version: int


class EditOut(SignatureOut):
    changes: dict[str, dict[str, Any]]
    withdrew_first_signature: SignatureOut | None


class VersionSummaryOut(BaseModel):
    number: int
    status: str
    origin: str
    locked: bool
    created_by: str
    created_at: datetime
    first_signature: SignatureOut | None
    counter_signature: CounterSignatureOut | None
    unlock: UnlockOut | None


class VersionOut(VersionSummaryOut):
    answers: dict[str, Any]
    edits: list[EditOut]


class CloneOfOut(BaseModel):
    exemplar_id: str
    case_id: str
    version: int
    counter_signed_by: str
    counter_signed_at: datetime
    comments: str | None


class UnansweredOut(BaseModel):
    question_id: str
    text: str


class TimelinessOut(BaseModel):
    start_date: date
    due_on: date | None
    completed_on: date | None = Field(description="The latest version's counter-signature date")
    working_days_taken: int | None
    status: Status


class ExemplarOut(BaseModel):
    id: str
    revision: int = Field(description="Changes of this exemplar so far; sent as the ETag")
    case_id: str
    team_id: str
    type_code: str
    type_name: str
    type_version: int
    version: int = Field(description="The current (latest) Version N")
    status: str
    locked: bool
    created_by: str
    created_at: datetime
    clone_of: CloneOfOut | None
    timeliness: TimelinessOut
    unanswered_mandatory: list[UnansweredOut] = Field(description="The Exemplar Assistant: what must be answered before signing")
    current: VersionOut
    versions: list[VersionSummaryOut]


class MessageOut(BaseModel):
    id: str
    exemplar_id: str
    case_id: str
    type_code: str
    version: int
    to_person_id: str
    assigned_by: str
    from_system: bool
    subject: str
    action: Action
    text: str | None
    due_on: date
    sent_at: datetime
    clone_of_exemplar_id: str | None
    clone_of_version: int | None
    send_email: bool = Field(description="The sender asked for an email as well as the work-tray entry")


class FirstSignedOut(ExemplarOut):
    system_message: MessageOut | None = Field(description="The 'ready for counter-sign' message the system sent, if any")


class ExemplarSummaryOut(BaseModel):
    id: str
    revision: int
    case_id: str
    team_id: str
    type_code: str
    version: int
    status: str
    start_date: date
    counter_signed_on: date | None
    created_by: str
    created_at: datetime
    clone_of_exemplar_id: str | None


class ClonesOut(BaseModel):
    index_exemplar_id: str
    clones: list[ExemplarSummaryOut]


class ChronologyEntryOut(BaseModel):
    at: datetime
    by: str
    kind: str
    exemplar_id: str
    version: int
    type_code: str
    summary: str
    message_id: str | None


class TotalsOut(BaseModel):
    total: int
    completed: int
    on_time: int
    late: int
    open: int
    overdue: int
    no_timescale: int
    percent_on_time: float | None


class TimelinessRowOut(BaseModel):
    exemplar_id: str
    case_id: str
    team_id: str
    type_code: str
    latest_version: int
    clone_of_exemplar_id: str | None
    start_date: date
    counter_signed_on: date | None = Field(description="The latest version's counter-signature date")
    timescale_working_days: int | None
    due_on: date | None
    working_days_taken: int | None
    status: Status
    on_time: bool | None


class TimelinessReportOut(BaseModel):
    type_code: str | None
    period_from: date
    period_to: date
    totals: TotalsOut
    by_type: dict[str, TotalsOut]
    items: list[TimelinessRowOut]
    next: str | None = Field(default=None, description="Cursor of the next page of items; absent on the last page")
