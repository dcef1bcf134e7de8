"""The events sign-off listens to: the directory's cases, staff and teams, projected into its own
copy (``signoff.directory``), on the queue ``<ns>.signoff.directory``."""

from __future__ import annotations

from shared.app import ConsumerSpec

from . import directory

CONSUMERS = [ConsumerSpec("directory", lambda runtime: directory.subscriptions(runtime.db), batch=True)]
