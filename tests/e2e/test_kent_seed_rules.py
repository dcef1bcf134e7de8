"""Kent's rules across the services (seed 004), through the gateway with the services as real
processes: the allocation email copied to the allocated peer reviewer without the link (4.1), and an
immediate safeguarding concern raised from inside the audit reaching the case's team manager and the
accountable service manager at once (task and email), tracked to its recorded outcome (the tasks
close) and shown on the audit and its PDF (4.7)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from devstack.stack import Stack
from devstack.testing import eventually

pytestmark = pytest.mark.e2e

KENT = "kent-online-peer-review"
CONCERN = "The child said they were left alone overnight last weekend."


def _mail(system: Stack, address: str) -> list[EmailMessage]:
    assert system.mail_dir is not None
    found = []
    for path in sorted(system.mail_dir.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"] == address:
            found.append(message)
    return found


def _body(message: EmailMessage) -> str:
    return "\n".join(
        part.get_content() for part in (message.get_body(("plain",)), message.get_body(("html",))) if part is not None
    )


def _work(form: dict[str, Any]) -> dict[str, Any]:
    answers = {
        q["key"]: {"value": "yes" if q["scale"] != "text" else "Recorded."} for s in form["sections"] for q in s["questions"]
    }
    return {
        "answers": answers,
        "section_grades": {s["key"]: "good" for s in form["sections"] if s["graded"]},
        "overall_grade": "good",
        "oversight_comment": "I supervise this case monthly.",
        "analysis": "The plan is clear.",
        "recommendations": "Keep the chronology current.",
    }


async def _tasks(gateway: Any, headers: dict[str, str], kind: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"kind": kind, **({"status": status} if status else {})}
    resp = await gateway.http.get("/api/v1/notify/tasks", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


@dataclass
class Kent:
    """What the phases share: the gateway, the running system (its mail folder), the people's ids, email addresses and
    headers by key (SM the service manager, AUD the case's team manager who audits, SW the social worker, PR the peer
    reviewer, QA the QA officer, X another team manager), and the case."""

    gateway: Any
    system: Stack
    ids: dict[str, str]
    email: dict[str, str]
    case: str
    as_: dict[str, dict[str, str]]


async def the_thanet_team_and_a_child_protection_case(gateway: Any, system: Stack) -> Kent:
    """The directory, as the integration writes it: a service manager, the team manager who audits, the allocated social
    worker, a peer reviewer, a QA officer and another team manager, the Thanet team, and a CP case."""
    n = uuid.uuid4().hex[:6].upper()
    ids = {key: f"KS{n}-{key}" for key in ("SM", "AUD", "SW", "PR", "QA", "X")}
    email = {key: f"{person_id.lower()}@council.example" for key, person_id in ids.items()}
    team, case = f"T-KS{n}", f"C-KS{n}"
    writer = await gateway.as_integration()
    people = {
        "SM": (["service_manager"], None, None),
        "AUD": (["team_manager", "auditor"], "SM", team),
        "SW": (["social_worker"], "AUD", team),
        "PR": (["peer_reviewer"], None, None),
        "QA": (["qa_officer"], None, None),
        "X": (["team_manager"], None, None),
    }
    for key, (roles, manager, team_id) in people.items():
        body = {
            "name": f"Person {key} {n}",
            "email": email[key],
            "roles": roles,
            "team_id": team_id,
            "line_manager_id": ids[manager] if manager else None,
        }
        resp = await gateway.http.put(f"/api/v1/directory/people/{ids[key]}", json=body, headers=writer)
        assert resp.status_code in (200, 201), resp.text
    team_body = {"name": "Thanet", "district": "East", "area": "East Kent", "service": "CSC", "manager_id": ids["AUD"]}
    resp = await gateway.http.put(f"/api/v1/directory/teams/{team}", json=team_body, headers=writer)
    assert resp.status_code in (200, 201), resp.text
    case_body = {
        "child_name": "Test Child",
        "case_type": "CP",
        "team_id": team,
        "allocated_worker_id": ids["SW"],
        "team_manager_id": ids["AUD"],
        "opened_on": "2026-03-02",
    }
    resp = await gateway.http.put(f"/api/v1/directory/cases/{case}", json=case_body, headers=writer)
    assert resp.status_code in (200, 201), resp.text
    as_ = {key: await gateway.as_person(person_id) for key, person_id in ids.items()}
    return Kent(gateway, system, ids, email, case, as_)


async def the_qa_officer_allocates_the_audit(k: Kent) -> dict[str, Any]:
    """The QA officer allocates the case's Kent audit to its team manager, with a peer reviewer, once audit has the
    directory's events; returns the audit."""
    gateway, ids, case, as_ = k.gateway, k.ids, k.case, k.as_

    async def allocated() -> dict[str, Any] | None:
        body = {"tool_id": KENT, "case_id": case, "auditor_id": ids["AUD"], "peer_reviewer_id": ids["PR"], "month": "2026-12"}
        resp = await gateway.http.post("/api/v1/audit/audits", json=body, headers=as_["QA"])
        return resp.json() if resp.status_code == 201 else None

    audit = await eventually(allocated, timeout=60, interval=0.5, message="the audit allocated")
    assert audit["social_worker_id"] == ids["SW"]
    return audit


