"""The command line of the directory: `gfi-bot directory import --csv FILE` and `gfi-bot directory sync --entra`
(the parser is in bot/cli/commands.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot import texts
from bot.clock import SystemClock
from bot.config import Settings
from bot.directory.csv_import import read_csv
from bot.directory.entra import EntraError, EntraReader, groups_of, read_group_map
from bot.directory.handover import LostReaders
from bot.directory.loading import load_directory
from bot.directory.lookup import Directory
from bot.directory.model import Channel, DirectoryError, DirectoryProblem
from bot.directory.update import Request, apply, say, served
from bot.graph_auth import build_credential
from bot.progress import Progress

DEFAULT_GRAPH = "https://graph.microsoft.com/v1.0"


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if args.db:
        settings.db_path = Path(args.db)
    if args.directory:
        settings.directory_path = Path(args.directory)
    return settings


def _request(args: argparse.Namespace, settings: Settings, how: str) -> Request:
    # --db names a SQLite file; without it, GFI_DATABASE_URL (PostgreSQL) is the store, as for `gfi-bot run`
    url = settings.database_url.get_secret_value() if settings.database_url is not None and not args.db else None
    return Request(directory_path=settings.directory_path, out=Path(args.out) if args.out else settings.directory_path,
                   db_path=settings.db_path, how=how, dry_run=args.dry_run, force=args.force,
                   default_channel=Channel(args.channel), database_url=url,
                   instance_id=settings.instance_id)


def _current(settings: Settings) -> Directory | None:
    try:
        return load_directory(settings.directory_path)
    except DirectoryError as exc:
        print(exc.report(), file=sys.stderr)
        print(texts_bad(settings.directory_path, len(exc.problems)), file=sys.stderr)
        return None


def texts_bad(path: Path, count: int) -> str:
    from bot import texts

    return texts.text("cli", "directory_errors", count=count, path=path)


def _report(source: Path | str, problems: list[DirectoryProblem]) -> None:
    for p in problems:
        print(f"{source}:{p.line}: {p}" if p.line else f"{source}: {p}", file=sys.stderr)
    print(say("source_problems", count=len(problems), source=source), file=sys.stderr)


def _start(args: argparse.Namespace, settings: Settings, how: str) -> tuple[Request, Directory] | int:
    """The request and the directory it starts from (on PostgreSQL the one being served), or the exit code."""
    local = _current(settings)
    if local is None:
        return 1
    request = _request(args, settings, how)
    current = asyncio.run(served(request, local, sys.stdout, sys.stderr))
    return current if isinstance(current, int) else (request, current)


def cmd_import(args: argparse.Namespace, lost_readers: LostReaders) -> int:
    settings = _settings(args)
    source = Path(args.csv)
    started = _start(args, settings, f"import --csv {source.name}")
    if isinstance(started, int):
        return started
    request, current = started
    people, scope, problems = read_csv(source, current.data)
    if problems:
        _report(source, problems)
        return 1
    return asyncio.run(apply(request, current, people, scope, SystemClock(), sys.stdout, sys.stderr,
                             lost_readers=lost_readers))


def cmd_sync(args: argparse.Namespace, lost_readers: LostReaders) -> int:
    settings = _settings(args)
    has_key = settings.graph_client_secret is not None or settings.graph_certificate_path is not None
    if not (settings.graph_tenant_id and settings.graph_client_id and has_key):
        print(say("entra_not_configured"), file=sys.stderr)
        return 2
    started = _start(args, settings, "sync --entra")
    if isinstance(started, int):
        return started
    request, current = started
    mapping = None
    if args.groups:
        try:
            mapping = read_group_map(Path(args.groups))
        except (OSError, ValueError):
            print(say("entra_bad_groups", path=args.groups), file=sys.stderr)
            return 2
    groups = groups_of(current.data, mapping)
    if not groups:
        print(say("entra_no_groups"), file=sys.stderr)
        return 2
    unknown = [u for u in groups.values() if u not in current.units]
    if unknown:
        print(say("entra_unknown_unit", unit=repr(unknown[0])), file=sys.stderr)
        return 2
    return asyncio.run(_sync(settings, request, current, groups, lost_readers))


async def _sync(settings: Settings, request: Request, current: Directory, groups: dict[str, str],
                lost_readers: LostReaders) -> int:
    api_url = (settings.graph_api_url or DEFAULT_GRAPH).rstrip("/")
    parts = urlsplit(api_url)
    scope = f"{parts.scheme}://{parts.netloc}/.default"
    credential = build_credential(settings)

    async def token() -> str:
        return (await credential.get_token(scope)).token

    progress = Progress(texts.text("cli", "entra_label"))  # on a terminal only
    progress.start()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(settings.graph_timeout)) as http:
            reader = EntraReader(http, token, api_url)
            try:
                people, scope_units = await reader.read(groups, progress.update)
            except EntraError as exc:
                progress.abandon()
                print(say("entra_failed", code=exc.code), file=sys.stderr)
                return 1
            except Exception as exc:  # the sign-in (azure-identity) failed
                progress.abandon()
                print(say("entra_failed", code=type(exc).__name__), file=sys.stderr)
                return 1
    finally:
        await credential.close()
    progress.finish()
    print(say("entra_read", people=len(people), groups=len(groups)))
    return await apply(request, current, people, scope_units, SystemClock(), sys.stdout, sys.stderr,
                       lost_readers=lost_readers)
