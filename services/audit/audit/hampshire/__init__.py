"""Hampshire's quality practice audit as its own monthly programme: each worker and their
supervisor prepare one file a month against the 14 standards (evidence: what, when, where, or a
gap and what they will do about it); the service manager is told which files are ready; they, or
a competent person they delegate to, select at least one file per team and judge each standard;
completed audits go to the performance management unit's collation (seed 003)."""
