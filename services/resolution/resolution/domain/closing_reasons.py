"""Closing reasons: the managed list of coded reasons a resolution is closed unresolved for, so
resolutions can be reported by how they ended. Kept like themes (``themes.py``): data, kept by
administrators and QA officers; a reason in use is retired, never deleted."""

from __future__ import annotations

from .themes import Theme


class ClosingReason(Theme):
    """A coded reason for closing a resolution unresolved (same rules as a theme)."""

    what = "closing reason"
