"""The Swedish texts of the Graph channel (events, e-mail, link pages): templates/messages/graph_*.j2.

HTML templates (`*.html.j2`) are rendered with Jinja autoescape on; text templates without. The filters
(dates, names, units) are the core renderer's, so that e-mail reads like the other channels.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.rendering import TEMPLATE_DIR, Renderer


class GraphTemplates:
    """Renders `graph_*` templates with the core renderer's filters and labels."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATE_DIR)),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        )
        self.env.filters.update(renderer.env.filters)
        self.env.globals.update(renderer.env.globals)

    def render(self, name: str, **ctx: Any) -> str:
        """Render `templates/messages/<name>` (with its extension), stripped."""
        return self.env.get_template(name).render(**ctx).strip()
