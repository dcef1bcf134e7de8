"""Email templates render a plain-text and an HTML part; HTML escapes what it is given."""

from __future__ import annotations

from notify.mail.render import Templates


def test_a_task_email_has_both_parts_and_the_link() -> None:
    rendered = Templates().render("task", {
        "recipient_name": "Ann", "kind_label": "Peer review needed", "subject": "Audit <A-1>", "action": "Review it",
        "due_on": "30/04/2026", "assigned_by_name": "the system", "url": "http://fe/audit/audits/A-1", "tray_url": "http://fe/tasks",
    })
    assert rendered.subject == "Peer review needed: Audit <A-1>"
    assert "http://fe/audit/audits/A-1" in rendered.text and "Due: 30/04/2026" in rendered.text
    assert "Audit &lt;A-1&gt;" in rendered.html and "<A-1>" not in rendered.html


def test_the_digest_lists_each_incomplete_audit() -> None:
    rendered = Templates().render("incomplete_audits_digest", {
        "recipient_name": "Sam", "month": "2026-04", "tray_url": "http://fe/tasks",
        "items": [{"auditor_name": "Tom", "audit_id": "A-1", "due_on": "30/04/2026", "url": "u1"},
                  {"auditor_name": "Tia", "audit_id": "A-2", "due_on": "", "url": "u2"}],
    })
    assert rendered.subject == "Audits not yet completed for 2026-04: 2"
    assert "- Tom: audit A-1, due 30/04/2026" in rendered.text and "- Tia: audit A-2 (u2)" in rendered.text


def test_an_audit_copy_email_links_to_the_pdf_and_says_it_is_not_attached() -> None:
    rendered = Templates().render("audit_copy", {
        "recipient_name": "Sue", "what": "a multi-agency audit", "stage_label": "stage 1, audit", "reason": "accountable service manager",
        "document_url": "http://fe/api/v1/audit/audits/A-1/pdfs/P-1", "url": "http://fe/audit/audits/A-1", "tray_url": "http://fe/tasks",
    })
    assert rendered.subject == "Copy of a multi-agency audit (stage 1, audit)"
    assert "http://fe/api/v1/audit/audits/A-1/pdfs/P-1" in rendered.text and "not attached" in rendered.text
    assert '<a href="http://fe/api/v1/audit/audits/A-1/pdfs/P-1">' in rendered.html
