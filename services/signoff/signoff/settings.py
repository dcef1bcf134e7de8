"""The signoff service's settings (environment variables, on top of the shared ones)."""

from __future__ import annotations

from shared.settings import ServiceSettings


class SignoffSettings(ServiceSettings):
    service_name: str = "signoff"
    #: Store the seed's five exemplar types at start-up when they are absent (SEED_EXEMPLAR_TYPES).
    seed_exemplar_types: bool = True
