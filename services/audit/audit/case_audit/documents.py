"""An audit <-> its document: the aggregate stored whole under ``audit`` (JSON-shaped, so a stored
audit reads back exactly), the fields queries filter on and the report facts copied to the top
level. Apart from the store so that the reports' roll-ups can read an older document's body
without importing the store that moves them."""

from __future__ import annotations

from pydantic import TypeAdapter
from shared.mongo import Document

from ..reporting.domain.figures import report_facts
from .domain.audit import Audit
from .domain.follow_ups import ActionStatus

_AUDIT = TypeAdapter(Audit)


def to_document(audit: Audit) -> Document:
    body = _AUDIT.dump_python(audit, mode="json", exclude={"events"})
    doc: Document = {
        "_id": audit.id,
        "version": audit.version,
        "status": audit.status.value,
        "viewers": audit.viewers(),
        "auditor_id": audit.auditor_id,
        "case_id": audit.case.case_id,
        "month": audit.month,
        "created_at": audit.created_at,
        "completed_at": audit.completed_at,
        "updated_at": audit.updated_at,
        "updated_by": audit.updated_by,
        "audit": body,
    }
    if audit.allocation_key:
        doc["allocation_key"] = audit.allocation_key
    doc.update(report_facts(audit))
    action = audit.inadequate_action
    if action is not None and action.status is ActionStatus.OPEN:
        doc["action_status"] = action.status.value
        doc["action_escalate_on"] = action.escalate_on.isoformat()
    return doc


def from_document(doc: Document) -> Audit:
    audit = _AUDIT.validate_python({**doc["audit"], "events": []})
    audit.version = doc["version"]
    return audit
