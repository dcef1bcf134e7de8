"""Multi-agency audits (Hillingdon QAF 5.4, Appendix E): bespoke tool, coded case, consultation,
the meeting, and the multi-agency action plan reported to the QA sub-committee."""
