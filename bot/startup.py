"""Why the bot cannot start: one Swedish line for the operator (texts in `templates/messages/startup.j2`).

A `StartupError` is raised where the problem is found (the store, its lock, the HTTP port); `gfi-bot`
prints `describe(error)` on stderr and exits non-zero at once, so a supervisor sees the failure and
restarts or alerts instead of watching a process that hangs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.paths import TEMPLATE_DIR

EXIT_CODE = 1


class StartupError(Exception):
    """The bot cannot start; `code` names a macro in startup.j2, `params` are its arguments."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def describe(error: StartupError, template_dir: Path = TEMPLATE_DIR) -> str:
    """The operator's one-line Swedish explanation of `error`."""
    env = Environment(loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined, autoescape=False)
    module = env.get_template("startup.j2").module
    macro = getattr(module, error.code)
    accepted = {k: v for k, v in error.params.items() if k in macro.arguments}
    return " ".join(str(macro(**accepted)).split())
