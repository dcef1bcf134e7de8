"""The resolution service's settings (environment variables, on top of the shared ones)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class ResolutionSettings(ServiceSettings):
    service_name: str = "resolution"
