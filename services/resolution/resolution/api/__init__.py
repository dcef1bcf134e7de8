"""The resolution service's HTTP API: forms, themes and reports, under ``/v1``."""

from .forms import router as forms_router
from .managed_lists import closing_reasons_router, themes_router
from .reports import router as reports_router

ROUTERS = [forms_router, themes_router, closing_reasons_router, reports_router]

__all__ = ["ROUTERS"]
