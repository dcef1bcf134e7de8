"""Resolution: concerns about a child's plan, escalation stages and delegated sections."""
