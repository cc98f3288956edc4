"""`gfi-bot directory import|sync` (bot/directory/command.py), handed the cases' lost-access rule for the hand-over
(`bot.cases.leavers.stop_for_leavers`): the directory's modules do not import the cases."""

from __future__ import annotations

import argparse

from bot.cases import leavers
from bot.directory import command


def cmd_import(args: argparse.Namespace) -> int:
    return command.cmd_import(args, leavers.stop_for_leavers)


def cmd_sync(args: argparse.Namespace) -> int:
    return command.cmd_sync(args, leavers.stop_for_leavers)
