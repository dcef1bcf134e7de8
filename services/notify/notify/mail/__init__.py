"""Email: templates, the mail outbox written with the task, and the relay that sends it by SMTP."""
