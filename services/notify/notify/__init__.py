"""Notify: each person's work tray, email, reminders on working days, real-time push."""
