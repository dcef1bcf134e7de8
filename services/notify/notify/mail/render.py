"""Emails from Jinja2 templates: each template is three files under ``notify/templates/``,
``<name>.subject.txt``, ``<name>.txt`` (the plain-text part) and ``<name>.html`` (the HTML part,
autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Templates:
    def __init__(self) -> None:
        loader = PackageLoader("notify", "templates")
        self._text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
        self._html = Environment(loader=loader, autoescape=select_autoescape(["html"]), undefined=StrictUndefined)

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        subject = self._text.get_template(f"{name}.subject.txt").render(context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self._text.get_template(f"{name}.txt").render(context),
            html=self._html.get_template(f"{name}.html").render(context),
        )
