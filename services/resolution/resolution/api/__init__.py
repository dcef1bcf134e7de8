"""The resolution service's HTTP API: forms, themes and reports, under ``/v1``."""

from .closing_reasons import router as closing_reasons_router
from .forms import router as forms_router
from .reports import router as reports_router
from .themes import router as themes_router

ROUTERS = [forms_router, themes_router, closing_reasons_router, reports_router]

__all__ = ["ROUTERS"]
