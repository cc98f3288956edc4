"""GFI-boten installed non-editable, as the Docker image and a VM install it (issue #19 item 2): the wheel built
from the source, installed into a virtual environment of its own and run from a folder far from the source
tree. The texts, the example directory and every migration must come with it (the texts and deploy files as
data in <prefix>/share/gfi-bot), and GFI_HOME must still win when set.

The wheel is built once for the module without build isolation (offline, a few seconds); the libraries come
from the test environment through a .pth file, so nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "handlers", "templates", "deploy", "pyproject.toml", "README.md")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtual environment layout")


@dataclass
class Installed:
    venv: Path
    work: Path  # an empty folder to run in, outside the source tree

    @property
    def share(self) -> Path:
        return self.venv / "share" / "gfi-bot"

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_", "PYTHON"))}
        clean.pop("CREDENTIALS_DIRECTORY", None)
        clean.update({"GFI_DB_PATH": str(self.work / "gfi.sqlite3"), **env})
        return subprocess.run([str(self.venv / "bin" / "gfi-bot"), *args], cwd=self.work, env=clean, input=stdin,
                              capture_output=True, text=True, timeout=120, check=False)


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True,
                   capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in SOURCES:  # a copy: building writes build/ and *.egg-info beside the sources
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(base / "dist"), str(source))
    wheel = next((base / "dist").glob("gfi_bot-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the libraries of the test environment, after the venv's own site-packages (a path listed in a .pth file
    # is not itself scanned for .pth files, so the editable install of the source tree is not picked up)
    Path(purelib, "_test_libraries.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _pip("--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel))
    work = base / "work"
    work.mkdir()
    yield Installed(venv, work)


def test_the_installed_code_is_the_wheel_not_the_source_tree(installed: Installed) -> None:
    python = installed.venv / "bin" / "python"
    probe = "import bot, bot.paths; print(bot.__file__); print(bot.paths.PROJECT_ROOT)"
    where = subprocess.run([str(python), "-c", probe], cwd=installed.work, capture_output=True, text=True, check=True,
                           env={k: v for k, v in os.environ.items() if not k.startswith(("GFI_", "PYTHON"))})
    module, root = where.stdout.splitlines()
    assert Path(module).is_relative_to(installed.venv)
    assert Path(root) == installed.share
    assert sorted(p.name for p in (installed.share / "templates" / "messages").glob("*.j2")) == \
        sorted(p.name for p in (ROOT / "templates" / "messages").glob("*.j2"))
    assert (installed.share / "deploy" / "directory.example.yaml").is_file()


def test_version_help_and_the_example_directory(installed: Installed) -> None:
    version = installed.run("--version")
    assert version.returncode == 0 and version.stdout.startswith("gfi-bot "), version.stderr
    helped = installed.run("backup", "--help")
    assert helped.returncode == 0 and "säkerhetskopians fil" in helped.stdout
    checked = installed.run("check-directory", str(installed.share / "deploy" / "directory.example.yaml"))
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout


def test_a_refused_start_speaks_swedish_from_the_installed_texts(installed: Installed) -> None:
    refused = installed.run("run", SLACK_BOT_TOKEN="xoxb-1")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Slack är bara delvis inställt: SLACK_SIGNING_SECRET saknas."


def test_the_console_migrates_a_new_store_and_backup_copies_it(installed: Installed) -> None:
    console = installed.run("console", stdin="/hjälp\n")
    assert console.returncode == 0, console.stderr
    assert "Traceback" not in console.stderr
    assert "GFI-boten (konsol)" in console.stdout
    store = installed.work / "gfi.sqlite3"
    with sqlite3.connect(store) as conn:
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    assert applied == {version for version, _ in MIGRATIONS}
    copied = installed.run("backup", "--out", str(installed.work / "copy.sqlite3"))
    assert copied.returncode == 0, copied.stderr
    assert (installed.work / "copy.sqlite3").stat().st_mode & 0o777 == 0o600


def test_gfi_home_wins_over_the_installed_share(installed: Installed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(installed.share, home)
    shown = installed.run("check-config", GFI_HOME=str(home))
    assert "Traceback" not in shown.stderr
    assert str(home / "deploy" / "directory.example.yaml") in shown.stdout
    assert str(installed.share) not in shown.stdout
