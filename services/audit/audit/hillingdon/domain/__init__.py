"""Hillingdon's rules in plain Python (no web, database or broker)."""
