"""Where the bot's files are, without importing anything heavy (the command line reads this before it knows
which subcommand runs).

templates/ and deploy/ are beside bot/ in a source tree or an editable install. A non-editable install (a
wheel, the Docker image) carries them as data files in `<prefix>/share/gfi-bot`; GFI_HOME, when set, wins
over both (the folder that holds templates/ and deploy/).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent
INSTALLED_ROOT = Path(sys.prefix) / "share" / "gfi-bot"


def project_root(env: Mapping[str, str] = os.environ) -> Path:
    """GFI_HOME, else the source tree when it has the templates, else the install's share folder."""
    if env.get("GFI_HOME"):
        return Path(env["GFI_HOME"])
    if (SOURCE_ROOT / "templates" / "messages").is_dir() or not INSTALLED_ROOT.is_dir():
        return SOURCE_ROOT
    return INSTALLED_ROOT


PROJECT_ROOT = project_root()
TEMPLATE_DIR = PROJECT_ROOT / "templates" / "messages"
DEFAULT_DIRECTORY = PROJECT_ROOT / "deploy" / "directory.example.yaml"