async def the_allocation_is_copied_to_the_peer_reviewer_without_the_link(k: Kent, audit: dict[str, Any]) -> None:
    """4.1: the auditor's email has the link; the peer reviewer's copy does not (and a copy task, nothing to begin)."""
    gateway, system, email, as_ = k.gateway, k.system, k.email, k.as_
    audit_id, audit_path = audit["id"], f"/audits/{audit['id']}"

    async def mail_to(key: str) -> list[EmailMessage]:
        return _mail(system, email[key])

    [auditors] = await eventually(lambda: mail_to("AUD"), timeout=60, interval=0.5, message="the auditor's email")
    assert audit_path in _body(auditors)
    [copy] = await eventually(lambda: mail_to("PR"), timeout=60, interval=0.5, message="the peer reviewer's copy")
    assert "peer reviewer" in str(copy["Subject"]) and audit_id in str(copy["Subject"])
    assert audit_path not in _body(copy) and "no link" in _body(copy)

    async def pr_copy_task() -> list[dict[str, Any]]:
        return await _tasks(gateway, as_["PR"], "audit_copy", "open")

    [task] = await eventually(pr_copy_task, timeout=60, interval=0.5, message="the copy in the peer reviewer's tray")
    assert audit_id in task["subject"]
    assert await _tasks(gateway, as_["PR"], "peer_review") == []  # nothing to begin in error


async def the_social_workers_views_before_the_audit(k: Kent, audit: dict[str, Any]) -> None:
    """2: the social worker's views, before the audit."""
    gateway, as_ = k.gateway, k.as_
    audit_id = audit["id"]
    views = await gateway.http.put(
        f"/api/v1/audit/audits/{audit_id}/practitioner-views",
        json={"views": "I visit weekly; the plan drifted in the summer."},
        headers={**as_["SW"], "If-Match": f'"{audit["version"]}"'},
    )
    assert views.status_code == 200, views.text


async def a_concern_raised_inside_the_audit_goes_at_once_to_both_managers(
    k: Kent, audit: dict[str, Any]
) -> tuple[dict[str, Any], httpx.Response]:
    """4.7: a concern raised from inside the audit goes at once to the team manager and service manager (an email with
    the audit's link but not the concern, and a task each); another team manager cannot raise one. Returns the concern
    and the response that raised it (its ETag)."""
    gateway, system, ids, email, as_ = k.gateway, k.system, k.ids, k.email, k.as_
    audit_id, audit_path = audit["id"], f"/audits/{audit['id']}"
    refused = await gateway.http.post(
        f"/api/v1/audit/audits/{audit_id}/safeguarding-concerns", json={"concern": CONCERN}, headers=as_["X"]
    )
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
    raised = await gateway.http.post(
        f"/api/v1/audit/audits/{audit_id}/safeguarding-concerns", json={"concern": CONCERN}, headers=as_["AUD"]
    )
    assert raised.status_code == 201, raised.text
    [concern] = raised.json()["safeguarding_concerns"]
    assert (concern["team_manager_id"], concern["service_manager_id"]) == (ids["AUD"], ids["SM"])

    async def concern_mail(key: str) -> list[EmailMessage] | None:
        found = [m for m in _mail(system, email[key]) if "safeguarding concern" in str(m["Subject"])]
        return found or None

    for key in ("AUD", "SM"):
        [message] = await eventually(
            lambda key=key: concern_mail(key), timeout=60, interval=0.5, message=f"the concern's email to {key}"
        )
        assert audit_path in _body(message) and "left alone" not in _body(message)  # the concern is read on the audit

        async def concern_task(key: str = key) -> list[dict[str, Any]]:
            return [t for t in await _tasks(gateway, as_[key], "safeguarding_concern", "open") if "safeguarding concern" in t["subject"]]

        await eventually(concern_task, timeout=60, interval=0.5, message=f"the concern's task in {key}'s tray")
    return concern, raised


