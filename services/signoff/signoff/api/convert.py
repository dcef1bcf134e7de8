"""Domain objects and stored documents -> response models."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.mongo import Document

from ..domain.exemplar import Exemplar, ExemplarVersion
from ..domain.messages import WorkflowMessage
from ..domain.timeliness import Totals
from ..domain.types import ExemplarType
from ..reports import Row
from . import models as m


def exemplar_type(t: ExemplarType) -> m.ExemplarTypeOut:
    return m.ExemplarTypeOut(
        code=t.code, version=t.version, name=t.name,
        questions=[m.QuestionModel(id=q.id, text=q.text, kind=q.kind, mandatory=q.mandatory, options=list(q.options)) for q in t.questions],
        first_signers=sorted(t.first_signers), counter_signers=sorted(t.counter_signers),
        same_person_may_sign_both=t.same_person_may_sign_both, timescale_working_days=t.timescale_working_days,
        start_question_id=t.start_question_id, role_notes=t.role_notes, active=t.active,
    )


def _summary_fields(v: ExemplarVersion) -> dict[str, Any]:
    fs, cs, un = v.first_signature, v.counter_signature, v.unlock
    return {
        "number": v.number, "status": v.status.value, "origin": v.origin.value, "locked": v.locked,
        "created_by": v.created_by, "created_at": v.created_at,
        "first_signature": m.SignatureOut(by=fs.by, at=fs.at) if fs else None,
        "counter_signature": m.CounterSignatureOut(by=cs.by, at=cs.at, comments=cs.comments, supervision_notes=cs.supervision_notes) if cs else None,
        "unlock": m.UnlockOut(by=un.by, at=un.at, reason=un.reason, new_version=un.new_version) if un else None,
    }


def version(v: ExemplarVersion) -> m.VersionOut:
    return m.VersionOut(
        **_summary_fields(v),
        answers=dict(v.answers),
        edits=[
            m.EditOut(
                by=e.by, at=e.at, changes={k: dict(c) for k, c in e.changes.items()},
                withdrew_first_signature=m.SignatureOut(by=e.withdrew_first_signature.by, at=e.withdrew_first_signature.at)
                if e.withdrew_first_signature else None,
            )
            for e in v.edits
        ],
    )


def exemplar(x: Exemplar, today: date, out: type[m.ExemplarOut] = m.ExemplarOut, **extra: Any) -> Any:
    t = x.timeliness(today)
    c = x.clone_of
    return out(
        id=x.id, revision=x.revision, case_id=x.case_id, team_id=x.team_id, type_code=x.type.code, type_name=x.type.name,
        type_version=x.type.version, version=x.current.number, status=x.current.status.value, locked=x.current.locked,
        created_by=x.created_by, created_at=x.created_at,
        clone_of=m.CloneOfOut(
            exemplar_id=c.exemplar_id, case_id=c.case_id, version=c.version, counter_signed_by=c.counter_signed_by,
            counter_signed_at=c.counter_signed_at, comments=c.comments,
        ) if c else None,
        timeliness=m.TimelinessOut(
            start_date=t.start_date, due_on=t.due_on, completed_on=t.completed_on, working_days_taken=t.working_days_taken, status=t.status
        ),
        unanswered_mandatory=[m.UnansweredOut(question_id=u.question_id, text=u.text) for u in x.unanswered_mandatory()],
        current=version(x.current),
        versions=[m.VersionSummaryOut(**_summary_fields(v)) for v in x.versions],
        **extra,
    )


def summary(doc: Document) -> m.ExemplarSummaryOut:
    return m.ExemplarSummaryOut(
        id=doc["_id"], revision=doc["revision"], case_id=doc["case_id"], team_id=doc["team_id"], type_code=doc["type_code"],
        version=doc["latest_version"], status=doc["status"], start_date=date.fromisoformat(doc["start_date"]),
        counter_signed_on=date.fromisoformat(doc["counter_signed_on"]) if doc.get("counter_signed_on") else None,
        created_by=doc["created_by"], created_at=doc["created_at"], clone_of_exemplar_id=(doc.get("clone_of") or {}).get("exemplar_id"),
    )


def message(msg: WorkflowMessage) -> m.MessageOut:
    return m.MessageOut(
        id=msg.id, exemplar_id=msg.exemplar_id, case_id=msg.case_id, type_code=msg.type_code, version=msg.version,
        to_person_id=msg.to_person_id, assigned_by=msg.assigned_by, from_system=msg.from_system, subject=msg.subject,
        action=msg.action, text=msg.text, due_on=msg.due_on, sent_at=msg.sent_at,
        clone_of_exemplar_id=msg.clone_of_exemplar_id, clone_of_version=msg.clone_of_version, send_email=msg.send_email,
    )


def chronology_entry(doc: Document) -> m.ChronologyEntryOut:
    return m.ChronologyEntryOut(
        at=doc["at"], by=doc["by"], kind=doc["kind"], exemplar_id=doc["exemplar_id"], version=doc["version"],
        type_code=doc["type_code"], summary=doc["summary"], message_id=doc.get("message_id"),
    )


def totals(t: Totals) -> m.TotalsOut:
    return m.TotalsOut(total=t.total, completed=t.completed, percent_on_time=t.percent_on_time, **t.counts)


def row(r: Row) -> m.TimelinessRowOut:
    a = r.assessment
    return m.TimelinessRowOut(
        exemplar_id=r.exemplar_id, case_id=r.case_id, team_id=r.team_id, type_code=r.type_code, latest_version=r.latest_version,
        clone_of_exemplar_id=r.clone_of_exemplar_id, start_date=a.start_date, counter_signed_on=a.completed_on,
        timescale_working_days=r.timescale_working_days, due_on=a.due_on, working_days_taken=a.working_days_taken,
        status=a.status, on_time=a.on_time,
    )
