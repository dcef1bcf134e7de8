"""Every event the gateway publishes (for the AsyncAPI document)."""

from .directory.events import EVENTS

__all__ = ["EVENTS"]
