"""`gfi-bot run`, `console`, `teams-package` and `check-directory`: serving the bot and preparing it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.channels.console import ConsoleClock, ConsoleSender, run_console
from bot.channels.graph import GraphChannel
from bot.cli.common import parse_now, run_main, say, settings_from
from bot.config import Settings
from bot.core import open_core
from bot.directory import Directory, DirectoryError, Role, load_directory


def cmd_check_directory(args: argparse.Namespace) -> int:
    """Validate a directory file; print every problem with its YAML path."""
    path = Path(args.file)
    try:
        directory = load_directory(path)
    except DirectoryError as exc:
        print(exc.report(), file=sys.stderr)
        print(say("directory_errors", count=len(exc.problems), path=path), file=sys.stderr)
        return 1
    print(say("directory_ok", path=path, principals=len(directory.principals), units=len(directory.units),
              people=len(directory.people)))
    return 0


async def _console(settings: Settings, person: str | None, now: datetime | None) -> int:
    clock = ConsoleClock(now)
    sender = ConsoleSender(sys.stdout)
    # never publishes its directory file (a console on an operator's machine): serves the store's newest (PostgreSQL)
    core = await open_core(settings, clock=clock, fallback=sender, publish_directory=False)
    graph = GraphChannel.from_settings(settings)
    if graph is not None:  # only the free/busy suggestions (/förslag): the console sends no e-mail or events
        graph.attach_suggestions(core)
    try:
        person_id = person or _default_person(core.directory)
        if core.directory.person(person_id) is None:
            print(say("unknown_person", person=repr(person_id), directory=settings.directory_path), file=sys.stderr)
            return 2
        await run_console(core, person_id, clock, sys.stdin, sys.stdout)
    finally:
        if graph is not None:
            await graph.close()
        await core.close()
    return 0


def _default_person(directory: Directory) -> str:
    """The first person who is plain staff (a social worker), for a console started without --as."""
    staff = [p.id for p in directory.people.values() if p.roles == (Role.STAFF,)]
    return staff[0] if staff else next(iter(directory.people))


def cmd_console(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = parse_now(args.now, settings.timezone)
    return run_main(lambda: _console(settings, args.as_person, now), lock=settings)


PUBLISHER_OPTIONS = {
    "name": ("--publisher", "TEAMS_PUBLISHER"), "website_url": ("--website-url", "TEAMS_WEBSITE_URL"),
    "privacy_url": ("--privacy-url", "TEAMS_PRIVACY_URL"), "terms_url": ("--terms-url", "TEAMS_TERMS_URL"),
}


def cmd_teams_package(args: argparse.Namespace) -> int:
    """Write the Teams app package (manifest.json and the two icons, zipped flat)."""
    from bot.channels.teams.package import Publisher, write_package

    settings = settings_from(args)
    app_id = args.app_id or settings.teams_app_id
    if not app_id:
        print(say("teams_app_id_missing"), file=sys.stderr)
        return 2
    publisher = Publisher(args.publisher or settings.teams_publisher or "",
                          args.website_url or settings.teams_website_url or "",
                          args.privacy_url or settings.teams_privacy_url or "",
                          args.terms_url or settings.teams_terms_url or "")
    bad = publisher.placeholders()
    if bad:
        for field in bad:
            print(say("teams_placeholder", option=PUBLISHER_OPTIONS[field][0], setting=PUBLISHER_OPTIONS[field][1],
                      value=repr(getattr(publisher, field))), file=sys.stderr)
        return 2
    write_package(Path(args.out), app_id=app_id, version=args.version, publisher=publisher)
    print(say("teams_package_written", path=args.out))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Serve Slack, Teams and/or Graph's link pages over HTTP when configured, else fall back to the console."""
    settings = settings_from(args)
    if not settings.serves_http:
        print(say("no_channel", directory=settings.directory_path, db=settings.db_path), file=sys.stderr)
        now = parse_now(args.now, settings.timezone)
        return run_main(lambda: _console(settings, args.as_person, now), lock=settings)
    from bot.channels.slack.server import serve
    from handlers.slack import register

    mounts: list[Callable[..., Any]] = []
    if settings.teams_configured:
        from handlers.teams import build

        mounts.append(lambda core, web_app: _attach_teams(build(core, settings), web_app))
    return run_main(lambda: serve(settings, tuple(mounts), register=register), lock=settings)


def _attach_teams(channel: Any, web_app: Any) -> Any:
    channel.attach(web_app)
    return channel
