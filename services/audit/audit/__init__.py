"""Audit: programmes and tools, monthly sampling and allocation, audit, peer review and moderation."""
