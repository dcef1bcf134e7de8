"""Hillingdon's six-monthly structured review of a team's quality assurance (seed 002, section 6):
the review pack and the team's improvement plan."""