async def the_service_manager_records_the_outcome_and_both_tasks_close(
    k: Kent, audit: dict[str, Any], concern: dict[str, Any], raised: httpx.Response
) -> httpx.Response:
    """The peer reviewer cannot record the outcome; the service manager does, and both tasks close. Returns the response
    that recorded it (its ETag)."""
    gateway, as_ = k.gateway, k.as_
    audit_id = audit["id"]
    url = f"/api/v1/audit/audits/{audit_id}/safeguarding-concerns/{concern['id']}/acknowledgement"
    version = raised.headers["etag"]
    refused = await gateway.http.post(url, json={"outcome": "Seen."}, headers={**as_["PR"], "If-Match": version})
    assert refused.status_code == 403, refused.text
    done = await gateway.http.post(
        url, json={"outcome": "Strategy discussion held; child seen today."}, headers={**as_["SM"], "If-Match": version}
    )
    assert done.status_code == 200, done.text

    async def concern_tasks_closed() -> bool:
        for key in ("AUD", "SM"):
            tasks = [t for t in await _tasks(gateway, as_[key], "safeguarding_concern") if "safeguarding concern" in t["subject"]]
            if [t["status"] for t in tasks] != ["done"]:
                return False
        return True

    await eventually(concern_tasks_closed, timeout=60, interval=0.5, message="the concern's tasks closed by its outcome")
    return done


async def on_the_audit_and_on_the_pdf_of_stage_1(k: Kent, audit: dict[str, Any], done: httpx.Response) -> None:
    """On the audit, and on the PDF of stage 1 (with the social worker's views)."""
    gateway, as_ = k.gateway, k.as_
    audit_id = audit["id"]
    read = (await gateway.http.get(f"/api/v1/audit/audits/{audit_id}", headers=as_["PR"])).json()
    assert read["safeguarding_concerns"][0]["outcome"] == "Strategy discussion held; child seen today."
    saved = await gateway.http.put(
        f"/api/v1/audit/audits/{audit_id}/stage1",
        json=_work(audit["form"]),
        headers={**as_["AUD"], "If-Match": done.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    submitted = await gateway.http.post(
        f"/api/v1/audit/audits/{audit_id}/stage1/submit", headers={**as_["AUD"], "If-Match": saved.headers["etag"]}
    )
    assert submitted.status_code == 200, submitted.text
    [item] = (await gateway.http.get(f"/api/v1/audit/audits/{audit_id}/pdfs", headers=as_["SM"])).json()["items"]
    pdf = await gateway.http.get(item["href"], headers=as_["SM"])
    assert pdf.status_code == 200, pdf.text
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "Immediate safeguarding concerns" in text and "left alone overnight" in text and "child seen today" in text
    assert "the plan drifted in the summer" in text


async def the_peer_review_takes_over_from_the_copy(k: Kent) -> None:
    """Stage 1 submitted: the peer reviewer's copy task is done with; the peer review (with its link) takes over."""
    gateway, as_ = k.gateway, k.as_

    async def peer_review_opened() -> list[dict[str, Any]]:
        return await _tasks(gateway, as_["PR"], "peer_review", "open")

    await eventually(peer_review_opened, timeout=60, interval=0.5, message="the peer review task")
    assert await _tasks(gateway, as_["PR"], "audit_copy", "open") == []


async def test_the_allocation_is_copied_to_the_peer_reviewer_without_the_link_and_a_concern_is_acted_on_at_once(
    gateway, system: Stack
) -> None:
    kent = await the_thanet_team_and_a_child_protection_case(gateway, system)
    audit = await the_qa_officer_allocates_the_audit(kent)
    await the_allocation_is_copied_to_the_peer_reviewer_without_the_link(kent, audit)
    await the_social_workers_views_before_the_audit(kent, audit)
    concern, raised = await a_concern_raised_inside_the_audit_goes_at_once_to_both_managers(kent, audit)
    done = await the_service_manager_records_the_outcome_and_both_tasks_close(kent, audit, concern, raised)
    await on_the_audit_and_on_the_pdf_of_stage_1(kent, audit, done)
    await the_peer_review_takes_over_from_the_copy(kent)
