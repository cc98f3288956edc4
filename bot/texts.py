"""Swedish texts for code that has no Renderer (the directory loader, the command line): a macro of a template
group in `templates/messages/`, rendered without the directory (so the directory itself can use it)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.paths import TEMPLATE_DIR


@functools.cache
def _env(template_dir: Path) -> Environment:
    return Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined, autoescape=False)


def text(group: str, name: str, /, template_dir: Path = TEMPLATE_DIR, **params: Any) -> str:
    """Call macro `name` of `<group>.j2` with `params` (those it does not take are left out), stripped."""
    macro = getattr(_env(template_dir).get_template(f"{group}.j2").module, name, None)
    if macro is None:
        raise KeyError(f"no macro {name!r} in {group}.j2")
    return str(macro(**{k: v for k, v in params.items() if k in macro.arguments})).strip()


def table(name: str, template_dir: Path = TEMPLATE_DIR) -> dict[str, str]:
    """A label table of `_labels.j2` (e.g. MAIL_LINKS) as a plain dict."""
    return {str(k): str(v) for k, v in getattr(_env(template_dir).get_template("_labels.j2").module, name).items()}
