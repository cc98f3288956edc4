"""`gfi-bot directory import|sync` (bot/directory/command.py), with the cases' lost-access rule plugged into the
hand-over first (bot/cases/leavers.py): the directory's modules do not import the cases."""

from __future__ import annotations

import argparse

from bot.cases import leavers
from bot.directory import command


def cmd_import(args: argparse.Namespace) -> int:
    leavers.plug()
    return command.cmd_import(args)


def cmd_sync(args: argparse.Namespace) -> int:
    leavers.plug()
    return command.cmd_sync(args)
