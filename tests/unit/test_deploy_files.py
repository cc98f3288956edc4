"""The deploy files an IT department starts from: deploy/env.example lists every setting and nothing else,
the Dockerfile installs non-editable as a non-root user with a health check and no dev tools, the systemd
unit is hardened, and constraints.txt pins what scripts/setup, the Dockerfile and CI install."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"


def env_example_names() -> list[str]:
    lines = (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
    return [m[1] for line in lines if (m := re.match(r"^([A-Z][A-Z0-9_]*)=", line))]


def test_env_example_lists_every_setting_once() -> None:
    settings = {info.alias or name for name, info in Settings.model_fields.items()}
    listed = env_example_names()
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert sorted(settings - set(listed)) == [], "missing from deploy/env.example"
    assert sorted(set(listed) - settings) == [], "not a setting"


def test_the_example_env_starts_nothing_by_itself() -> None:
    """Copied as it is, every secret is empty (empty counts as unset)."""
    values = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
                  if re.match(r"^[A-Z]", line))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_PASSWORD", "GRAPH_CLIENT_SECRET",
                 "GFI_LINK_SECRET"):
        assert values[name] == ""


def test_dockerfile_non_editable_non_root_with_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all("-e " not in line and "[dev]" not in line for line in installs)
    assert all("-c constraints.txt" in line for line in installs)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "GFI_HTTP_PORT" in text.split("HEALTHCHECK", 1)[1]


def test_systemd_unit_is_hardened() -> None:
    unit = (DEPLOY / "gfi-bot.service").read_text(encoding="utf-8")
    for line in ("UMask=0077", "StateDirectoryMode=0700", "NoNewPrivileges=true", "ProtectSystem=strict",
                 "ProtectHome=true", "PrivateTmp=true", "CapabilityBoundingSet=", "RestrictAddressFamilies="):
        assert re.search(rf"^{re.escape(line)}", unit, re.MULTILINE), line


def test_setup_and_dockerfile_use_the_constraints() -> None:
    assert "-c constraints.txt" in (PROJECT_ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    pins = [line for line in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^\s]+", pin) for pin in pins)
    names = {pin.split("==")[0].lower().replace("_", "-") for pin in pins}
    assert {"slack-bolt", "prometheus-client", "microsoft-agents-hosting-core"} <= names


def test_compose_file_names_the_dockerfile_and_a_volume() -> None:
    compose = Path(DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "dockerfile: deploy/Dockerfile" in compose and "/data" in compose


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2]) for line in joined.splitlines() if (m := re.match(r"^\s*([A-Za-z]+)\s+(.*)$", line))]


def test_dockerfile_copies_what_exists_and_the_context_keeps() -> None:
    """Every COPY from the build context names a file or folder of the repository that .dockerignore lets in
    (the image was built with buildah once; this keeps a renamed path from breaking the next build)."""
    root = Path(__file__).resolve().parents[2]
    kept = {line[1:].strip() for line in (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
            if line.startswith("!")}
    sources = [part for op, args in _dockerfile_instructions() if op == "COPY" and "--from=" not in args
               for part in args.split()[:-1]]
    assert sources
    for source in sources:
        assert (root / source).exists(), source
        assert source.rstrip("/") in kept, f"{source} is left out of the build context by .dockerignore"
    assert {"templates", "deploy"} <= set(sources)  # the wheel's data: the texts and the example directory


def test_dockerfile_runs_a_real_subcommand() -> None:
    from bot.cli import build_parser

    commands = [args for op, args in _dockerfile_instructions() if op in ("CMD", "ENTRYPOINT")]
    assert len(commands) == 1
    argv = json.loads(commands[0])
    assert argv[0] == "gfi-bot"
    build_parser().parse_args(argv[1:])  # an unknown subcommand or option exits 2


def _required_closure() -> set[str]:
    """Every distribution gfi-bot[dev] needs on this Python, following the installed metadata."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    visited: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("gfi-bot", frozenset({"dev"}))]
    while todo:
        name, extras = todo.pop()
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker is not None and not any(requirement.marker.evaluate(e) for e in environments):
                continue
            node = (str(canonicalize_name(requirement.name)), frozenset(requirement.extras))
            if node not in visited:
                visited.add(node)
                todo.append(node)
    return {name for name, _ in visited}


def test_constraints_pin_what_is_required_and_nothing_else() -> None:
    """scripts/lock resolves afresh: a library the project no longer needs (aiosqlite, once) is not pinned, and
    every library it needs is."""
    from packaging.utils import canonicalize_name

    pinned = {canonicalize_name(line.split("==")[0])
              for line in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#")}
    required = _required_closure() - {"pip", "setuptools", "wheel"}
    assert pinned - required == set(), "pinned but not required: run scripts/lock"
    assert required - pinned == set(), "required but not pinned: run scripts/lock"
