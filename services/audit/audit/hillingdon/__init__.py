"""Hillingdon's quality assurance framework (seed 002): the review of every single-agency audit
graded requires improvement or inadequate, the lead QA auditor's monthly audit report, themed
audits' findings-and-recommendations report, and the supervision crib sheet (Appendix A)."""
