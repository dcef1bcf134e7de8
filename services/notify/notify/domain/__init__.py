"""Notify's domain: tasks in a person's work tray, their kinds, email preferences and the
working-day reminder schedule. Plain Python: no web, database or broker imports."""
