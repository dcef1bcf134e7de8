"""How a report route answers in the format asked for: ``?format=`` when given, else the first of
CSV, SVG, PNG and PDF (of those the route offers) named in ``Accept``, else JSON; and a chart drawn
off the event loop as SVG or PNG, shown inline. The OpenAPI content of each picture type too."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from . import charts
from .disposition import inline

#: Media types a report may be asked for in ``Accept``, in the order they are preferred.
_ACCEPTED = (("text/csv", "csv"), (charts.SVG_MEDIA_TYPE, "svg"), (charts.PNG_MEDIA_TYPE, "png"), ("application/pdf", "pdf"))

#: The OpenAPI ``content`` entries of a chart.
CHART_CONTENT: dict[str, dict[str, Any]] = {
    charts.SVG_MEDIA_TYPE: {"schema": {"type": "string", "description": "An SVG chart (image/svg+xml) with a <title> and a <desc> giving its data."}},
    charts.PNG_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary", "description": "A PNG chart."}},
}


def wanted(request: Request, fmt: str | None, offered: tuple[str, ...]) -> str:
    """The format asked for: ``fmt`` when given, else the first ``offered`` one Accept names, else json."""
    if fmt is not None:
        return fmt
    accepted = {part.split(";")[0].strip().lower() for part in request.headers.get("accept", "").split(",")}
    return next((name for media, name in _ACCEPTED if media in accepted and name in offered), "json")


async def chart_response(chart: charts.Chart, fmt: str, filename: str) -> Response:
    """``chart`` drawn (off the event loop) as SVG (``fmt`` "svg") or PNG, named ``filename`` + its extension."""
    if fmt == "svg":
        body = await asyncio.to_thread(charts.svg, chart)
        return Response(body, media_type=charts.SVG_MEDIA_TYPE, headers={"Content-Disposition": inline(f"{filename}.svg")})
    body = await asyncio.to_thread(charts.png, chart)
    return Response(body, media_type=charts.PNG_MEDIA_TYPE, headers={"Content-Disposition": inline(f"{filename}.png")})
